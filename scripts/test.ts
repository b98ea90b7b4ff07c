/**
 * `npm test`: the learner's check. Runs the lessons' tests against exercise/ (or solution/ with
 * --target solution) in one vitest process and prints one screen: a line per lesson, then the
 * first failures of the lesson to work on, explained.
 *
 *   npm test                        every lesson
 *   npm test -- 02                  one lesson (by number, name or folder), every failure shown
 *   npm run test:solutions          every lesson against solution/
 */
import { parseArgs } from 'node:util';
import { closestLessons, findLesson, type LessonInfo, listLessons } from './lib/lessons.ts';
import { paint } from './lib/paint.ts';
import { type LessonResult, runLessonTests, type Target } from './lib/run-tests.ts';

const { values, positionals } = parseArgs({
  options: { target: { type: 'string', default: process.env.COURSE_TARGET || 'exercise' } },
  allowPositionals: true,
});
const target = values.target as Target;
if (target !== 'exercise' && target !== 'solution') {
  console.error(`--target must be exercise or solution, not '${target}'`);
  process.exit(2);
}

const all = listLessons();
const chosen: LessonInfo[] = [];
for (const name of positionals) {
  const lesson = findLesson(name, all);
  if (!lesson) {
    const close = closestLessons(name, all).map((l) => l.id);
    console.error(`no lesson called '${name}'${close.length ? `: did you mean ${close.join(', ')}?` : ''}`);
    process.exit(2);
  }
  chosen.push(lesson);
}
const lessons = chosen.length > 0 ? chosen : all;

const started = performance.now();
const results = await runLessonTests(lessons, target);
const seconds = ((performance.now() - started) / 1000).toFixed(1);

const done = (r: LessonResult) => r.failed.length === 0 && r.errors.length === 0 && r.passed > 0;
const width = Math.max(...results.map((r) => r.lesson.id.length));

console.log(
  `\n${paint.bold(`Sockets, by hand: tests against ${target}/`)}  ${paint.dim(`(${seconds} s)`)}\n`,
);
for (const r of results) {
  const total = r.passed + r.failed.length + r.skipped.length;
  const mark = done(r) ? paint.green('✓') : paint.red('✗');
  const count = `${String(r.passed).padStart(3)}/${total} passing`;
  const skipped = r.skipped.length > 0 ? paint.yellow(`, ${r.skipped.length} skipped`) : '';
  const next = done(r)
    ? ''
    : paint.dim(`  next: ${r.errors.length ? 'the tests do not load' : r.failed[0]?.name}`);
  console.log(`  ${mark} ${r.lesson.id.padEnd(width)}  ${count}${skipped}${next}`);
}

const current = results.find((r) => !done(r));
if (current) {
  const single = results.length === 1;
  const shown = single ? 12 : 3;
  console.log(`\n${paint.bold(`Lesson ${current.lesson.number} · ${current.lesson.meta.title}`)}`);
  for (const error of current.errors) console.log(`\n  ${paint.red('✗')} ${indent(error)}`);
  for (const failure of current.failed.slice(0, shown)) {
    console.log(`\n  ${paint.red('✗')} ${paint.bold(failure.name)}`);
    console.log(`    ${indent(failure.message)}`);
    if (failure.where) console.log(`    ${paint.dim(`at ${failure.where}`)}`);
  }
  const more = current.failed.length - shown;
  if (more > 0) {
    console.log(
      paint.dim(`\n  … and ${more} more failing${single ? '' : `: npm test -- ${current.lesson.number}`}`),
    );
  }
  for (const name of current.skipped) console.log(paint.yellow(`\n  skipped: ${name}`));
}

const finished = results.filter(done).length;
console.log(`\n${finished} of ${results.length} lesson${results.length === 1 ? '' : 's'} passing.`);
if (current && target === 'exercise') {
  const rel = `lessons/${current.lesson.id}`;
  console.log(
    `Next: read ${rel}/README.md, edit ${rel}/exercise/, then run npm test -- ${current.lesson.number}`,
  );
}
process.exitCode = current ? 1 : 0;

function indent(text: string): string {
  return text.split('\n').join('\n    ');
}
