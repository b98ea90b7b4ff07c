/**
 * Vitest's reporter when a learner runs vitest itself in a lesson's folder (`npx vitest`): the
 * report `npm test -- NN` prints (one line for the lesson, then the failures of the step the
 * learner is on, each bounded and explained), not vitest's, which repeats each failure's whole
 * stack. `npx vitest --reporter default` still gets vitest's own. The course's runs
 * (runLessonTests, watch) give vitest their own reporter and never load this one.
 */
import { basename } from 'node:path';
import { findLesson } from '@course/model/lessons';
import { words } from '@course/words';
import type { Reporter, Vitest } from 'vitest/node';
import { paint } from './paint.ts';
import { passedAll, printFailures, printResults } from './report.ts';
import { resultsReporter } from './run-tests.ts';

/** As many failing tests as `npm test -- NN` shows for one lesson. */
const SHOWN = 12;

export default class LessonReporter implements Reporter {
  private results: Reporter | undefined;
  private started = 0;

  onInit(vitest: Vitest): void {
    const lesson = findLesson(basename(vitest.config.root));
    if (!lesson) throw new Error(`${vitest.config.root} is not a lesson's folder`);
    const say = words();
    // Tests left out by `-t <pattern>` count as skipped to vitest; to the learner, they did not run.
    const filtered = Boolean(vitest.config.testNamePattern);
    this.results = resultsReporter([lesson], ([found]) => {
      if (!found) return;
      const result = filtered ? { ...found, total: found.total - found.skipped.length, skipped: [] } : found;
      const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
      const target = process.env.COURSE_TARGET || 'exercise';
      const title = `${say.site.brand}: ${say.course.testsAgainst(target)}`;
      console.log(`\n${paint.bold(title)}  ${paint.dim(`(${seconds} s)`)}\n`);
      printResults([result]);
      if (!passedAll(result)) printFailures(result, SHOWN);
    });
  }

  onTestRunStart(): void {
    this.started = performance.now();
  }

  onTestRunEnd(...args: Parameters<NonNullable<Reporter['onTestRunEnd']>>): void {
    this.results?.onTestRunEnd?.(...args);
  }
}
