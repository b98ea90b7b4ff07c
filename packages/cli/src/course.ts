/**
 * The course command, the learner's companion:
 *
 *   course                          the lessons, their state, and what to do next
 *   course verify [lesson]          run a lesson's tests against your code; done when all pass
 *   course watch [lesson] [--poll]  re-run a lesson's tests on every save (default: the current one)
 *   course hint [lesson]            the next hint for the step you are on, one at a time
 *   course reset <lesson> [--yes]   put the lesson's starter back, exactly as shipped
 *   course solution <lesson>        the difference between your files and the solution
 *   course run <lesson> <program> [--solution] [flags]   run one of the lesson's programs
 *   course nc [-u] [-l] HOST PORT   a netcat that runs wherever Node does (see nc.ts)
 *
 * Lessons are named by number (01, 1) or name (tcp-client). Run through npm: `npm run course -- verify 01`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { closestLessons, findLesson, type LessonInfo, listLessons, ROOT } from '@course/model/lessons';
import {
  forgetRuns,
  loadProgress,
  nextHint,
  nextLesson,
  recordRun,
  saveProgress,
} from '@course/model/progress';
import { snapshotStarters, starterFiles } from '@course/model/starters';
import { createTwoFilesPatch } from 'diff';
import { ncCommand } from './nc.ts';
import { paint } from './paint.ts';
import { COURSE, passedAll, printCourse, printFailures, printResults } from './report.ts';
import { runLessonTests, runSummary } from './run-tests.ts';
import { watch } from './watch.ts';

const USAGE = `usage: ${COURSE} [command]

  (nothing)                     the lessons, their state, and what to do next
  verify [lesson]               run a lesson's tests against your code
  watch [lesson] [--poll]       re-run a lesson's tests on every save, then go on to the next
                                (default: the lesson you are on; keys: h hint, n next, q quit)
  hint [lesson]                 the next hint for the step you are on, one at a time
  reset <lesson> [--yes]        put the lesson's starter back, exactly as shipped
  solution <lesson> [--yes]     show how your files differ from the solution
  run <lesson> <program> [--solution] [flags]
                                run one of the lesson's programs, e.g. run 02 server --port 9000
  nc [-u] [-l] [--hex] [--trickle MS] [--send-empty] HOST PORT
                                a netcat for every system: stdin to HOST:PORT, the replies to
                                stdout (nc --help for more)

A lesson is named by number (01 or 1) or by name (tcp-client).`;

/** A problem worded for the learner: printed as one line, exit code 2. */
class UsageError extends Error {}

const lessons = listLessons();

function lessonNamed(name: string | undefined, fallback?: LessonInfo): LessonInfo {
  if (name === undefined) {
    if (fallback) return fallback;
    throw new UsageError('which lesson? Name it by number (01) or name (tcp-client).');
  }
  const lesson = findLesson(name, lessons);
  if (lesson) return lesson;
  const close = closestLessons(name, lessons).map((l) => `${l.number} (${l.slug})`);
  throw new UsageError(
    `there is no lesson '${name}'${close.length ? `: did you mean ${close.join(' or ')}?` : ''}`,
  );
}

/** The lesson to work on: the first not done (or the last one when all are). */
function currentLesson(): LessonInfo {
  const lesson = nextLesson(loadProgress(), lessons) ?? lessons.at(-1);
  if (!lesson) throw new UsageError('no lessons found under lessons/');
  return lesson;
}

async function confirm(question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) {
    throw new UsageError(`${question} Answer by running the command again with --yes.`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Type errors in the learner's files, shown first: a test cannot explain code that does not
 * compile. tsc runs beside the tests, not before them.
 */
function typeErrors(lesson: LessonInfo): Promise<string[]> {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const child = spawn(process.execPath, [tsc, '-p', lesson.dir, '--pretty', 'false'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text;
  });
  return new Promise((resolve) =>
    child.once('close', () =>
      resolve(
        out
          .split('\n')
          .filter((line) =>
            /^(?:lessons[\\/][^\\/]+[\\/])?exercise[\\/].*error TS\d+/.test(
              line.replace(`${lesson.dir}/`, ''),
            ),
          ),
      ),
    ),
  );
}

async function verify(lesson: LessonInfo): Promise<boolean> {
  const checking = typeErrors(lesson);
  const [result] = await runLessonTests([lesson], 'exercise');
  const errors = await checking;
  if (errors.length > 0) {
    console.log(`\n${paint.red(paint.bold('Your code does not compile yet:'))}`);
    for (const line of errors.slice(0, 8)) console.log(`  ${line}`);
    if (errors.length > 8) console.log(paint.dim(`  … and ${errors.length - 8} more`));
  }
  if (!result) throw new Error(`no results for ${lesson.id}`);
  const progress = loadProgress();
  recordRun(progress, lesson, runSummary(result, errors));
  saveProgress(progress);
  console.log('');
  printResults([result]);
  if (passedAll(result)) {
    const next = nextLesson(progress, lessons);
    console.log(`\n${paint.green(paint.bold(`Lesson ${lesson.number} is done.`))}`);
    if (next)
      console.log(
        `Next: lesson ${next.number} · ${next.meta.title}: ${paint.cyan(`${COURSE} verify ${next.number}`)}`,
      );
    else console.log('That was the last lesson: the whole course passes.');
    return true;
  }
  printFailures(result, 1);
  console.log(`\nStuck? ${paint.cyan(`${COURSE} hint ${lesson.number}`)} gives the next hint.`);
  return false;
}

/**
 * The next hint for the step the learner is on; `again` says how to get the one after (a
 * command, or a key in watch).
 */
function hint(lesson: LessonInfo, again = 'Run it again'): void {
  const progress = loadProgress();
  const next = nextHint(progress, lesson);
  if (!next) {
    console.log(
      `\nLesson ${lesson.number} passes every test: no hint needed. ${paint.cyan(`${COURSE} solution ${lesson.number}`)} shows the reference.`,
    );
    return;
  }
  saveProgress(progress);
  console.log(
    `\n${paint.bold(`Step ${next.step}, hint ${next.number} of ${next.of}`)} · lesson ${lesson.number}\n`,
  );
  // Inline code keeps its backticks (`socket.end(message)`), coloured where the terminal allows.
  console.log(`  ${next.text.replace(/`[^`]+`/g, (code) => paint.cyan(code))}\n`);
  if (next.number < next.of)
    console.log(paint.dim(`${again} for hint ${next.number + 1} of step ${next.step}.`));
  else
    console.log(
      paint.dim(
        `That was step ${next.step}'s last hint. ${COURSE} solution ${lesson.number} shows the whole reference.`,
      ),
    );
}

async function reset(lesson: LessonInfo, yes: boolean): Promise<void> {
  const starter = starterFiles(lesson);
  const exercise = join(lesson.dir, 'exercise');
  const changed = [...starter].filter(([name, content]) => {
    const path = join(exercise, name);
    return !existsSync(path) || readFileSync(path, 'utf8') !== content;
  });
  if (changed.length === 0) {
    console.log(`Lesson ${lesson.number}'s exercise/ is already the starter as shipped.`);
    return;
  }
  console.log(`These files of lesson ${lesson.number} differ from the starter:`);
  for (const [name] of changed) console.log(`  lessons/${lesson.id}/exercise/${name}`);
  if (!(await confirm('Put the starter back? Your changes to them will be lost.', yes))) {
    console.log('Nothing changed.');
    return;
  }
  for (const [name, content] of changed) writeFileSync(join(exercise, name), content);
  const progress = loadProgress();
  forgetRuns(progress, lesson);
  saveProgress(progress);
  console.log(paint.green(`Lesson ${lesson.number} is back to its starter.`));
}

async function solution(lesson: LessonInfo, yes: boolean): Promise<void> {
  if (!(await confirm(`This shows the reference solution of lesson ${lesson.number}. Look?`, yes))) return;
  const starter = starterFiles(lesson);
  for (const name of starter.keys()) {
    const mine = join(lesson.dir, 'exercise', name);
    const theirs = join(lesson.dir, 'solution', name);
    if (!existsSync(theirs)) continue;
    const patch = createTwoFilesPatch(
      relative(ROOT, mine),
      relative(ROOT, theirs),
      existsSync(mine) ? readFileSync(mine, 'utf8') : '',
      readFileSync(theirs, 'utf8'),
      'your code',
      'the solution',
    );
    for (const line of patch.split('\n')) {
      if (line.startsWith('+') && !line.startsWith('+++')) console.log(paint.green(line));
      else if (line.startsWith('-') && !line.startsWith('---')) console.log(paint.red(line));
      else if (line.startsWith('@@')) console.log(paint.cyan(line));
      else console.log(line);
    }
  }
}

function run(lesson: LessonInfo, program: string | undefined, args: string[]): Promise<number> {
  const programs = lesson.meta.programs ?? [];
  if (!program || !programs.includes(program)) {
    throw new UsageError(`lesson ${lesson.number}'s programs are: ${programs.join(', ')}`);
  }
  const useSolution = args.includes('--solution');
  const file = join(lesson.dir, useSolution ? 'solution' : 'exercise', `${program}.ts`);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', file, ...args.filter((a) => a !== '--solution')],
    {
      stdio: 'inherit',
      cwd: ROOT,
    },
  );
  // Ctrl-C reaches the program too (same terminal): wait for it to stop by itself.
  process.on('SIGINT', () => {});
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const yes = rest.includes('--yes') || rest.includes('-y');
  const names = rest.filter((a) => !a.startsWith('-'));
  switch (command) {
    case undefined:
    case 'status':
      printCourse(loadProgress(), lessons);
      return 0;
    case 'verify':
      return (await verify(lessonNamed(names[0], currentLesson()))) ? 0 : 1;
    case 'watch':
      return watch({ poll: rest.includes('--poll'), lesson: lessonNamed(names[0], currentLesson()), hint });
    case 'hint':
      hint(lessonNamed(names[0], currentLesson()));
      return 0;
    case 'reset':
      await reset(lessonNamed(names[0]), yes);
      return 0;
    case 'solution':
      await solution(lessonNamed(names[0]), yes);
      return 0;
    case 'run':
      return run(lessonNamed(rest[0]), rest[1], rest.slice(2));
    case 'snapshot': {
      // Run on `npm install`: keeps the shipped starters for `course reset`.
      const taken = snapshotStarters(lessons);
      if (taken.length && !rest.includes('--quiet')) console.log(`kept the starters of ${taken.join(', ')}`);
      return 0;
    }
    case 'nc':
      return ncCommand(rest);
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command '${command}'\n\n${USAGE}`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`course: ${error.message}`);
  process.exitCode = 2;
}
