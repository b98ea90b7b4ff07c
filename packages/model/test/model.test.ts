/** The course model: steps, and a lesson's state from its files and its last run. */
import { findLesson, type LessonInfo, listLessons } from '@course/model/lessons';
import { describeState, type Progress, recordRun, stateOf } from '@course/model/progress';
import { fillSteps, regionsOf, stepCount, stepOf, stepsUpTo } from '@course/model/steps';
import { describe, expect, test } from 'vitest';

describe('steps', () => {
  test('stepsUpTo(k) matches the full names of the tests of steps 1..k, as vitest writes them', () => {
    const upTo5 = stepsUpTo(5);
    const names = {
      ' step 1: the socket answers': true,
      'step 5: backpressure a client that never reads': true,
      'steps 4, 5: both': true,
      'step 6: later': false,
      'steps 5 and 6: a group of step 6': false,
      'steps 4, 5 and 6: also step 6': false,
      'step 15: not step 1 nor 5': false,
    };
    for (const [name, matches] of Object.entries(names)) {
      expect(upTo5.test(name), name).toBe(matches);
      if (matches) expect(stepOf(name.trim()), name).toBeLessThanOrEqual(5);
    }
  });

  test('a test belongs to the step its group names; a group of two steps to the later one', () => {
    expect(stepOf('step 3: a reply › is whole')).toBe(3);
    expect(stepOf('steps 2 and 3: send › and receive')).toBe(3);
    expect(stepOf('the programs: server.ts › --help')).toBeUndefined();
    expect(stepOf('other clients: step 2 is not a group')).toBeUndefined();
  });

  test('every lesson counts its steps from its tests', () => {
    for (const lesson of listLessons()) expect(stepCount(lesson), lesson.id).toBeGreaterThanOrEqual(3);
  });

  test('fillSteps takes the first k regions from the solution and keeps the rest of the starter', () => {
    const region = (n: number, body: string) => `// region step-${n}\n${body}\n// endregion step-${n}\n`;
    const starter = `head\n${region(1, 'todo 1')}${region(2, 'todo 2')}tail\n`;
    const solution = `head\n${region(1, 'done 1')}${region(2, 'done 2')}tail\n`;
    expect(regionsOf(starter)).toEqual([1, 2]);
    expect(fillSteps(starter, solution, 0)).toBe(starter);
    expect(fillSteps(starter, solution, 1)).toBe(`head\n${region(1, 'done 1')}${region(2, 'todo 2')}tail\n`);
    expect(fillSteps(starter, solution, 2)).toBe(solution);
  });
});

describe("a lesson's state", () => {
  const lesson = findLesson('05') as LessonInfo;
  const edited = () => false;
  const run = (failed: string[], compileError?: string): Progress => {
    const progress: Progress = { version: 1, lessons: {} };
    recordRun(progress, lesson, { passed: 10 - failed.length, total: 10, failed, compileError });
    return progress;
  };

  test('untouched files are not started, whatever the record says (after a reset, say)', () => {
    const done = run([]);
    expect(stateOf(done, lesson, edited)).toBe('done');
    expect(stateOf(done, lesson, () => true)).toBe('not started');
  });

  test('in progress names the step of the first failing test, of the lesson’s steps', () => {
    const progress = run(['step 3: answer › to its sender', 'step 2: bind › a port']);
    expect(stateOf(progress, lesson, edited)).toBe('in progress');
    expect(describeState(progress, lesson, 'in progress')).toBe(
      `in progress, step 2 of ${stepCount(lesson)}`,
    );
  });

  test('code that does not compile says so, with the place, and is never done', () => {
    const progress = run([], "exercise/server.ts:12 ';' expected.");
    expect(stateOf(progress, lesson, edited)).toBe('does not compile');
    expect(describeState(progress, lesson, 'does not compile')).toBe(
      "does not compile: exercise/server.ts:12 ';' expected.",
    );
  });
});
