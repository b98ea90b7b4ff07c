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
 *   course lang [en|zh-CN]          the course's language, kept in .course/; the untouched
 *                                   starters' comments follow it
 *
 * Lessons are named by number (01, 1) or name (tcp-client). Run through npm: `npm run course -- verify 01`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline/promises';
import {
  LANGUAGE_FILE,
  LANGUAGES,
  type Language,
  learnerLanguage,
  metaIn,
  SOURCE_LANGUAGE,
  savedLanguage,
} from '@course/model/editions';
import { closestLessons, findLesson, type LessonInfo, listLessons, ROOT } from '@course/model/lessons';
import {
  forgetRuns,
  loadProgress,
  nextHint,
  nextLesson,
  recordRun,
  saveProgress,
} from '@course/model/progress';
import { readCatalogue } from '@course/model/starter-comments';
import { snapshotStarters, starterFiles, starterLanguage, writeStarters } from '@course/model/starters';
import { words } from '@course/words';
import { createTwoFilesPatch } from 'diff';
import { ncCommand } from './nc.ts';
import { paint } from './paint.ts';
import { COURSE, passedAll, printCourse, printFailures, printResults } from './report.ts';
import { runLessonTests, runSummary } from './run-tests.ts';
import { watch } from './watch.ts';

/** The learner's words (COURSE_LANG, or the system's language). */
const learner = learnerLanguage();
const say = words(learner).course;
const USAGE = say.usage(COURSE);

/** A problem worded for the learner: printed as one line, exit code 2. */
class UsageError extends Error {}

const lessons = listLessons();

function lessonNamed(name: string | undefined, fallback?: LessonInfo): LessonInfo {
  if (name === undefined) {
    if (fallback) return fallback;
    throw new UsageError(say.whichLesson);
  }
  const lesson = findLesson(name, lessons);
  if (lesson) return lesson;
  const close = closestLessons(name, lessons).map((l) => `${l.number} (${l.slug})`);
  throw new UsageError(say.noLesson(name, close));
}

/** The lesson to work on: the first not done (or the last one when all are). */
function currentLesson(): LessonInfo {
  const lesson = nextLesson(loadProgress(), lessons) ?? lessons.at(-1);
  if (!lesson) throw new UsageError(say.noLessons);
  return lesson;
}

async function confirm(question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) {
    throw new UsageError(say.answerWithYes(question));
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return say.yes.test((await rl.question(`${question} ${say.yesNo} `)).trim());
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
  // Incremental: what tsc learnt of the files not edited since the last run is kept in the cache
  // (0.3 s a run instead of 0.9 s for lesson 01, measured), and the CPU is the tests' sooner.
  // One file per lesson folder: copies of the course that share node_modules (the course's own
  // tests make some) would otherwise overwrite each other's, and each run would start over.
  const folder = createHash('sha256').update(lesson.dir).digest('hex').slice(0, 8);
  const buildInfo = join(ROOT, 'node_modules', '.cache', 'course-tsc', `${lesson.id}-${folder}.tsbuildinfo`);
  const args = [tsc, '-p', lesson.dir, '--pretty', 'false', '--incremental', '--tsBuildInfoFile', buildInfo];
  const child = spawn(process.execPath, args, {
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
    console.log(`\n${paint.red(paint.bold(say.doesNotCompileYet))}`);
    for (const line of errors.slice(0, 8)) console.log(`  ${line}`);
    if (errors.length > 8) console.log(paint.dim(say.andMore(errors.length - 8)));
  }
  if (!result) throw new Error(`no results for ${lesson.id}`);
  const progress = loadProgress();
  recordRun(progress, lesson, runSummary(result, errors));
  saveProgress(progress);
  console.log('');
  printResults([result]);
  if (passedAll(result)) {
    const next = nextLesson(progress, lessons);
    console.log(`\n${paint.green(paint.bold(say.lessonDone(lesson.number)))}`);
    if (next)
      console.log(
        say.nextVerify(
          next.number,
          metaIn(next.meta, learner).title,
          paint.cyan(`${COURSE} verify ${next.number}`),
        ),
      );
    else console.log(say.lastLesson);
    return true;
  }
  printFailures(result, 1);
  console.log(`\n${say.stuckHint(paint.cyan(`${COURSE} hint ${lesson.number}`))}`);
  return false;
}

/**
 * The next hint for the step the learner is on; `again` says how to get the one after (a
 * command, or a key in watch).
 */
function hint(lesson: LessonInfo, again = say.runAgain): void {
  const progress = loadProgress();
  // The hints in the learner's language (lesson.json's translations), counted the same way.
  const next = nextHint(progress, { ...lesson, meta: metaIn(lesson.meta, learner) });
  if (!next) {
    console.log(`\n${say.noHintNeeded(lesson.number, paint.cyan(`${COURSE} solution ${lesson.number}`))}`);
    return;
  }
  saveProgress(progress);
  console.log(
    `\n${paint.bold(say.hintHeading(next.step, next.number, next.of))} · ${say.hintLesson(lesson.number)}\n`,
  );
  // Inline code keeps its backticks (`socket.end(message)`), coloured where the terminal allows.
  console.log(`  ${next.text.replace(/`[^`]+`/g, (code) => paint.cyan(code))}\n`);
  if (next.number < next.of) console.log(paint.dim(say.forHint(again, next.number + 1, next.step)));
  else console.log(paint.dim(say.lastHint(next.step, `${COURSE} solution ${lesson.number}`)));
}

async function reset(lesson: LessonInfo, yes: boolean): Promise<void> {
  const starter = starterFiles(lesson, learner);
  const exercise = join(lesson.dir, 'exercise');
  const changed = [...starter].filter(([name, content]) => {
    const path = join(exercise, name);
    return !existsSync(path) || readFileSync(path, 'utf8') !== content;
  });
  if (changed.length === 0) {
    console.log(say.alreadyStarter(lesson.number));
    return;
  }
  console.log(say.theseDiffer(lesson.number));
  for (const [name] of changed) console.log(`  lessons/${lesson.id}/exercise/${name}`);
  if (!(await confirm(say.putBack, yes))) {
    console.log(say.nothingChanged);
    return;
  }
  for (const [name, content] of changed) writeFileSync(join(exercise, name), content);
  const progress = loadProgress();
  forgetRuns(progress, lesson);
  saveProgress(progress);
  console.log(paint.green(say.backToStarter(lesson.number)));
}

async function solution(lesson: LessonInfo, yes: boolean): Promise<void> {
  if (!(await confirm(say.lookAtSolution(lesson.number), yes))) return;
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
      say.yourCode,
      say.theSolution,
    );
    for (const line of patch.split('\n')) {
      if (line.startsWith('+') && !line.startsWith('+++')) console.log(paint.green(line));
      else if (line.startsWith('-') && !line.startsWith('---')) console.log(paint.red(line));
      else if (line.startsWith('@@')) console.log(paint.cyan(line));
      else console.log(line);
    }
  }
}

/**
 * `course lang [LANG]`: saves the course's language and writes the untouched starters in it
 * (their comments; the code is the same). Without LANG, says which it is and how to change it.
 */
function language(name: string | undefined): number {
  const lang = LANGUAGES.find((l) => l.toLowerCase() === name?.toLowerCase());
  if (name === undefined || !lang) {
    if (name !== undefined) throw new UsageError(say.noSuchLanguage(name, LANGUAGES));
    console.log(say.languageIs(learner, `${COURSE} lang ${LANGUAGES.find((l) => l !== learner)}`));
    return 0;
  }
  mkdirSync(dirname(LANGUAGE_FILE), { recursive: true });
  writeFileSync(LANGUAGE_FILE, `${lang}\n`);
  const now = words(lang as Language).course;
  const { written, kept } = writeStarters(lang, lessons);
  console.log(now.languageSet);
  if (process.env.COURSE_LANG && learnerLanguage() !== lang)
    console.log(now.courseLangWins(process.env.COURSE_LANG));
  if (written.length) console.log(now.startersWritten(written.map((l) => l.number)));
  if (kept.length)
    console.log(
      now.startersKept(
        kept.map((l) => l.number),
        `${COURSE} reset`,
      ),
    );
  return 0;
}

function run(lesson: LessonInfo, program: string | undefined, args: string[]): Promise<number> {
  const programs = lesson.meta.programs ?? [];
  if (!program || !programs.includes(program)) {
    throw new UsageError(say.programsAre(lesson.number, programs));
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
      // A learner whose system speaks Chinese, and who has not chosen: the starters can too.
      if (
        learner !== SOURCE_LANGUAGE &&
        !savedLanguage() &&
        lessons.some((l) => readCatalogue(l.dir, learner) && starterLanguage(l) === SOURCE_LANGUAGE)
      )
        console.log(`\n${paint.dim(say.startersCanFollow(`${COURSE} lang ${learner}`))}`);
      return 0;
    case 'lang':
      return language(rest[0]);
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
      if (taken.length && !rest.includes('--quiet')) console.log(say.keptStarters(taken));
      // A language chosen on purpose (COURSE_LANG, or `course lang`) reaches the starters too.
      if (learner !== SOURCE_LANGUAGE && (process.env.COURSE_LANG || savedLanguage()))
        writeStarters(learner, lessons);
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
      throw new UsageError(`${say.unknownCommand(command)}\n\n${USAGE}`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`course: ${error.message}`);
  process.exitCode = 2;
}
