/**
 * Runs lessons' tests in one vitest process and returns what happened, lesson by lesson,
 * for the one-screen summaries of `npm test` and the course check.
 */
import { relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { learnerLanguage } from '@course/model/editions';
import { type LessonInfo, ROOT } from '@course/model/lessons';
import type { RunSummary } from '@course/model/progress';
import { stepOf } from '@course/model/steps';
import { testWords } from '@course/words/tests';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { startVitest } from 'vitest/node';

export interface FailedTest {
  /** `step 2: send and half-close › the server receives ...` */
  name: string;
  message: string;
  /** `lessons/01-tcp-client/exercise/client.ts:52:9`, the most useful place to look. */
  where?: string;
}

export interface LessonResult {
  lesson: LessonInfo;
  passed: number;
  failed: FailedTest[];
  skipped: string[];
  /** The tests that ran: passed, failed and skipped (never an error counted as a test). */
  total: number;
  /** Test files that do not load (a syntax error, an import that throws): their tests never ran. */
  loadErrors: string[];
  /** Errors thrown outside any test's own code (an 'error' event nobody listens to), deduplicated. */
  stray: StrayError[];
  /** Each test file that ran, with the full names of its tests as vitest matches them (space-joined). */
  testsByFile: Record<string, string[]>;
}

/** An error no code handled, attributed to the test that was running when it was thrown. */
export interface StrayError {
  message: string;
  /** How many times the same error was thrown. */
  count: number;
  /** The full name of the test that was running (`step 2: … › …`), when known. */
  test?: string;
  where?: string;
}

export type Target = 'exercise' | 'solution' | `ladder:${number}` | `mistake:${string}`;

/**
 * Runs the tests of `lessons` against `target` (COURSE_TARGET for the tests and the programs they
 * start, given to this run alone: several may run at once), all of them or those
 * `testNamePattern` matches. Vitest's own output is replaced by the returned results.
 */
export async function runLessonTests(
  lessons: LessonInfo[],
  target: Target,
  { testNamePattern, files = [] }: { testNamePattern?: RegExp; files?: string[] } = {},
): Promise<LessonResult[]> {
  let results: LessonResult[] = [];
  const vitest = await startVitest(
    'test',
    // Only these test files (absolute paths), when given: a file with no test the pattern
    // matches still costs a process that loads it and the harness.
    files,
    // Only the chosen lessons' configs are loaded: each is a project named after its folder.
    {
      root: ROOT,
      config: false,
      projects: lessons.map((l) => l.dir),
      watch: false,
      env: await runEnv(target),
      // Only the tests whose full name (describe and test names, space-separated) matches: the
      // course check runs a rung of the ladder or a mistake's named tests, not the whole lesson.
      testNamePattern,
      reporters: [
        resultsReporter(lessons, (found) => {
          results = found;
        }),
      ],
    },
    {},
    { stdout: process.stdout, stderr: process.stderr },
  );
  await vitest.close();
  return results;
}

/**
 * A course run's own environment, given to vitest (its `env` option) rather than set on this
 * process: the target, for its workers and the lessons' configs (their `#impl/` imports), and the
 * harness's bundle, which the configs give the tests for `@course/helpers`.
 */
export async function runEnv(target: Target): Promise<Record<string, string>> {
  // Imported here: the lesson reporter, which vitest loads through its own module runner when a
  // learner runs vitest in a lesson's folder, imports this module too, and bundle.ts cannot load there.
  const { harnessBundle } = await import('@course/helpers/bundle');
  const harness = await harnessBundle();
  return { COURSE_TARGET: target, ...(harness ? { COURSE_HARNESS: harness } : {}) };
}

/** A vitest reporter that hands over each run's results, lesson by lesson (in watch mode, each run). */
export function resultsReporter(lessons: LessonInfo[], onRun: (results: LessonResult[]) => void): Reporter {
  return {
    onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled) {
      const results = new Map<string, LessonResult>(
        lessons.map((lesson) => [
          lesson.id,
          {
            lesson,
            passed: 0,
            failed: [],
            skipped: [],
            total: 0,
            loadErrors: [],
            stray: [],
            testsByFile: {},
          },
        ]),
      );
      for (const module of modules) {
        const result = results.get(module.project.name);
        if (!result) continue;
        for (const error of module.errors()) result.loadErrors.push(errorText(error));
        const names: string[] = [];
        for (const test of module.children.allTests()) {
          record(result, test);
          names.push(patternName(test));
        }
        result.testsByFile[module.moduleId] = names;
      }
      for (const error of unhandled as ReadonlyArray<StrayLike>) {
        const path = error.VITEST_TEST_PATH ?? '';
        const owner =
          [...results.values()].find((r) => path.startsWith(r.lesson.dir)) ??
          [...results.values()].find((r) => errorText(error).includes(r.lesson.dir)) ??
          [...results.values()][0];
        if (owner) addStray(owner, error, testNamed(modules, path, error.VITEST_TEST_NAME));
      }
      // In step order, program tests last: "next" is then the step the learner is on.
      for (const result of results.values())
        result.failed.sort((a, b) => (stepOf(a.name) ?? Infinity) - (stepOf(b.name) ?? Infinity));
      onRun([...results.values()]);
    },
  };
}

export interface StrayLike extends SerializedErrorLike {
  /** Vitest's kind of stray error: 'Uncaught Exception' or 'Unhandled Rejection'. */
  type?: string;
  VITEST_TEST_PATH?: string;
  VITEST_TEST_NAME?: string;
}

/** The full name (`step 2: … › …`) of the test called `name` in the file at `path`. */
function testNamed(modules: ReadonlyArray<TestModule>, path: string, name?: string): string | undefined {
  if (!name) return undefined;
  const test = [...(modules.find((m) => m.moduleId === path)?.children.allTests() ?? [])].find(
    (t) => t.name === name,
  );
  return test ? test.fullName.replace(/ > /g, ' › ') : name;
}

function addStray(result: LessonResult, error: StrayLike, test: string | undefined): void {
  const message = `${errorText(error)}\n  hint: ${strayHint(error)}`;
  const same = result.stray.find((s) => s.message === message && s.test === test);
  if (same) same.count++;
  else result.stray.push({ message, count: 1, test, where: bestFrame(error, result.lesson) });
}

const SOCKET_CODES =
  /\b(?:ECONNRESET|EPIPE|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|EADDRINUSE|EACCES|ERR_STREAM_WRITE_AFTER_END|ERR_STREAM_DESTROYED|ERR_SOCKET_DGRAM_NOT_RUNNING)\b/;

/** Why an error escapes every test, and what to do about it. */
export function strayHint(error: StrayLike): string {
  const text = `${error.name ?? ''} ${error.message ?? ''}`;
  if (error.type === 'Unhandled Rejection') {
    return (
      'a promise was rejected and nothing awaited it or caught it, so the error had nowhere to go: ' +
      'in a real program that ends the process. await every promise you create (or return it), ' +
      'or give it a .catch() that handles the error.'
    );
  }
  if (SOCKET_CODES.test(text) || /Unhandled 'error' event/.test(text)) {
    return (
      "a socket or server emitted 'error' and nothing listened, so Node threw it: in a real program " +
      "that ends the process. Give every socket and server an 'error' listener " +
      "(socket.on('error', …)) that logs it, closes the socket or settles your promise."
    );
  }
  return (
    'this was thrown inside an event listener or a timer, where no try/catch around your call can ' +
    'see it, and in a real program it ends the process: catch it in the listener itself and handle ' +
    'it there (answer the peer, close the socket, reject your promise).'
  );
}

/** A test's full name as `testNamePattern` sees it: its suites' names and its own, space-joined. */
function patternName(test: TestCase): string {
  const names = [test.name];
  for (let suite = test.parent; suite.type === 'suite'; suite = suite.parent) names.unshift(suite.name);
  return names.join(' ');
}

function record(result: LessonResult, test: TestCase): void {
  const outcome = test.result();
  const name = test.fullName.replace(/ > /g, ' › ');
  if (outcome.state !== 'pending') result.total++;
  if (outcome.state === 'passed') result.passed++;
  else if (outcome.state === 'skipped') result.skipped.push(name);
  else if (outcome.state === 'failed') {
    const error = outcome.errors?.[0];
    result.failed.push({
      name,
      message: error ? errorText(error) : 'failed',
      where: error ? bestFrame(error, result.lesson) : undefined,
    });
  }
}

export interface SerializedErrorLike {
  message?: string;
  name?: string;
  diff?: string;
  actual?: unknown;
  expected?: unknown;
  stacks?: { file: string; line: number; column: number }[];
}

/** No failure a learner reads is longer than this: the end (the repro line) is kept. */
const MAX_MESSAGE_CHARS = 4_000;
/** Characters a diff prints raw, so that two different strings look alike. */
const invisible = (text: string) =>
  /\s$/.test(text) ||
  [...text].some((ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return (
      (code < 0x20 && ch !== '\n') ||
      (code >= 0x7f && code <= 0xa0) ||
      /[\u200b-\u200f\u2028\u2029\ufeff]/.test(ch)
    );
  });

/** A failure's text as a learner reads it: bounded, plain, with vitest's advice replaced. */
export function errorText(error: SerializedErrorLike): string {
  const head = error.name && error.name !== 'Error' && error.name !== 'WireError' ? `${error.name}: ` : '';
  let message = (error.message ?? String(error)).trimEnd();
  // expect(value, 'what it means').toBe(…) fails as `what it means: expected …`: the test's own
  // words in the learner's language (the lesson's test.LANG.json), vitest's as they are.
  const said = error.name === 'AssertionError' ? /^([\s\S]+?): (expected [\s\S]*)$/.exec(message) : null;
  if (said?.[1] && said[2]) message = `${testWords(said[1], learnerLanguage())}: ${said[2]}`;
  // Vitest's diff adds nothing to our own byte-level explanations; keep it for plain expect()s,
  // and spell out characters it prints raw (`"hello\r"` and `"hello"` look alike).
  let diff = error.diff && !message.includes('\n  expected:') ? `\n${error.diff}` : '';
  if (diff && typeof error.actual === 'string' && typeof error.expected === 'string') {
    if (invisible(error.actual) || invisible(error.expected)) {
      diff += `\n  exactly:\n    expected ${JSON.stringify(error.expected)}\n    received ${JSON.stringify(error.actual)}`;
    }
  }
  return bounded(plain(timeoutText(`${head}${message}${diff}`)));
}

/** Vitest's own time-out advice ("pass a timeout value") is wrong for a learner: say what it means. */
function timeoutText(text: string): string {
  return text.replace(
    /^(Test|Hook) timed out in (\d+)ms\.[\s\S]*$/,
    (_, what: string, ms: string) =>
      `${what === 'Test' ? 'this test' : 'a test setup'} waited ${Number(ms) / 1000} s for something that ` +
      'never happened: it awaits a promise of your code (or a callback) that never settles.\n' +
      '  hint: every path must resolve or reject it: on the reply, on an error, on a time-out of your ' +
      "own. An 'error' listener that only logs, or socket.setTimeout() alone, leaves it waiting.",
  );
}

/** Without colours when the output is not a terminal (vitest's diff brings its own). */
function plain(text: string): string {
  return process.stdout.isTTY && !process.env.NO_COLOR ? text : stripVTControlCharacters(text);
}

function bounded(text: string): string {
  if (text.length <= MAX_MESSAGE_CHARS) return text;
  const tail = 800;
  const head = text.slice(0, MAX_MESSAGE_CHARS - tail);
  return `${head}\n  … (${text.length - MAX_MESSAGE_CHARS} characters left out) …\n${text.slice(-tail)}`;
}

/** The stack frame a learner should open: their own code first, then the test. */
function bestFrame(error: SerializedErrorLike, lesson: LessonInfo): string | undefined {
  const frames = (error.stacks ?? []).filter((f) => f.file.startsWith(lesson.dir));
  const frame =
    frames.find((f) => !f.file.includes(`${lesson.dir}/test/`)) ??
    frames.find((f) => f.file.includes('/test/'));
  return frame && `${relative(ROOT, frame.file)}:${frame.line}:${frame.column}`;
}

/**
 * What the progress records of a run: the counts, the failing tests, and the first compile error
 * (from tsc's `typeErrors`, else a test file that did not load).
 */
export function runSummary(result: LessonResult, typeErrors: string[] = []): RunSummary {
  const tsc = /^(?:.*[\\/])?(exercise[\\/][^(]+)\((\d+),\d+\): error TS\d+: (.*)$/.exec(typeErrors[0] ?? '');
  const compileError = tsc
    ? `${tsc[1]?.replace(/\\/g, '/')}:${tsc[2]} ${tsc[3]}`
    : result.loadErrors[0]?.split('\n')[0]?.slice(0, 160);
  return {
    passed: result.passed,
    // A test skipped because a tool is missing (python3) does not keep the lesson from being done.
    total: result.total - result.skipped.length,
    failed: result.failed.map((f) => f.name),
    compileError,
  };
}
