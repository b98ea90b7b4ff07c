/** How failures read, and which lesson comes next: the pure parts of the course's reports. */

import { type LessonInfo, listLessons } from '@course/model/lessons';
import { nextLesson, type Progress } from '@course/model/progress';
import { describe, expect, test } from 'vitest';
import { failuresToShow, skippedWhy, testName } from '../src/report.ts';
import { errorText, type LessonResult, runSummary, strayHint } from '../src/run-tests.ts';

describe('a run as progress', () => {
  test('a test skipped for a missing tool (python3) does not keep the lesson from being done', () => {
    const [lesson] = listLessons() as [LessonInfo];
    const result: LessonResult = {
      lesson,
      passed: 22,
      failed: [],
      skipped: ['other servers: Python › a Python server (needs python3)'],
      total: 23,
      loadErrors: [],
      stray: [],
      testsByFile: {},
    };
    expect(runSummary(result)).toMatchObject({ passed: 22, total: 22, failed: [] });
  });
});

describe('failure text', () => {
  test("only the failing tests of the learner's step are explained; a later step's are counted", () => {
    const failed = [
      'step 1: connect › a',
      'step 1: connect › b',
      'step 1: connect › c',
      'step 3: read › d',
      'the program: client.ts › e',
    ].map((name) => ({ name, message: `${name} failed` }));
    const names = (shown: number) => {
      const { explained, moreThisStep, later } = failuresToShow(failed, shown);
      return [explained.map((f) => f.name.slice(-1)).join(''), moreThisStep, later];
    };
    expect(names(12)).toEqual(['abc', 0, 2]);
    expect(names(2), 'at most `shown`, the rest of the step counted').toEqual(['ab', 1, 2]);
    // Once every step passes, the program's tests (they name no step) are the learner's.
    expect(failuresToShow(failed.slice(4), 12).explained.map((f) => f.name)).toEqual([
      'the program: client.ts › e',
    ]);
    expect(failuresToShow([], 12)).toEqual({ explained: [], moreThisStep: 0, later: 0 });
  });

  test("vitest's time-out advice is replaced by what it means for the learner's code", () => {
    const text = errorText({
      message:
        'Test timed out in 30000ms.\nIf this is a long-running test, pass a timeout value as the last argument or configure it globally with "testTimeout".',
    });
    expect(text).not.toContain('pass a timeout value');
    expect(text).toContain('waited 30 s for something that never happened');
    expect(text).toContain('hint:');
  });

  test('an error outside any test gets the hint for its kind: no listener, a throw, a lost promise', () => {
    const reset = { name: 'Error', message: 'read ECONNRESET', type: 'Uncaught Exception' };
    expect(strayHint(reset)).toContain("'error' listener");
    const thrown = { name: 'LineTooLongError', message: 'line too long', type: 'Uncaught Exception' };
    expect(strayHint(thrown)).toContain('inside an event listener');
    const lost = { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:1', type: 'Unhandled Rejection' };
    expect(strayHint(lost), 'a rejected promise is not fixed by an error listener').toContain('.catch()');
    expect(strayHint(lost)).not.toContain("'error' listener");
  });

  test('a huge message is cut to about 4 KB, keeping its end (the repro line)', () => {
    const text = errorText({
      message: `gave up\n${'x'.repeat(100_000)}\n  try it yourself:\n    nc 127.0.0.1 9000`,
    });
    expect(text.length).toBeLessThan(4_200);
    expect(text).toMatch(/^gave up/);
    expect(text).toContain('characters left out');
    expect(text).toMatch(/nc 127\.0\.0\.1 9000$/);
  });

  test('a diff of strings that differ in an invisible character spells both out', () => {
    const text = errorText({
      message: 'expected',
      diff: '- hello\n+ hello',
      actual: 'hello\r',
      expected: 'hello',
    });
    expect(text).toContain('received "hello\\r"');
  });

  test('colour codes are removed when colours are off', () => {
    const saved = process.env.NO_COLOR;
    process.env.NO_COLOR = '1';
    try {
      expect(errorText({ message: 'x', diff: '\u001b[32m- Expected\u001b[39m' })).toBe('x\n- Expected');
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });
});

describe('skipped tests', () => {
  test('say once why they were not run', () => {
    expect(
      skippedWhy([
        'interop › a Python client gets the reply (needs python3)',
        'interop › Python sends a file (needs python3)',
        'interop › curl fetches the page (needs curl)',
      ]),
    ).toEqual([
      'not run: 2 tests that need python3, not found on this machine',
      'not run: 1 test that needs curl, not found on this machine',
    ]);
  });
});

describe('the next lesson', () => {
  const lessons = listLessons();
  const [first, second, third, fourth] = lessons as [LessonInfo, LessonInfo, LessonInfo, LessonInfo];
  const progress = (entries: Progress['lessons']): Progress => ({ version: 1, lessons: entries });
  // Every lesson's files edited: the state then comes from the record alone.
  const next = (p: Progress) => nextLesson(p, lessons, () => false);

  test('a new learner starts at the first lesson', () => {
    expect(nextLesson(progress({}), lessons)?.id).toBe(first.id);
  });

  test('the lesson the learner works on, not the first one left unfinished', () => {
    const p = progress({
      [second.id]: { done: true, lastRun: '2026-01-01T10:00:00Z' },
      [third.id]: { passed: 3, total: 10, lastRun: '2026-01-01T11:00:00Z' },
    });
    expect(next(p)?.id).toBe(third.id);
  });

  test('after a lesson is done, the one after it (and the first gap only at the end)', () => {
    const p = progress({ [third.id]: { done: true, lastRun: '2026-01-01T11:00:00Z' } });
    expect(next(p)?.id).toBe(fourth.id);
    const rest = Object.fromEntries(
      lessons
        .slice(1)
        .map((l) => [l.id, { done: true, lastRun: `2026-01-01T1${(l.meta.order ?? 0) % 10}:00:00Z` }]),
    );
    expect(next(progress(rest))?.id).toBe(first.id);
  });
});

describe("a test's name in the learner's language", () => {
  test('its step reads as the Chinese README heads it; the rest as written', () => {
    const [lesson] = listLessons() as [LessonInfo];
    const name = 'step 2: send and half-close › the server receives the message';
    expect(testName(lesson, name, 'en')).toBe(name);
    expect(testName(lesson, name, 'zh-CN')).toMatch(/^第 2 步：.+ › the server receives the message$/);
    expect(testName(lesson, 'a test outside the steps', 'zh-CN')).toBe('a test outside the steps');
  });
});

describe("an assertion's own words in the learner's language", () => {
  test("expect(x, 'what it means') fails with its words translated, vitest's kept", () => {
    const failure = { name: 'AssertionError', message: 'use socket.end(message): expected 1 to be 2' };
    const before = process.env.COURSE_LANG;
    try {
      process.env.COURSE_LANG = 'zh-CN';
      expect(errorText(failure)).toBe('AssertionError: 用 socket.end(message): expected 1 to be 2');
      process.env.COURSE_LANG = 'en';
      expect(errorText(failure)).toBe('AssertionError: use socket.end(message): expected 1 to be 2');
    } finally {
      if (before === undefined) delete process.env.COURSE_LANG;
      else process.env.COURSE_LANG = before;
    }
  });
});
