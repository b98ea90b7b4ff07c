/**
 * The lessons: folders under lessons/ with a lesson.json, in order; how a learner may name one
 * (`01`, `1`, `tcp-client`, `01-tcp-client`, or its folder path).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const LESSONS_DIR = join(ROOT, 'lessons');

export interface LessonMeta {
  title: string;
  order?: number;
  summary?: string;
  objectives: string[];
  /** Hints by step (`{ step: 3, hints: [what and why, which API, the code] }`), in step order. */
  hints: { step: number; hints: string[] }[];
  programs?: string[];
  /** The learner-facing text in other languages (see editions.ts), by language tag. */
  translations?: Partial<
    Record<string, Partial<Pick<LessonMeta, 'title' | 'summary' | 'objectives' | 'hints'>>>
  >;
}

export interface LessonInfo {
  /** `02-tcp-server` */
  id: string;
  /** `02` */
  number: string;
  /** `tcp-server` */
  slug: string;
  dir: string;
  meta: LessonMeta;
}

export function listLessons(): LessonInfo[] {
  if (!existsSync(LESSONS_DIR)) return [];
  return readdirSync(LESSONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(LESSONS_DIR, entry.name, 'lesson.json')))
    .map((entry) => lessonAt(join(LESSONS_DIR, entry.name)))
    .sort((a, b) => a.id.localeCompare(b.id));
}

export function lessonAt(dir: string): LessonInfo {
  const id = basename(dir);
  const [, number = id, slug = id] = /^(\d+)-(.*)$/.exec(id) ?? [];
  const meta = JSON.parse(readFileSync(join(dir, 'lesson.json'), 'utf8')) as LessonMeta;
  return { id, number, slug, dir, meta };
}

/** The lesson a learner means by `name`, or undefined. */
export function findLesson(name: string, lessons = listLessons()): LessonInfo | undefined {
  const path = resolve(name);
  const wanted = name
    .toLowerCase()
    .replace(/^lessons[\\/]/, '')
    .replace(/[\\/]$/, '');
  return lessons.find(
    (l) =>
      l.dir === path ||
      l.id === wanted ||
      l.slug === wanted ||
      (/^\d+$/.test(wanted) && Number(l.number) === Number(wanted)),
  );
}

/** The lessons whose names are closest to `name`, to suggest when it matches none. */
export function closestLessons(name: string, lessons = listLessons()): LessonInfo[] {
  const scored = lessons.map((l) => ({ l, d: Math.min(distance(name, l.slug), distance(name, l.id)) }));
  const best = Math.min(...scored.map((s) => s.d));
  return scored
    .filter((s) => s.d <= Math.max(best, 3))
    .map((s) => s.l)
    .slice(0, 3);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}
