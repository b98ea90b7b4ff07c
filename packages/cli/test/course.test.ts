/**
 * The course command as a learner uses it: run as a child process in a temporary copy of the
 * course (lessons 01 and 02, a git repository of its own, node_modules shared by symlinks).
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { closeAfterTest, startCommand } from '@course/helpers';
import { ROOT } from '@course/model/lessons';
import { fillSteps } from '@course/model/steps';
import { describe, expect, test } from 'vitest';

const LESSONS = ['01-tcp-client', '02-tcp-server'];

/** A fresh copy of the course, as a learner's clone: starters kept, one commit, no progress. */
async function copyOfCourse(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'course-'));
  closeAfterTest(() => rmSync(dir, { recursive: true, force: true }));
  const skip = /[\\/](node_modules|\.turbo|\.check|dist|test-results)([\\/]|$)/;
  for (const path of ['package.json', 'vitest.config.ts', 'packages', 'scripts']) {
    cpSync(join(ROOT, path), join(dir, path), { recursive: true, filter: (src) => !skip.test(src) });
  }
  for (const lesson of LESSONS) {
    cpSync(join(ROOT, 'lessons', lesson), join(dir, 'lessons', lesson), {
      recursive: true,
      filter: (src) => !skip.test(src),
    });
  }
  // node_modules shared, except the course's own packages: those are the copy's.
  mkdirSync(join(dir, 'node_modules', '@course'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules')).filter((n) => n !== '@course'))
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  for (const name of readdirSync(join(ROOT, 'node_modules', '@course'))) {
    const target = relative(ROOT, realpathSync(join(ROOT, 'node_modules', '@course', name)));
    if (existsSync(join(dir, target)))
      symlinkSync(join(dir, target), join(dir, 'node_modules', '@course', name));
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=learner', '-c', 'user.email=learner@example.com', 'commit', '-qm', 'the course');
  await course(dir, ['snapshot']); // what `npm install` does
  return dir;
}

/** Runs `course ...args` in `dir` to its end. */
/**
 * Runs the course command to its end. A liveness bound: a verify runs a whole lesson's tests,
 * which CI's busy machine (all lessons checked at once) makes several times slower.
 */
function course(dir: string, args: string[], ms = 60_000, env: NodeJS.ProcessEnv = {}) {
  return startCommand(process.execPath, [join(dir, 'packages/cli/bin/course.mjs'), ...args], {
    cwd: dir,
    env: { COURSE_TARGET: '', ...env },
  }).exit(ms);
}

const exerciseFile = (dir: string) => join(dir, 'lessons/01-tcp-client/exercise/client.ts');
const solutionFile = (dir: string) => join(dir, 'lessons/01-tcp-client/solution/client.ts');
const solve01 = (dir: string) => writeFileSync(exerciseFile(dir), readFileSync(solutionFile(dir), 'utf8'));

describe('course', () => {
  test('a new learner sees every lesson not started, and lesson 01 as next', async () => {
    const dir = await copyOfCourse();
    const result = await course(dir, []);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/· 01 +A TCP client in five steps +not started/);
    expect(result.stdout).toContain('Next: lesson 01 · A TCP client in five steps');
    expect(result.stdout).toContain('npm run course -- verify 01');
  });

  test('verify fails on the starter with the first failure explained, then marks a solved lesson done', async () => {
    const dir = await copyOfCourse();
    const red = await course(dir, ['verify', '01']);
    expect(red.code).toBe(1);
    expect(red.stdout).toMatch(/ \d+\/\d+ passing/);
    expect(red.stdout).not.toMatch(/ (\d+)\/\1 passing/);
    expect(red.stdout, 'the first failure names the step to do').toContain('TODO(1): ');
    expect(red.stdout).toContain('npm run course -- hint 01');

    solve01(dir);
    const green = await course(dir, ['verify', 'tcp-client']);
    expect(green.code).toBe(0);
    expect(green.stdout).toContain('Lesson 01 is done.');
    expect(green.stdout).toContain('Next: lesson 02 · A TCP server in seven steps');
    const status = await course(dir, []);
    expect(status.stdout).toMatch(/✓ 01 +A TCP client in five steps +done/);
    expect(status.stdout).toContain('Next: lesson 02');
  });

  test("vitest run in a lesson's folder prints the course's short report, a shared failure once", async () => {
    const dir = await copyOfCourse();
    const vitest = join(dir, 'node_modules', 'vitest', 'vitest.mjs');
    const result = await startCommand(process.execPath, [vitest, 'run'], {
      cwd: join(dir, 'lessons/01-tcp-client'),
      env: { COURSE_TARGET: '' },
    }).exit(60_000);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Sockets, by hand: tests against exercise/');
    expect(result.stdout).toMatch(/✗ 01-tcp-client +\d+\/\d+ passing/);
    expect(
      result.stdout.split('TODO(1): connect').length - 1,
      'the tests stopped at TODO(1), named above it once',
    ).toBe(1);
    expect(result.stdout, 'not vitest’s own report').not.toContain('FAIL');
    expect(result.stdout.length, 'a screen or two, not every stack').toBeLessThan(4096);
  });

  test("an 'error' nobody listens to is shown once, with its count, the test it escaped and the hint", async () => {
    const dir = await copyOfCourse();
    const exercise = join(dir, 'lessons/02-tcp-server/exercise/server.ts');
    const starter = await course(dir, ['verify', '02']);
    const tests = Number(/\d+\/(\d+) passing/.exec(starter.stdout)?.[1]);
    // The solution without the connections' 'error' listener: a client's reset escapes every test.
    const solution = readFileSync(join(dir, 'lessons/02-tcp-server/solution/server.ts'), 'utf8');
    expect(solution).toContain("socket.on('error',");
    writeFileSync(exercise, solution.replace("socket.on('error',", "socket.on('unheard',"));
    const result = await course(dir, ['verify', '02']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/an error no code handled \(during step \d+: [^)]+\)/);
    expect(result.stdout).toContain('ECONNRESET');
    expect(result.stdout).toContain("an 'error' listener");
    expect(result.stdout).not.toContain('the tests do not load');
    const [, passed, total] = /(\d+)\/(\d+) passing/.exec(result.stdout) ?? [];
    expect(Number(total), 'the counts are tests, not tests and errors').toBe(tests);
    const progress = JSON.parse(readFileSync(join(dir, '.course-progress.json'), 'utf8'));
    // Tests skipped for a missing tool (python3) are not the learner's to pass.
    const skipped = Number(/(\d+) skipped/.exec(result.stdout)?.[1] ?? 0);
    expect(progress.lessons['02-tcp-server']).toMatchObject({
      passed: Number(passed),
      total: tests - skipped,
    });
  });

  test('with COURSE_LANG=zh-CN it speaks Chinese, with the lesson’s Chinese title and hints', async () => {
    const dir = await copyOfCourse();
    const zh = { COURSE_LANG: 'zh-CN' };
    const meta = JSON.parse(readFileSync(join(dir, 'lessons/01-tcp-client/lesson.json'), 'utf8'));
    const { title, hints } = meta.translations['zh-CN'];
    const status = await course(dir, [], 60_000, zh);
    expect(status.stdout).toContain('你的进度');
    const line = status.stdout.split('\n').find((l) => l.includes('· 01 ')) ?? '';
    expect(line).toContain(title);
    expect(line).toMatch(/未开始$/);
    expect(status.stdout).toContain(`下一课：第 01 课 · ${title}`);
    const hint = await course(dir, ['hint', '01'], 60_000, zh);
    expect(hint.stdout).toContain(`第 1 步，提示 1/${hints[0].hints.length}`);
    expect(stripVTControlCharacters(hint.stdout)).toContain(hints[0].hints[0]);
    const red = await course(dir, ['verify', '01'], 60_000, zh);
    expect(red.code).toBe(1);
    expect(red.stdout).toMatch(/ \d+\/\d+ 通过/);
    expect(red.stdout).toContain('卡住了？');
  });

  test('a type error in the learner’s code is shown first', async () => {
    const dir = await copyOfCourse();
    writeFileSync(
      exerciseFile(dir),
      `${readFileSync(exerciseFile(dir), 'utf8')}\nexport const oops: number = 'text';\n`,
    );
    const result = await course(dir, ['verify', '1']);
    expect(result.stdout).toContain('Your code does not compile yet:');
    expect(result.stdout).toMatch(/exercise\/client\.ts\(\d+,\d+\): error TS2322/);
  });

  test("the state follows the learner's files: the step reached, code that does not compile, a reset", async () => {
    const dir = await copyOfCourse();
    const starter = readFileSync(exerciseFile(dir), 'utf8');
    const status = async () =>
      stripVTControlCharacters((await course(dir, [])).stdout)
        .split('\n')
        .find((l) => / 01 /.test(l)) ?? '';
    writeFileSync(exerciseFile(dir), fillSteps(starter, readFileSync(solutionFile(dir), 'utf8'), 1));
    expect(await status(), 'edited, never run').toMatch(/◐ 01 .* in progress$/);
    expect((await course(dir, ['verify', '01'])).code).toBe(1);
    expect(await status()).toMatch(/◐ 01 .* in progress, step 2 of 5$/);
    expect((await course(dir, ['hint', '01'])).stdout, 'the hint is for the step reached').toContain(
      'Step 2, hint 1 of',
    );

    writeFileSync(exerciseFile(dir), `${starter}\nexport const broken = ;\n`);
    const broken = await course(dir, ['verify', '01']);
    expect(broken.code).toBe(1);
    expect(await status()).toMatch(
      /✗ 01 .* does not compile: exercise\/client\.ts:\d+ Expression expected\.$/,
    );

    expect((await course(dir, ['reset', '01', '--yes'])).code).toBe(0);
    expect(await status(), 'a reset starts the lesson again').toMatch(/· 01 .* not started$/);
  });

  test("hints come one at a time, for the learner's step, and are remembered", async () => {
    const dir = await copyOfCourse();
    const hints: string[] = JSON.parse(
      readFileSync(join(dir, 'lessons/01-tcp-client/lesson.json'), 'utf8'),
    ).hints.find((h: { step: number }) => h.step === 1).hints;
    const shown = [];
    for (const _ of hints) shown.push(stripVTControlCharacters((await course(dir, ['hint', '01'])).stdout));
    expect(shown[0]).toContain(`Step 1, hint 1 of ${hints.length}`);
    expect(shown[0]).toContain('Run it again for hint 2 of step 1.');
    expect(shown[0], 'the first hint, whole').toContain(hints[0]);
    const last = shown.at(-1) ?? '';
    expect(last).toContain(`Step 1, hint ${hints.length} of ${hints.length}`);
    expect(last, 'inline code keeps its backticks').toMatch(/`[^`]+`/);
    expect(last).toContain("That was step 1's last hint.");
    const progress = JSON.parse(readFileSync(join(dir, '.course-progress.json'), 'utf8'));
    expect(progress.lessons['01-tcp-client'].hintsShown).toEqual({ 1: hints.length });
  });

  test('reset brings the starter back after the learner committed, from the kept copy or from git', async () => {
    const dir = await copyOfCourse();
    const starter = readFileSync(exerciseFile(dir), 'utf8');
    solve01(dir);
    execFileSync(
      'git',
      ['-c', 'user.name=l', '-c', 'user.email=l@example.com', 'commit', '-qam', 'solved 01'],
      {
        cwd: dir,
      },
    );
    const asks = await course(dir, ['reset', '01']);
    expect(asks.code, 'without a terminal it must not overwrite without --yes').toBe(2);
    expect(asks.stderr).toContain('--yes');
    expect(readFileSync(exerciseFile(dir), 'utf8')).not.toBe(starter);

    expect((await course(dir, ['reset', '01', '--yes'])).code).toBe(0);
    expect(readFileSync(exerciseFile(dir), 'utf8')).toBe(starter);

    solve01(dir);
    rmSync(join(dir, '.course'), { recursive: true }); // no kept copy: git is the source
    expect((await course(dir, ['reset', '01', '--yes'])).code).toBe(0);
    expect(readFileSync(exerciseFile(dir), 'utf8')).toBe(starter);
  });

  test("`course lang zh-CN` writes the untouched starters' comments in Chinese, keeps the learner's work, and reset follows it", async () => {
    const dir = await copyOfCourse();
    const english = readFileSync(exerciseFile(dir), 'utf8');
    const catalogue = JSON.parse(
      readFileSync(join(dir, 'lessons/01-tcp-client/exercise.zh-CN.json'), 'utf8'),
    );
    const chinese = (catalogue['client.ts'] as { zh: string }[])[0]?.zh.split('\n')[0] as string;
    const server02 = join(dir, 'lessons/02-tcp-server/exercise/server.ts');
    writeFileSync(server02, `${readFileSync(server02, 'utf8')}\n// my work\n`);
    // COURSE_LANG unset: the saved choice decides.
    const chosen = await course(dir, ['lang', 'zh-CN'], 60_000, { COURSE_LANG: '' });
    expect(chosen.code).toBe(0);
    expect(chosen.stdout).toContain('第 01 课的起始代码，注释已换成简体中文');
    expect(chosen.stdout).toContain('第 02 课是你改过的代码，保持不变');
    const starter = readFileSync(exerciseFile(dir), 'utf8');
    expect(starter).toContain(chinese);
    expect(readFileSync(server02, 'utf8')).toContain('// my work');
    const status = await course(dir, [], 60_000, { COURSE_LANG: '' });
    expect(status.stdout, 'a Chinese starter is a starter: not started').toMatch(/· 01 .*未开始/);

    solve01(dir);
    expect((await course(dir, ['reset', '01', '--yes'], 60_000, { COURSE_LANG: '' })).code).toBe(0);
    expect(readFileSync(exerciseFile(dir), 'utf8'), 'reset puts back the Chinese starter').toBe(starter);

    expect((await course(dir, ['lang', 'en'], 60_000, { COURSE_LANG: '' })).code).toBe(0);
    expect(readFileSync(exerciseFile(dir), 'utf8')).toBe(english);
    expect((await course(dir, ['lang', 'fr'])).stderr).toContain("there is no language 'fr'");
  });

  test('an unknown lesson suggests the closest ones; a corrupt progress file is replaced with a warning', async () => {
    const dir = await copyOfCourse();
    const unknown = await course(dir, ['verify', 'tcp-clinet']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("course: there is no lesson 'tcp-clinet': did you mean 01 (tcp-client)?\n");

    writeFileSync(join(dir, '.course-progress.json'), '{ not json');
    const hint = await course(dir, ['hint', '02']);
    expect(hint.code).toBe(0);
    expect(hint.stderr).toContain('could not be read');
    expect(
      JSON.parse(readFileSync(join(dir, '.course-progress.json'), 'utf8')).lessons['02-tcp-server'],
    ).toEqual({
      hintsShown: { 1: 1 },
    });
  });

  test('solution shows the difference after --yes; run starts a lesson program', async () => {
    const dir = await copyOfCourse();
    const diff = await course(dir, ['solution', '01', '--yes']);
    expect(diff.stdout).toContain('+++ lessons/01-tcp-client/solution/client.ts');
    expect(diff.stdout).toMatch(/^\+\s+return net\.connect\(\{ host, port \}\);$/m);

    const server = startCommand(
      process.execPath,
      [join(dir, 'packages/cli/bin/course.mjs'), 'run', '02', 'server', '--solution', '--port', '0'],
      { cwd: dir },
    );
    await server.listening(10_000);
    expect((await server.stop('SIGINT', 5_000)).code).toBe(0);
  });

  test('watch re-runs on a save and moves on when the lesson passes', async () => {
    const dir = await copyOfCourse();
    const watching = startCommand(process.execPath, [join(dir, 'packages/cli/bin/course.mjs'), 'watch'], {
      cwd: dir,
      env: { COURSE_TARGET: '' },
    });
    await watching.waitForLine(/watching lessons\/01-tcp-client/, 'the first run of lesson 01', {
      ms: 60_000,
    });
    solve01(dir);
    const line = await watching.waitForLine(/re-ran \d+ ms after the save/, 'a re-run after the save', {
      ms: 60_000,
    });
    expect(line, 'a save re-runs all the lesson’s tests, the counts are the lesson’s').toMatch(/re-ran/);
    // A test that needs python3 is skipped where there is none, and the lesson is done all the same.
    const counts = await watching.waitForLine(
      /✓ 01-tcp-client +\d+\/\d+ passing/,
      'every test of lesson 01 to pass, counted',
      { ms: 5_000 },
    );
    const [, passed, total, skipped = '0'] = / (\d+)\/(\d+) passing(?:, (\d+) skipped)?/.exec(counts) ?? [];
    expect(Number(passed) + Number(skipped), 'every test that ran passed').toBe(Number(total));
    await watching.waitForLine(/Lesson 01 is done/, 'lesson 01 to pass', { ms: 5_000 });
    await watching.waitForLine(/On to lesson 02/, 'the move to lesson 02', { ms: 5_000 });
    const ms = Number(/re-ran (\d+) ms/.exec(line)?.[1]);
    const tests = Number(/the tests themselves (\d+) ms/.exec(line)?.[1]);
    console.log(`course watch: re-run ${ms} ms after the save, of which the tests ${tests} ms`);
    // How fast is `npm run bench`'s to measure, on a quiet machine; under CI's load only the
    // report's own arithmetic is checked: the tests run inside the re-run.
    expect(tests, 'the re-run line reports the tests’ own time').toBeGreaterThan(0);
    expect(ms, 'the re-run includes the tests').toBeGreaterThanOrEqual(tests);
    expect((await watching.stop('SIGINT', 10_000)).code).toBe(0);
  });
});
