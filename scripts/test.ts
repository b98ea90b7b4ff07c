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
import { paint } from '@course/cli/paint';
import { passedAll, printCourse, printFailures, printResults } from '@course/cli/report';
import { runLessonTests, runSummary, type Target } from '@course/cli/run-tests';
import { closestLessons, findLesson, type LessonInfo, listLessons } from '@course/model/lessons';
import { loadProgress, recordRun, saveProgress } from '@course/model/progress';
import { words } from '@course/words';

const USAGE = `usage: npm test -- [lesson ...] [--target exercise|solution|mistake:<file>.<what>]

  npm test                 every lesson's tests against your code (exercise/)
  npm test -- 02           one lesson, by number or name, with more of its failures shown
  npm run test:solutions   every lesson against solution/

To work on one lesson with hints and progress: npm run course -- verify 02 (or watch 02).`;

let parsed: ReturnType<typeof parseArguments>;
function parseArguments() {
  return parseArgs({
    options: {
      target: { type: 'string', default: process.env.COURSE_TARGET || 'exercise' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
}
try {
  parsed = parseArguments();
} catch (error) {
  console.error(`${(error as Error).message.split('\n')[0]}\n\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const target = values.target as Target;
if (target !== 'exercise' && target !== 'solution' && !/^mistake:[\w.-]+$/.test(target)) {
  console.error(`--target must be exercise, solution or mistake:<file>.<what>, not '${target}'`);
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

const say = words();
const started = performance.now();
const results = await runLessonTests(lessons, target);
const seconds = ((performance.now() - started) / 1000).toFixed(1);

console.log(
  `\n${paint.bold(`${say.site.brand}: ${say.course.testsAgainst(target)}`)}  ${paint.dim(`(${seconds} s)`)}\n`,
);
printResults(results);
const current = results.find((r) => !passedAll(r));
if (current) printFailures(current, results.length === 1 ? 12 : 3);

if (target === 'exercise') {
  // The learner's progress: these runs count, and the course summary says what comes next.
  const progress = loadProgress();
  for (const r of results) recordRun(progress, r.lesson, runSummary(r));
  saveProgress(progress);
  printCourse(progress, all);
} else {
  console.log(`\n${say.course.lessonsPassing(results.filter(passedAll).length, results.length, target)}`);
}
process.exitCode = current ? 1 : 0;
