/** What `npm test` and the course command print: one screen, for a learner. */
import { type LessonInfo, listLessons } from '@course/model/lessons';
import { describeState, type LessonState, nextLesson, type Progress, stateOf } from '@course/model/progress';
import { paint } from './paint.ts';
import type { LessonResult } from './run-tests.ts';

/** How a learner runs the course command (through npm, which every learner has). */
export const COURSE = 'npm run course --';

export const passedAll = (r: LessonResult): boolean =>
  r.failed.length === 0 && r.loadErrors.length === 0 && r.stray.length === 0 && r.passed > 0;

/** What to do next, in a few words: the first failing test, or why there is none. */
function nextWords(r: LessonResult): string {
  if (r.loadErrors.length) return r.total ? 'a test file does not load' : 'the tests do not load';
  return r.failed[0]?.name ?? 'an error outside the tests (below)';
}

const indent = (text: string, by = '    ') => text.split('\n').join(`\n${by}`);

/** One line per lesson that was run: passing / total and the first test still failing. */
export function printResults(results: LessonResult[]): void {
  const width = Math.max(...results.map((r) => r.lesson.id.length));
  for (const r of results) {
    const mark = passedAll(r) ? paint.green('✓') : paint.red('✗');
    const skipped = r.skipped.length > 0 ? paint.yellow(`, ${r.skipped.length} skipped`) : '';
    const next = passedAll(r) ? '' : paint.dim(`  next: ${nextWords(r)}`);
    console.log(
      `  ${mark} ${r.lesson.id.padEnd(width)}  ${String(r.passed).padStart(3)}/${r.total} passing${skipped}${next}`,
    );
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
  return [...counts].map(([need, n]) =>
    need
      ? `not run: ${n} test${n === 1 ? '' : 's'} that need${n === 1 ? 's' : ''} ${need}, not found on this machine`
      : `not run: ${n} test${n === 1 ? '' : 's'} marked to skip`,
  );
}

/**
 * The failures of one lesson, explained: its errors, then the first `shown` failing tests with
 * their messages (what was expected, what arrived, a hint) and where to look.
 */
export function printFailures(result: LessonResult, shown: number): void {
  console.log(`\n${paint.bold(`Lesson ${result.lesson.number} · ${result.lesson.meta.title}`)}`);
  for (const error of result.loadErrors) console.log(`\n  ${paint.red('✗')} ${indent(error)}`);
  // Usually the cause of the failures below them: an 'error' event nobody listens to.
  for (const stray of result.stray.slice(0, 2)) {
    const times = stray.count > 1 ? `, ${stray.count} times` : '';
    const during = stray.test ? `during ${paint.bold(stray.test)}` : 'outside any test';
    console.log(`\n  ${paint.red('✗')} an error no code handled (${during}${times}):`);
    console.log(`    ${indent(stray.message)}`);
    if (stray.where) console.log(`    ${paint.dim(`at ${stray.where}`)}`);
  }
  if (result.stray.length > 2)
    console.log(paint.dim(`\n  … and ${result.stray.length - 2} more unhandled errors`));
  for (const failure of result.failed.slice(0, shown)) {
    console.log(`\n  ${paint.red('✗')} ${paint.bold(failure.name)}`);
    console.log(`    ${indent(failure.message)}`);
    if (failure.where) console.log(`    ${paint.dim(`at ${failure.where}`)}`);
  }
  const more = result.failed.length - shown;
  if (more > 0) console.log(paint.dim(`\n  … and ${more} more failing`));
  for (const name of result.skipped) console.log(paint.yellow(`\n  skipped: ${name}`));
}

const MARKS: Record<LessonState, string> = {
  done: '✓',
  'in progress': '◐',
  'not started': '·',
  'does not compile': '✗',
};

/** The course at a glance: every lesson with its state, then what to do next. */
export function printCourse(progress: Progress, lessons: LessonInfo[] = listLessons()): void {
  const width = Math.max(...lessons.map((l) => l.meta.title.length));
  console.log(`\n${paint.bold('Sockets, by hand')}: your progress\n`);
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
      `  ${colour(MARKS[state])} ${lesson.number}  ${lesson.meta.title.padEnd(width)}  ${colour(describeState(progress, lesson, state))}`,
    );
  }
  const next = nextLesson(progress, lessons);
  if (!next) {
    console.log(
      `\n${paint.green('Every lesson passes. Well done!')} The solutions are in each lesson's solution/.`,
    );
    return;
  }
  const dir = `lessons/${next.id}`;
  console.log(`\n${paint.bold(`Next: lesson ${next.number} · ${next.meta.title}`)}`);
  console.log(`  read   ${dir}/README.md  (or on the site: npm start)`);
  console.log(`  edit   ${dir}/exercise/  (the TODOs, in order)`);
  console.log(
    `  check  ${paint.cyan(`${COURSE} verify ${next.number}`)}  or keep ${paint.cyan(`${COURSE} watch`)} running`,
  );
  console.log(`  stuck? ${paint.cyan(`${COURSE} hint ${next.number}`)}`);
}
