/**
 * The course's editions: English, the source, and its translations (today 简体中文). A lesson's
 * translation is `README.<lang>.md` beside its README.md, and a `translations.<lang>` block in
 * lesson.json. The check holds each translation to its English: the same headings, includes,
 * images and code blocks in the same order, anchors that exist, and the same steps and hints; and
 * it says when the English changed since the translation was brought up to date (the translation's
 * first line records the English file's hash).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import GithubSlugger from 'github-slugger';
import { type LessonMeta, ROOT } from './lessons.ts';

export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];
export const SOURCE_LANGUAGE: Language = 'en';

/** Where `course lang` keeps the learner's choice (ignored by git, like the rest of .course/). */
export const LANGUAGE_FILE = join(ROOT, '.course', 'language');

/** The language `course lang` saved, if any. */
export function savedLanguage(file = LANGUAGE_FILE): Language | undefined {
  const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return LANGUAGES.find((lang) => lang === text);
}

/**
 * The learner's language: `COURSE_LANG` if set, else the one `course lang` saved, else the
 * system's locale (`LC_ALL`, `LC_MESSAGES`, `LANG` on Linux and macOS; the locale Node reports,
 * which is Windows' own), as the closest edition; English when none is close.
 */
export function learnerLanguage(
  env: NodeJS.ProcessEnv = process.env,
  saved: Language | undefined = savedLanguage(),
): Language {
  const locale =
    env.COURSE_LANG ||
    saved ||
    env.LC_ALL ||
    env.LC_MESSAGES ||
    env.LANG ||
    Intl.DateTimeFormat().resolvedOptions().locale;
  return /^zh(?:[-_](?:cn|sg|hans)|$|[-_.@])/i.test(locale) ? 'zh-CN' : 'en';
}

/** `README.md` for English, `README.zh-CN.md` for Chinese. */
export function readmeName(lang: Language): string {
  return lang === SOURCE_LANGUAGE ? 'README.md' : `README.${lang}.md`;
}

/** A lesson's title, summary, objectives and hints in `lang`, English where it has none. */
export function metaIn(meta: LessonMeta, lang: Language): LessonMeta {
  const translated = lang === SOURCE_LANGUAGE ? undefined : meta.translations?.[lang];
  return { ...meta, ...translated };
}

/** The first 12 hex digits of the SHA-256 of the English a translation was made from. */
export function sourceHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** `<!-- zh-CN translation of README.md @ sha256:0123456789ab -->` */
const STAMP = /^<!-- (\S+) translation of (\S+) @ sha256:([0-9a-f]{12}) -->/;

/** The language switch each README starts with (GitHub's readers have no other); the site drops it. */
export const SWITCH_LINE =
  /^(\*\*English\*\*|\[English\]\([^)]*\)) · (\*\*简体中文\*\*|\[简体中文\]\([^)]*\))\s*$/;

/** The parts of a README its translation must keep, in order; code blocks are not searched. */
export interface Outline {
  headings: { level: number; text: string; slug: string }[];
  includes: string[];
  images: string[];
  fences: number;
  /** Link targets: `#anchor` or `path#anchor`. */
  anchors: string[];
}

export function outline(markdown: string): Outline {
  const slugger = new GithubSlugger();
  const out: Outline = { headings: [], includes: [], images: [], fences: 0, anchors: [] };
  let fence: string | undefined;
  for (const line of markdown.split(/\r?\n/)) {
    const opener = /^\s*(```|~~~)/.exec(line)?.[1];
    if (fence) {
      if (opener === fence && /^\s*(```|~~~)\s*$/.test(line)) fence = undefined;
      continue;
    }
    if (opener) {
      fence = opener;
      out.fences += 1;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const text = (heading[2] ?? '').replace(/`([^`]*)`/g, '$1').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
      out.headings.push({ level: (heading[1] ?? '').length, text, slug: slugger.slug(text) });
    }
    const include = /^<!--\s*include:\s*(\S+)\s*-->/.exec(line.trim());
    if (include) out.includes.push(include[1] ?? '');
    for (const image of line.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) out.images.push(image[1] ?? '');
    for (const link of line.replace(/`[^`]*`/g, '').matchAll(/(?<!!)\[[^\]]*\]\(([^)\s]*#[^)\s]+)\)/g))
      out.anchors.push(link[1] ?? '');
  }
  return out;
}

/** Where a translation stands against its English: in sync, or what is missing or stale. */
export interface Parity {
  state: 'in sync' | 'stale' | 'missing' | 'different';
  problems: string[];
}

/**
 * Compares `README.<lang>.md` in `dir` with `README.md`, and a lesson's translated meta with its
 * English. Problems name the file (relative to the repository) and what to bring over.
 */
export function parity(dir: string, lang: Language, meta?: LessonMeta): Parity {
  const english = join(dir, 'README.md');
  const file = join(dir, readmeName(lang));
  const at = (path: string) => relative(ROOT, path).split(sep).join('/');
  if (!existsSync(file)) return { state: 'missing', problems: [`${at(file)} does not exist yet`] };
  const source = readFileSync(english, 'utf8');
  const text = readFileSync(file, 'utf8');
  const problems: string[] = [];
  const stamp = STAMP.exec(text);
  if (!stamp || stamp[1] !== lang || stamp[2] !== 'README.md')
    problems.push(
      `${at(file)} must start with <!-- ${lang} translation of README.md @ sha256:${sourceHash(source)} -->`,
    );
  const en = outline(source);
  const tr = outline(text);
  const levels = (o: Outline) => o.headings.map((h) => h.level).join('');
  if (levels(en) !== levels(tr)) {
    const i = [...levels(en)].findIndex((level, k) => levels(tr)[k] !== level);
    const missed = en.headings[i];
    problems.push(
      `${at(file)} has ${tr.headings.length} headings, the English ${en.headings.length}; they part at heading ${i + 1}` +
        (missed ? ` ('${'#'.repeat(missed.level)} ${missed.text}')` : ''),
    );
  }
  for (const [what, a, b] of [
    ['includes', en.includes, tr.includes],
    ['images', en.images.map(localised(lang, dir)), tr.images],
  ] as const) {
    const missing = a.filter((x, k) => b[k] !== x);
    if (missing.length || a.length !== b.length)
      problems.push(`${at(file)}: its ${what} differ from the English's: ${diff(a, b)}`);
  }
  if (en.fences !== tr.fences)
    problems.push(`${at(file)} has ${tr.fences} code blocks, the English ${en.fences}`);
  for (const target of tr.anchors) {
    const [path = '', anchor = ''] = target.split('#');
    if (/^[a-z]+:/i.test(path)) continue;
    const linked = path ? resolve(dir, decodeURIComponent(path)) : file;
    if (!existsSync(linked)) {
      problems.push(`${at(file)} links to ${target}: no such file`);
      continue;
    }
    if (!linked.endsWith('.md')) continue;
    const slugs = outline(readFileSync(linked, 'utf8')).headings.map((h) => h.slug);
    if (!slugs.includes(decodeURIComponent(anchor)))
      problems.push(`${at(file)} links to ${target}: ${at(linked)} has no heading with that anchor`);
  }
  if (meta) problems.push(...metaProblems(meta, lang, at(join(dir, 'lesson.json'))));
  if (problems.length) return { state: 'different', problems };
  if (stamp?.[3] !== sourceHash(source))
    return {
      state: 'stale',
      problems: [
        `${at(english)} changed since ${at(file)} was brought up to date (git log -p ${at(english)}); translate the change, then stamp sha256:${sourceHash(source)}`,
      ],
    };
  return { state: 'in sync', problems: [] };
}

/** A figure with its words localised is `name.<lang>.svg` beside `name.svg`, when there is one. */
function localised(lang: Language, dir: string) {
  return (path: string) => {
    const local = path.replace(/\.svg$/, `.${lang}.svg`);
    return local !== path && existsSync(join(dir, local)) ? local : path;
  };
}

function diff(a: readonly string[], b: readonly string[]): string {
  const lost = a.filter((x) => !b.includes(x));
  const added = b.filter((x) => !a.includes(x));
  const parts = [
    lost.length ? `missing ${lost.join(', ')}` : '',
    added.length ? `not in the English ${added.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'in another order';
}

function metaProblems(meta: LessonMeta, lang: Language, at: string): string[] {
  const tr = meta.translations?.[lang];
  if (!tr) return [`${at} has no "translations": { "${lang}": { title, summary, objectives, hints } }`];
  const problems: string[] = [];
  for (const key of ['title', 'summary'] as const)
    if (meta[key] && !tr[key]) problems.push(`${at}: translations.${lang}.${key} is missing`);
  if ((tr.objectives ?? []).length !== meta.objectives.length)
    problems.push(
      `${at}: translations.${lang} has ${tr.objectives?.length ?? 0} objectives, the English ${meta.objectives.length}`,
    );
  const shape = (hints: LessonMeta['hints'] = []) =>
    hints.map((h) => `${h.step}:${h.hints.length}`).join(' ');
  if (shape(tr.hints) !== shape(meta.hints))
    problems.push(
      `${at}: translations.${lang}.hints must have the English's steps and hints per step (${shape(meta.hints)}), not (${shape(tr.hints)})`,
    );
  else
    meta.hints.forEach((step, i) => {
      if (codeOf(tr.hints?.[i]?.hints.at(-1)).join('\n') !== codeOf(step.hints.at(-1)).join('\n'))
        problems.push(
          `${at}: translations.${lang}, step ${step.step}: the last hint's code must be the English's, unchanged`,
        );
    });
  return problems;
}

/** The code a hint shows: its `code spans`, which a translation keeps byte for byte. */
function codeOf(hint = ''): string[] {
  return [...hint.matchAll(/(`+)([\s\S]*?[^`])\1(?!`)/g)].map((m) => m[2] ?? '');
}

/**
 * A lesson's step headings in `lang`, by step number: `Step 3: read the reply` in English, and
 * the heading at the same place in the translation (`第 3 步：读取回复`), which keeps the
 * English's headings in order. Empty when the lesson has no README in that language.
 */
export function stepHeadings(dir: string, lang: Language): Map<number, string> {
  const read = (name: string) => {
    const file = join(dir, name);
    return existsSync(file) ? outline(readFileSync(file, 'utf8')).headings : [];
  };
  const english = read('README.md');
  const translated = lang === SOURCE_LANGUAGE ? english : read(readmeName(lang));
  const out = new Map<number, string>();
  if (translated.length !== english.length) return out;
  english.forEach((heading, i) => {
    const step = /^Step (\d+)\b/.exec(heading.text)?.[1];
    if (step) out.set(Number(step), translated[i]?.text ?? heading.text);
  });
  return out;
}
