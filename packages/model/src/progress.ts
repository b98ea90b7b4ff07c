/**
 * The learner's progress: what the last test run of each lesson found, in one small JSON file at
 * the repository root, ignored by git. A lesson's state comes from its files first (untouched
 * files are "not started", whatever the record says), then from that record. Deleting the file
 * loses nothing but the record; a missing or unreadable file is started afresh, with a warning.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LessonInfo, ROOT } from './lessons.ts';
import { isStarter } from './starters.ts';
import { stepCount, stepOf } from './steps.ts';

export const PROGRESS_FILE = join(ROOT, '.course-progress.json');

export interface LessonProgress {
  /** Every test passed against exercise/ at the last run, and the code compiled. */
  done?: boolean;
  passed?: number;
  total?: number;
  /** The step of the first failing test at the last run. */
  step?: number;
  /** Why the code did not compile at the last run (`exercise/client.ts:12 ';' expected`). */
  compileError?: string;
  /** How many hints of each step have been shown (`{ "3": 2 }`). */
  hintsShown?: Record<string, number>;
  /** ISO date of the last test run. */
  lastRun?: string;
}

export interface Progress {
  version: 1;
  lessons: Record<string, LessonProgress>;
}

export type LessonState = 'done' | 'in progress' | 'not started' | 'does not compile';

/** What a test run of the learner's code found, as the progress records it. */
export interface RunSummary {
  passed: number;
  total: number;
  /** The full names of the failing tests (`step 2: … › …`). */
  failed: string[];
  /** The first compile error, if the code did not compile. */
  compileError?: string;
}

const fresh = (): Progress => ({ version: 1, lessons: {} });

export function loadProgress(file = PROGRESS_FILE): Progress {
  if (!existsSync(file)) return fresh();
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Progress;
    if (parsed?.version !== 1 || typeof parsed.lessons !== 'object' || parsed.lessons === null) {
      throw new Error('not a progress file');
    }
    return parsed;
  } catch (error) {
    console.warn(
      `warning: ${file} could not be read (${(error as Error).message}); starting a new one. ` +
        'Your code is untouched; only the record of finished lessons and shown hints was lost.',
    );
    return fresh();
  }
}

/** Writes atomically (a temporary file, then a rename), so an interrupted write cannot corrupt it. */
export function saveProgress(progress: Progress, file = PROGRESS_FILE): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(progress, null, 2)}\n`);
  renameSync(temporary, file);
}

export function lessonProgress(progress: Progress, lesson: LessonInfo): LessonProgress {
  progress.lessons[lesson.id] ??= {};
  return progress.lessons[lesson.id] as LessonProgress;
}

/** Records a test run of the learner's code. */
export function recordRun(progress: Progress, lesson: LessonInfo, run: RunSummary): void {
  const entry = lessonProgress(progress, lesson);
  const steps = run.failed.map(stepOf).filter((n): n is number => n !== undefined);
  entry.passed = run.passed;
  entry.total = run.total;
  entry.done = run.total > 0 && run.passed === run.total && !run.compileError;
  entry.step = steps.length ? Math.min(...steps) : undefined;
  entry.compileError = run.compileError;
  entry.lastRun = new Date().toISOString();
}

/** Forgets the lesson's runs (`course reset`); the hints already shown stay shown. */
export function forgetRuns(progress: Progress, lesson: LessonInfo): void {
  progress.lessons[lesson.id] = { hintsShown: progress.lessons[lesson.id]?.hintsShown };
}

/**
 * The lesson's state. `untouched` says whether its exercise files are the starter as shipped
 * (by default, read from the disk): then it is not started, whatever the record says.
 */
export function stateOf(
  progress: Progress,
  lesson: LessonInfo,
  untouched: (lesson: LessonInfo) => boolean = isStarter,
): LessonState {
  const entry = progress.lessons[lesson.id];
  if (untouched(lesson)) return 'not started';
  if (entry?.compileError) return 'does not compile';
  if (entry?.done) return 'done';
  return 'in progress';
}

/**
 * The lesson to work on: the one the learner ran last, while it is not done; after a done one,
 * the next not done after it (a learner who skipped ahead is not sent back to the first gap);
 * undefined when the course is finished.
 */
export function nextLesson(
  progress: Progress,
  lessons: LessonInfo[],
  untouched: (lesson: LessonInfo) => boolean = isStarter,
): LessonInfo | undefined {
  const notDone = (lesson: LessonInfo) => stateOf(progress, lesson, untouched) !== 'done';
  const lastRun = (lesson: LessonInfo) => progress.lessons[lesson.id]?.lastRun ?? '';
  const recent = lessons.reduce<LessonInfo | undefined>(
    (latest, lesson) => (lastRun(lesson) > (latest ? lastRun(latest) : '') ? lesson : latest),
    undefined,
  );
  if (recent && notDone(recent)) return recent;
  const after = recent ? lessons.findIndex((l) => l.id === recent.id) + 1 : 0;
  return lessons.slice(after).find(notDone) ?? lessons.find(notDone);
}

/** One hint, as `course hint` shows it. */
export interface Hint {
  step: number;
  /** 1-based position within the step's hints. */
  number: number;
  of: number;
  text: string;
}

/**
 * The next hint for the step the learner is on, and records it as shown: the first failing step
 * of the last run (step 1 when not started; the last step when only the program tests failed).
 * Undefined when the lesson is done. Asked again after the step's last hint, it repeats that one.
 */
export function nextHint(
  progress: Progress,
  lesson: LessonInfo,
  state = stateOf(progress, lesson),
): Hint | undefined {
  if (state === 'done') return undefined;
  const entry = lessonProgress(progress, lesson);
  const last = stepCount(lesson);
  const step = state === 'not started' ? 1 : Math.min(entry.step ?? last, last);
  const hints = lesson.meta.hints?.find((h) => h.step === step)?.hints ?? [];
  // A record from before hints were kept per step holds a number: start afresh.
  const shownByStep =
    typeof entry.hintsShown === 'object' && entry.hintsShown !== null ? entry.hintsShown : {};
  const shown = shownByStep[String(step)] ?? 0;
  const index = Math.min(shown, hints.length - 1);
  shownByStep[String(step)] = Math.min(shown + 1, hints.length);
  entry.hintsShown = shownByStep;
  return { step, number: index + 1, of: hints.length, text: hints[index] ?? '' };
}
