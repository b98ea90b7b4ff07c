/**
 * Runs lessons' tests in one vitest process and returns what happened, lesson by lesson,
 * for the one-screen summaries of `npm test` and the course check.
 */
import { relative } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { startVitest } from 'vitest/node';
import { type LessonInfo, ROOT } from './lessons.ts';

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
  /** Errors outside any test (a test file that does not load, an exception in a listener). */
  errors: string[];
}

export type Target = 'exercise' | 'solution' | `mistake:${string}`;

/**
 * Runs the tests of `lessons` against `target` (sets COURSE_TARGET for this process and the
 * programs the tests start). Vitest's own output is replaced by the returned results.
 */
export async function runLessonTests(lessons: LessonInfo[], target: Target): Promise<LessonResult[]> {
  process.env.COURSE_TARGET = target;
  let results: LessonResult[] = [];
  const vitest = await startVitest(
    'test',
    [],
    // Only the chosen lessons' configs are loaded: each is a project named after its folder.
    {
      root: ROOT,
      config: false,
      projects: lessons.map((l) => l.dir),
      watch: false,
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

/** A vitest reporter that hands over each run's results, lesson by lesson (in watch mode, each run). */
export function resultsReporter(lessons: LessonInfo[], onRun: (results: LessonResult[]) => void): Reporter {
  return {
    onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled) {
      const results = new Map<string, LessonResult>(
        lessons.map((lesson) => [lesson.id, { lesson, passed: 0, failed: [], skipped: [], errors: [] }]),
      );
      for (const module of modules) {
        const result = results.get(module.project.name);
        if (!result) continue;
        for (const error of module.errors()) result.errors.push(errorText(error));
        for (const test of module.children.allTests()) record(result, test);
      }
      for (const error of unhandled) {
        const text = errorText(error);
        const owner =
          [...results.values()].find((r) => text.includes(r.lesson.dir)) ?? [...results.values()][0];
        owner?.errors.push(`outside any test: ${text}`);
      }
      // In step order, program tests last: "next" is then the step the learner is on.
      for (const result of results.values()) result.failed.sort((a, b) => stepOf(a.name) - stepOf(b.name));
      onRun([...results.values()]);
    },
  };
}

function record(result: LessonResult, test: TestCase): void {
  const outcome = test.result();
  const name = test.fullName.replace(/ > /g, ' › ');
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

interface SerializedErrorLike {
  message?: string;
  name?: string;
  diff?: string;
  stacks?: { file: string; line: number; column: number }[];
}

function errorText(error: SerializedErrorLike): string {
  const message = (error.message ?? String(error)).trimEnd();
  const head = error.name && error.name !== 'Error' && error.name !== 'WireError' ? `${error.name}: ` : '';
  // Vitest's diff adds nothing to our own byte-level explanations; keep it for plain expect()s.
  const diff = error.diff && !message.includes('\n  expected:') ? `\n${error.diff}` : '';
  return `${head}${message}${diff}`;
}

/** The stack frame a learner should open: their own code first, then the test. */
function bestFrame(error: SerializedErrorLike, lesson: LessonInfo): string | undefined {
  const frames = (error.stacks ?? []).filter((f) => f.file.startsWith(lesson.dir));
  const frame =
    frames.find((f) => !f.file.includes(`${lesson.dir}/test/`)) ??
    frames.find((f) => f.file.includes('/test/'));
  return frame && `${relative(ROOT, frame.file)}:${frame.line}:${frame.column}`;
}

/** The (first) step number in a test's group name, `step 3: …` or `steps 2 and 3: …`. */
function stepOf(name: string): number {
  const match = /^steps? (\d+)/.exec(name);
  return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}
