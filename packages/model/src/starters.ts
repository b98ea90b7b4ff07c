/**
 * The starter of each lesson exactly as shipped, to put it back (`course reset`). A copy is kept
 * in .course/starters/ (ignored by git) from the first `npm install`; without it, the files are
 * read from git at the commit the course was cloned at, which the learner's own commits do not
 * change.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { type LessonInfo, listLessons, ROOT } from './lessons.ts';

export const STARTERS_DIR = join(ROOT, '.course', 'starters');

/** Keeps a copy of every lesson's exercise/ that has none yet (run on `npm install`). */
export function snapshotStarters(lessons = listLessons()): string[] {
  const taken: string[] = [];
  for (const lesson of lessons) {
    const target = join(STARTERS_DIR, lesson.id);
    if (existsSync(target)) continue;
    cpSync(join(lesson.dir, 'exercise'), target, { recursive: true });
    taken.push(lesson.id);
  }
  return taken;
}

/** The starters already read, by lesson folder: they do not change while a command runs. */
const read = new Map<string, Map<string, string>>();

/** The shipped starter files of a lesson: path inside exercise/ → content. */
export function starterFiles(lesson: LessonInfo): Map<string, string> {
  const known = read.get(lesson.dir);
  if (known) return known;
  const snapshot = join(STARTERS_DIR, lesson.id);
  const files = existsSync(snapshot) ? readTree(snapshot) : starterFromGit(lesson);
  if (files) {
    read.set(lesson.dir, files);
    return files;
  }
  throw new Error(
    `no copy of lesson ${lesson.number}'s starter was found: .course/starters/ is missing and this ` +
      'folder is not a git clone. Download the course again to get the starter back.',
  );
}

function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path).split(sep).join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

/** The exercise files at the commit the course was cloned at (the oldest entry of HEAD's reflog). */
function starterFromGit(lesson: LessonInfo): Map<string, string> | undefined {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const reflog = git('reflog', 'show', '--format=%H', 'HEAD').trim().split('\n');
    const cloned = reflog.at(-1) || git('rev-parse', 'HEAD').trim();
    const folder = `lessons/${lesson.id}/exercise/`;
    const names = git('ls-tree', '-r', '--name-only', cloned, folder).trim().split('\n').filter(Boolean);
    if (names.length === 0) return undefined;
    return new Map(names.map((name) => [name.slice(folder.length), git('show', `${cloned}:${name}`)]));
  } catch {
    return undefined;
  }
}

/**
 * Whether the lesson's exercise/ is the starter as shipped (line endings aside): the learner has
 * not started it, or has reset it. False when the shipped starter cannot be found.
 */
export function isStarter(lesson: LessonInfo): boolean {
  let starter: Map<string, string>;
  try {
    starter = starterFiles(lesson);
  } catch {
    return false;
  }
  const same = (a: string, b: string) => a.replace(/\r\n/g, '\n') === b.replace(/\r\n/g, '\n');
  return [...starter].every(([name, content]) => {
    const path = join(lesson.dir, 'exercise', name);
    return existsSync(path) && same(readFileSync(path, 'utf8'), content);
  });
}
