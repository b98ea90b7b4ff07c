/**
 * The learner's progress as verify and watch keep it: a lesson done, the step reached, code that
 * does not compile, a reset.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { startCommand } from '@course/helpers';
import { fillSteps } from '@course/model/steps';
import { describe, expect, test } from 'vitest';
import { copyOfCourse, course, exerciseFile, solutionFile, solve01 } from './course-copy.ts';

describe('course progress', () => {
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
