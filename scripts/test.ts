/**
 * `npm test`: the learner's check. Runs the lessons' tests against exercise/ (or solution/ with
 * --target solution) in one vitest process and prints one screen: a line per lesson, the first
 * failures of the lesson to work on, explained, and the course summary.
 *
 *   npm test                        every lesson
 *   npm test -- 02                  one lesson (by number, name or folder), more failures shown
 *   npm run test:solutions          every lesson against solution/
 */
import { parseArgs } from 'node:util';
import { closestLessons, findLesson, type LessonInfo, listLessons } from '@course/cli/lessons';
import { paint } from '@course/cli/paint';
import { loadProgress, recordRun, saveProgress } from '@course/cli/progress';
import { passedAll, printCourse, printFailures, printResults } from '@course/cli/report';
import { runLessonTests, type Target } from '@course/cli/run-tests';

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

console.log(
  `\n${paint.bold(`Sockets, by hand: tests against ${target}/`)}  ${paint.dim(`(${seconds} s)`)}\n`,
);
printResults(results);
const current = results.find((r) => !passedAll(r));
if (current) printFailures(current, results.length === 1 ? 12 : 3);

if (target === 'exercise') {
  // The learner's progress: these runs count, and the course summary says what comes next.
  const progress = loadProgress();
  for (const r of results)
    recordRun(progress, r.lesson, r.passed, r.passed + r.failed.length + r.errors.length);
  saveProgress(progress);
  printCourse(progress, all);
} else {
  console.log(
    `\n${results.filter(passedAll).length} of ${results.length} lessons passing against ${target}/.`,
  );
}
process.exitCode = current ? 1 : 0;
