/** runLessonTests(): each run tests the target it was given, however many run at once. */
import { join } from 'node:path';
import { startCommand } from '@course/helpers';
import { ROOT } from '@course/model/lessons';
import { expect, test } from 'vitest';

test('runs at once in one process each test their own target, whatever COURSE_TARGET says', async () => {
  // The course check runs a lesson's solution, starter and mistakes side by side in one process:
  // a run that took its target from the process would pass a mistake as the solution.
  const script = `
    import { runLessonTests } from '@course/cli/run-tests';
    import { findLesson } from '@course/model/lessons';
    const lesson = findLesson('01');
    const options = {
      testNamePattern: /a reply of exactly maxBytes is not too long/,
      files: [${JSON.stringify(join(ROOT, 'lessons/01-tcp-client/test/client.test.ts'))}],
    };
    const targets = ['solution', 'mistake:client.limit-off-by-one', 'exercise'];
    const runs = await Promise.all(targets.map((target) => runLessonTests([lesson], target, options)));
    console.log(JSON.stringify(runs.map(([r]) => ({ passed: r.passed, failed: r.failed.length }))));`;
  // Its exit code is vitest's: 1, since two of the runs fail.
  const { stdout, stderr } = await startCommand(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: ROOT, env: { COURSE_TARGET: 'solution' } },
  ).exit(60_000);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  expect(last.startsWith('[') ? JSON.parse(last) : `${stdout}\n${stderr}`).toEqual([
    { passed: 1, failed: 0 },
    { passed: 0, failed: 1 },
    { passed: 0, failed: 1 },
  ]);
});
