/**
 * The learner's progress: one small JSON file at the repository root, ignored by git. Deleting
 * it loses nothing but the record; a missing or unreadable file is started afresh, with a warning.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LessonInfo, ROOT } from './lessons.ts';
import { paint } from './paint.ts';

export const PROGRESS_FILE = join(ROOT, '.course-progress.json');

export interface LessonProgress {
  /** Every test passed against exercise/ at the last run. */
  done?: boolean;
  passed?: number;
  total?: number;
  /** How many hints have been shown, in order. */
  hintsShown?: number;
  /** ISO date of the last test run. */
  lastRun?: string;
}

export interface Progress {
  version: 1;
  lessons: Record<string, LessonProgress>;
}

export type LessonState = 'done' | 'in progress' | 'not started';

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
      paint.yellow(
        `warning: ${file} could not be read (${(error as Error).message}); starting a new one. ` +
          'Your code is untouched; only the record of finished lessons and shown hints was lost.',
      ),
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
export function recordRun(progress: Progress, lesson: LessonInfo, passed: number, total: number): void {
  const entry = lessonProgress(progress, lesson);
  Object.assign(entry, {
    passed,
    total,
    done: total > 0 && passed === total,
    lastRun: new Date().toISOString(),
  });
}

export function stateOf(progress: Progress, lesson: LessonInfo): LessonState {
  const entry = progress.lessons[lesson.id];
  if (entry?.done) return 'done';
  if (entry && ((entry.passed ?? 0) > 0 || (entry.hintsShown ?? 0) > 0)) return 'in progress';
  return 'not started';
}

/**
 * The lesson to work on: the one the learner ran last, while it is not done; after a done one,
 * the next not done after it (a learner who skipped ahead is not sent back to the first gap);
 * undefined when the course is finished.
 */
export function nextLesson(progress: Progress, lessons: LessonInfo[]): LessonInfo | undefined {
  const notDone = (lesson: LessonInfo) => stateOf(progress, lesson) !== 'done';
  const lastRun = (lesson: LessonInfo) => progress.lessons[lesson.id]?.lastRun ?? '';
  const recent = lessons.reduce<LessonInfo | undefined>(
    (latest, lesson) => (lastRun(lesson) > (latest ? lastRun(latest) : '') ? lesson : latest),
    undefined,
  );
  if (recent && notDone(recent)) return recent;
  const after = recent ? lessons.findIndex((l) => l.id === recent.id) + 1 : 0;
  return lessons.slice(after).find(notDone) ?? lessons.find(notDone);
}
