/** What `npm test` and the course command print: one screen, for a learner. */

import { learnerLanguage, metaIn, SOURCE_LANGUAGE, stepHeadings } from '@course/model/editions';
import { type LessonInfo, listLessons } from '@course/model/lessons';
import { type LessonState, nextLesson, type Progress, stateOf } from '@course/model/progress';
import { stepCount, stepOf } from '@course/model/steps';
import { displayWidth, words } from '@course/words';
import { paint } from './paint.ts';
import type { FailedTest, LessonResult } from './run-tests.ts';

/** How a learner runs the course command (through npm, which every learner has). */
export const COURSE = 'npm run course --';

export const passedAll = (r: LessonResult): boolean =>
  r.failed.length === 0 && r.loadErrors.length === 0 && r.stray.length === 0 && r.passed > 0;

/** The learner's words (COURSE_LANG, or the system's language). */
const learner = learnerLanguage();
const say = words(learner).course;

/** What to do next, in a few words: the first failing test, or why there is none. */
function nextWords(r: LessonResult): string {
  if (r.loadErrors.length) return r.total ? say.aTestFileDoesNotLoad : say.theTestsDoNotLoad;
  const first = r.failed[0];
  return first ? testName(r.lesson, first.name) : say.anErrorOutsideTheTests;
}

/**
 * A test's name for the learner: its step (`step 3: read the reply › …`) as the README in their
 * language heads it (`第 3 步：读取回复 › …`); the test's own words stay as written.
 */
export function testName(lesson: LessonInfo, name: string, lang = learner): string {
  if (lang === SOURCE_LANGUAGE) return name;
  const step = /^step (\d+): [^›]*›/.exec(name);
  const heading = step && stepHeadings(lesson.dir, lang).get(Number(step[1]));
  return step && heading ? `${heading} ›${name.slice(step[0].length)}` : name;
}

const indent = (text: string, by = '    ') => text.split('\n').join(`\n${by}`);

/** One line per lesson that was run: passing / total and the first test still failing. */
export function printResults(results: LessonResult[]): void {
  const width = Math.max(...results.map((r) => r.lesson.id.length));
  for (const r of results) {
    const mark = passedAll(r) ? paint.green('✓') : paint.red('✗');
    const skipped = r.skipped.length > 0 ? paint.yellow(say.skipped(r.skipped.length)) : '';
    const next = passedAll(r) ? '' : paint.dim(`  ${say.next(nextWords(r))}`);
    const passing = say.passing(r.passed, r.total).padStart(say.passing(0, r.total).length + 2);
    console.log(`  ${mark} ${r.lesson.id.padEnd(width)}  ${passing}${skipped}${next}`);
    for (const line of skippedWhy(r.skipped)) console.log(paint.yellow(`      ${line}`));
  }
}

/**
 * Why tests were not run, once per reason: a test that talks to another program says so in its
 * name (`… (needs python3)`), and is skipped where that program is missing.
 */
export function skippedWhy(names: string[]): string[] {
  const counts = new Map<string, number>();
  for (const name of names) {
    const need = /\(needs ([^)]+)\)\s*$/.exec(name)?.[1] ?? '';
    counts.set(need, (counts.get(need) ?? 0) + 1);
  }
  return [...counts].map(([need, n]) => (need ? say.notRunNeeds(n, need) : say.notRunMarked(n)));
}

/**
 * Which failing tests to explain: those of the step the learner is on (the first that fails;
 * the program's tests, which name no step, once every step passes), at most `shown`. A later
 * step's tests fail until the learner gets there: they are counted, not shown.
 */
export function failuresToShow(
  failed: FailedTest[],
  shown: number,
): { explained: FailedTest[]; moreThisStep: number; later: number } {
  const step = failed[0] ? stepOf(failed[0].name) : undefined;
  const thisStep = failed.filter((f) => stepOf(f.name) === step);
  const explained = thisStep.slice(0, shown);
  return {
    explained,
    moreThisStep: thisStep.length - explained.length,
    later: failed.length - thisStep.length,
  };
}

/**
 * The failures of one lesson, explained: its errors, then the failing tests of the learner's step
 * (at most `shown`) with their messages (what was expected, what arrived, a hint) and where to
 * look.
 */
export function printFailures(result: LessonResult, shown: number): void {
  const { title } = metaIn(result.lesson.meta, learner);
  console.log(`\n${paint.bold(say.lesson(result.lesson.number, title))}`);
  for (const error of result.loadErrors) console.log(`\n  ${paint.red('✗')} ${indent(error)}`);
  // Usually the cause of the failures below them: an 'error' event nobody listens to.
  for (const stray of result.stray.slice(0, 2)) {
    const during = stray.test
      ? say.during(paint.bold(testName(result.lesson, stray.test)))
      : say.outsideAnyTest;
    console.log(`\n  ${paint.red('✗')} ${say.unhandled(during, stray.count)}`);
    console.log(`    ${indent(stray.message)}`);
    if (stray.where) console.log(`    ${paint.dim(say.at(stray.where))}`);
  }
  if (result.stray.length > 2) console.log(paint.dim(`\n  ${say.moreUnhandled(result.stray.length - 2)}`));
  // Tests that fail the same way (every test of a starter at its first TODO) are named together,
  // above their one message.
  const { explained: failures, moreThisStep, later } = failuresToShow(result.failed, shown);
  failures.forEach((failure, i) => {
    const previous = failures[i - 1];
    const next = failures[i + 1];
    const same = (a?: FailedTest) => a?.message === failure.message && a.where === failure.where;
    if (!same(previous)) console.log('');
    console.log(`  ${paint.red('✗')} ${paint.bold(testName(result.lesson, failure.name))}`);
    if (same(next)) return;
    console.log(`    ${indent(failure.message)}`);
    if (failure.where) console.log(`    ${paint.dim(say.at(failure.where))}`);
  });
  if (moreThisStep > 0) console.log(paint.dim(`\n  ${say.moreFailing(moreThisStep)}`));
  if (later > 0) console.log(paint.dim(`${moreThisStep > 0 ? '' : '\n'}  ${say.laterFailing(later)}`));
  for (const name of result.skipped) console.log(paint.yellow(`\n  ${say.skippedTest(name)}`));
}

const MARKS: Record<LessonState, string> = {
  done: '✓',
  'in progress': '◐',
  'not started': '·',
  'does not compile': '✗',
};

/** The course at a glance: every lesson with its state, then what to do next. */
export function printCourse(progress: Progress, lessons: LessonInfo[] = listLessons()): void {
  const title = (lesson: LessonInfo) => metaIn(lesson.meta, learner).title;
  const width = Math.max(...lessons.map((l) => displayWidth(title(l))));
  console.log(`\n${paint.bold(words(learner).site.brand)}: ${say.yourProgress}\n`);
  for (const lesson of lessons) {
    const state = stateOf(progress, lesson);
    const colour =
      state === 'done'
        ? paint.green
        : state === 'in progress'
          ? paint.yellow
          : state === 'does not compile'
            ? paint.red
            : paint.dim;
    console.log(
      `  ${colour(MARKS[state])} ${lesson.number}  ${title(lesson)}${' '.repeat(width - displayWidth(title(lesson)))}  ${colour(stateWords(progress, lesson, state))}`,
    );
  }
  const next = nextLesson(progress, lessons);
  if (!next) {
    console.log(`\n${paint.green(say.everyLessonPasses)} ${say.solutionsAreIn}`);
    return;
  }
  const dir = `lessons/${next.id}`;
  console.log(`\n${paint.bold(say.nextLesson(next.number, title(next)))}`);
  console.log(say.read(dir));
  console.log(say.edit(dir));
  console.log(say.check(paint.cyan(`${COURSE} verify ${next.number}`), paint.cyan(`${COURSE} watch`)));
  console.log(say.stuck(paint.cyan(`${COURSE} hint ${next.number}`)));
}

/** A lesson's state in the learner's words: `in progress, step 3 of 7`. */
function stateWords(progress: Progress, lesson: LessonInfo, state: LessonState): string {
  const entry = progress.lessons[lesson.id];
  if (state === 'does not compile') return say.doesNotCompile(entry?.compileError ?? '');
  if (state === 'in progress' && entry?.step) return say.onStep(entry.step, stepCount(lesson));
  return say.states[state];
}
