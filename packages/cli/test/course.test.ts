/** The course's commands besides verify: status, hint, reset, lang, solution, run; in Chinese too. */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { startCommand } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { copyOfCourse, course, exerciseFile, solve01 } from './course-copy.ts';

describe('course', () => {
  test('a new learner sees every lesson not started, and lesson 01 as next', async () => {
    const dir = await copyOfCourse();
    const result = await course(dir, []);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/· 01 +A TCP client in five steps +not started/);
    expect(result.stdout).toContain('Next: lesson 01 · A TCP client in five steps');
    expect(result.stdout).toContain('npm run course -- verify 01');
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
});
