/**
 * The starter of each lesson exactly as shipped, to put it back (`course reset`). A copy is kept
 * in .course/starters/ (ignored by git) from the first `npm install`; without it, the files are
 * read from git at the commit the course was cloned at, which the learner's own commits do not
 * change. The shipped starter is English; in another language its comments come from the
 * lesson's catalogue (starter-comments.ts), its code the same.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { LANGUAGES, type Language, SOURCE_LANGUAGE } from './editions.ts';
import { type LessonInfo, listLessons, ROOT } from './lessons.ts';
import { readCatalogue, translateComments } from './starter-comments.ts';

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

/**
 * The shipped starter files of a lesson, path inside exercise/ → content: in English, or with
 * their comments in `lang` where the lesson's catalogue translates them.
 */
export function starterFiles(lesson: LessonInfo, lang: Language = SOURCE_LANGUAGE): Map<string, string> {
  const english = shippedStarter(lesson);
  const catalogue = lang === SOURCE_LANGUAGE ? undefined : readCatalogue(lesson.dir, lang);
  if (!catalogue) return english;
  return new Map(
    [...english].map(([name, text]) => [name, translateComments(text, catalogue[name] ?? []).text]),
  );
}

function shippedStarter(lesson: LessonInfo): Map<string, string> {
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
 * The language of the lesson's exercise/ when it is the starter as shipped, in any language
 * (line endings aside): the learner has not started it, or has reset it. Undefined when it is
 * not, or when the shipped starter cannot be found.
 */
export function starterLanguage(lesson: LessonInfo): Language | undefined {
  const same = (a: string, b: string) => a.replace(/\r\n/g, '\n') === b.replace(/\r\n/g, '\n');
  return LANGUAGES.find((lang) => {
    let starter: Map<string, string>;
    try {
      starter = starterFiles(lesson, lang);
    } catch {
      return false;
    }
    return [...starter].every(([name, content]) => {
      const path = join(lesson.dir, 'exercise', name);
      return existsSync(path) && same(readFileSync(path, 'utf8'), content);
    });
  });
}

/** Whether the lesson's exercise/ is the starter as shipped, in any language. */
export function isStarter(lesson: LessonInfo): boolean {
  return starterLanguage(lesson) !== undefined;
}

/**
 * Writes the starter in `lang` into each lesson whose exercise/ is still a starter, in any
 * language; the others are the learner's work and stay as they are. Returns both lists.
 */
export function writeStarters(
  lang: Language,
  lessons = listLessons(),
): { written: LessonInfo[]; kept: LessonInfo[] } {
  const written: LessonInfo[] = [];
  const kept: LessonInfo[] = [];
  for (const lesson of lessons) {
    const now = starterLanguage(lesson);
    if (now === undefined) kept.push(lesson);
    if (now === undefined || now === lang) continue;
    for (const [name, text] of starterFiles(lesson, lang))
      writeFileSync(join(lesson.dir, 'exercise', name), text);
    written.push(lesson);
  }
  return { written, kept };
}
