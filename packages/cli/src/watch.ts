/**
 * `course watch`: one warm vitest that re-runs the current lesson's tests on every save of its
 * exercise/, prints the summary, and moves on to the next lesson when all pass. Keys in a terminal: h = next hint, n = next lesson, q = quit.
 */
import { PassThrough } from 'node:stream';
import { learnerLanguage, metaIn } from '@course/model/editions';
import { type LessonInfo, listLessons, ROOT } from '@course/model/lessons';
import { loadProgress, recordRun, saveProgress, stateOf } from '@course/model/progress';
import { words } from '@course/words';
import { startVitest } from 'vitest/node';
import { paint } from './paint.ts';
import { passedAll, printFailures, printResults } from './report.ts';
import { resultsReporter, runEnv, runSummary } from './run-tests.ts';

/** The learner's words (COURSE_LANG, or the system's language). */
const learner = learnerLanguage();
const say = words(learner).course;

type Outcome = 'passed' | 'next' | 'quit';

export interface WatchOptions {
  lesson: LessonInfo;
  /** Poll for changes, for file systems that miss change events (network drives, some VMs). */
  poll: boolean;
  /** Shows the next hint of a lesson (the `h` key), saying how to get the one after. */
  hint(lesson: LessonInfo, again: string): void;
}

export async function watch(options: WatchOptions): Promise<number> {
  const lessons = listLessons();
  let lesson: LessonInfo | undefined = options.lesson;
  // Ctrl-C is a normal way to stop watching: exit 0, whatever it interrupts. vitest's own handler
  // ends the process, but a run it cuts short may set the exit code after ours; and between two
  // lessons there is no vitest to end it at all.
  process.once('SIGINT', () => {
    process.on('exit', () => {
      process.exitCode = 0;
    });
    setTimeout(() => process.exit(), 500).unref();
  });
  const env = await runEnv('exercise');
  while (lesson) {
    const outcome = await watchLesson(lesson, options, env);
    if (outcome === 'quit') return 0;
    const at = lessons.findIndex((l) => l.id === lesson?.id);
    const notDone = (l: LessonInfo) => stateOf(loadProgress(), l) !== 'done';
    lesson = lessons.slice(at + 1).find(notDone) ?? lessons.find(notDone);
    if (lesson) console.log(paint.bold(`\n${say.onTo(lesson.number, metaIn(lesson.meta, learner).title)}`));
  }
  console.log(paint.green(`\n${say.everyLessonPasses}`));
  return 0;
}

function watchLesson(
  lesson: LessonInfo,
  options: WatchOptions,
  env: Record<string, string>,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    let changedAt: number | undefined;
    let finish: (outcome: Outcome) => void = resolve;
    let testsMs = 0;
    const results = resultsReporter([lesson], ([result]) => {
      if (!result) return;
      const took =
        changedAt === undefined
          ? ''
          : paint.dim(say.reran(Math.round(performance.now() - changedAt), Math.round(testsMs)));
      changedAt = undefined;
      const progress = loadProgress();
      recordRun(progress, lesson, runSummary(result));
      saveProgress(progress);
      console.log(`\n${paint.bold(new Date().toLocaleTimeString())}${took}`);
      printResults([result]);
      if (passedAll(result)) {
        console.log(paint.green(paint.bold(`\n${say.lessonDone(lesson.number)}`)));
        finish('passed');
      } else {
        printFailures(result, 1);
        console.log(paint.dim(`\n${say.watching(lesson.id)}`));
      }
    });
    const reporter = {
      onTestRunEnd(...args: Parameters<NonNullable<typeof results.onTestRunEnd>>) {
        // Test files run side by side: the slowest one is the tests' share of the re-run.
        testsMs = Math.max(0, ...args[0].map((module) => module.diagnostic().duration));
        return results.onTestRunEnd?.(...args);
      },
      onWatcherRerun() {
        changedAt = performance.now();
      },
    };
    startVitest(
      'test',
      [],
      {
        root: ROOT,
        config: false,
        projects: [lesson.dir],
        watch: true,
        env,
        reporters: [reporter],
        // Every test file of the lesson on every save, not only those that import the saved file:
        // the program tests run exercise/ as a child process, which vitest cannot see, and the
        // counts stay the lesson's (not "3/13 passing" for the one file re-run).
        forceRerunTriggers: [`**/lessons/${lesson.id}/exercise/**`],
      },
      options.poll ? { server: { watch: { usePolling: true, interval: 100 } } } : {},
      // vitest's own keyboard shortcuts stay off: the keys are ours.
      {
        stdin: new PassThrough() as unknown as NodeJS.ReadStream,
        stdout: process.stdout,
        stderr: process.stderr,
      },
    ).then((vitest) => {
      const keys = (data: Buffer) => {
        const key = data.toString();
        if (key === 'h') options.hint(lesson, say.pressH);
        if (key === 'n') finish('next');
        if (key === 'q' || key === '\u0003') finish('quit');
      };
      if (process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        process.stdin.on('data', keys).resume();
      }
      finish = (outcome) => {
        finish = () => {};
        process.stdin.off('data', keys);
        if (process.stdin.isTTY) process.stdin.setRawMode(false);
        process.stdin.pause();
        vitest.close().then(() => resolve(outcome), reject);
      };
    }, reject);
  });
}
