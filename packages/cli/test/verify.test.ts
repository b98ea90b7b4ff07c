/**
 * What `course verify` shows when the learner's code fails: a stray error, a type error, and the
 * same short report from vitest run in a lesson's folder.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCommand } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { copyOfCourse, course, exerciseFile } from './course-copy.ts';

describe('course verify', () => {
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
});
