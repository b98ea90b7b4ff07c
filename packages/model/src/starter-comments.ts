/**
 * A starter in the learner's language: its comments translated, its code untouched. A lesson's
 * `exercise.LANG.json` (e.g. `exercise.zh-CN.json`) lists, file by file, each comment of the
 * English starter (`en`, the comment's text without its comment marks) and its
 * translation (`zh`). Identifiers, strings and every byte of code stay English: the tests, the
 * harness's messages and the solution diff are the same in both languages, and a learner can
 * search the web for what they read in the code.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Language } from './editions.ts';

/** One comment of a source file: a run of `//` lines, a block comment, or a comment after code. */
export interface CommentBlock {
  /** Offsets in the source: the first character of the comment, and just after its end. */
  start: number;
  end: number;
  style: 'line' | 'block' | 'trailing';
  /** The whitespace before the comment on its first line. */
  indent: string;
  /** `/**` or `/*` for a block. */
  opener: string;
  /** The text, marks removed, lines joined with \n. */
  text: string;
}

/** Comments that tools read, not people: never translated. */
const DIRECTIVE =
  /^\/\/\/|^\/\/\s*(?:region\b|endregion\b|@ts-|biome-ignore|eslint|#region|#endregion|portable:)/;

/** Every comment of a TypeScript source, in order (strings, templates and regexes skipped). */
export function commentBlocks(source: string): CommentBlock[] {
  const raw: { start: number; end: number; line: boolean }[] = [];
  let i = 0;
  let lastCode = '';
  while (i < source.length) {
    const c = source[i] as string;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      raw.push({ start: i, end: stop, line: true });
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      raw.push({ start: i, end: stop, line: false });
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      i = skipQuoted(source, i, c);
      lastCode = c;
    } else if (c === '/' && (lastCode === '' || '(,=:[!&|?{};+-*%<>~^'.includes(lastCode))) {
      // A regular expression literal: skip to its closing slash, outside any [class].
      let inClass = false;
      i++;
      while (i < source.length && source[i] !== '\n') {
        const r = source[i];
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      i++;
      lastCode = '/';
    } else {
      if (!/\s/.test(c)) lastCode = c;
      i++;
    }
  }

  const blocks: CommentBlock[] = [];
  for (let k = 0; k < raw.length; k++) {
    const first = raw[k] as (typeof raw)[number];
    const lineStart = source.lastIndexOf('\n', first.start - 1) + 1;
    const before = source.slice(lineStart, first.start);
    const indent = /^\s*$/.test(before) ? before : '';
    const own = /^\s*$/.test(before);
    const body = source.slice(first.start, first.end);
    if (first.line) {
      if (DIRECTIVE.test(body)) continue;
      if (!own) {
        blocks.push({ ...first, style: 'trailing', indent: '', opener: '', text: lineText(body) });
        continue;
      }
      // A run of `//` lines on their own, at the same indent, with nothing between them.
      const lines = [lineText(body)];
      let end = first.end;
      while (k + 1 < raw.length) {
        const next = raw[k + 1] as (typeof raw)[number];
        const between = source.slice(end, next.start);
        const nextBody = source.slice(next.start, next.end);
        if (!next.line || between !== `\n${indent}` || DIRECTIVE.test(nextBody)) break;
        lines.push(lineText(nextBody));
        end = next.end;
        k++;
      }
      blocks.push({ start: first.start, end, style: 'line', indent, opener: '', text: lines.join('\n') });
    } else {
      const opener = body.startsWith('/**') ? '/**' : '/*';
      blocks.push({
        ...first,
        style: own ? 'block' : 'trailing',
        indent,
        opener,
        text: blockText(body, opener),
      });
    }
  }
  return blocks;
}

function skipQuoted(source: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < source.length && source[i] !== quote) {
    if (source[i] === '\\') i++;
    i++;
  }
  return i + 1;
}

function lineText(body: string): string {
  return body.replace(/^\/\/ ?/, '').trimEnd();
}

function blockText(body: string, opener: string): string {
  const inner = body.slice(opener.length, -2);
  const lines = inner.split('\n').map((line, n) => (n === 0 ? line : line.replace(/^\s*\* ?/, '')).trimEnd());
  if (lines[0]?.trim() === '') lines.shift();
  if (lines.at(-1)?.trim() === '') lines.pop();
  return lines.map((line, n) => (n === 0 ? line.trim() : line)).join('\n');
}

/** A comment written again in the style of `block`, around `text`. */
function render(block: CommentBlock, text: string): string {
  const lines = text.split('\n');
  if (block.style === 'line')
    return lines.map((l, n) => `${n ? block.indent : ''}//${l ? ` ${l}` : ''}`).join('\n');
  if (block.style === 'trailing' && !block.opener) return `// ${lines.join(' ')}`;
  if (lines.length === 1 && !block.text.includes('\n')) return `${block.opener} ${text} */`;
  const inside = lines.map((l) => `${block.indent} *${l ? ` ${l}` : ''}`).join('\n');
  return `${block.opener}\n${inside}\n${block.indent} */`;
}

/** One file's translations: the English text of a comment, and the same in the other language. */
export type CommentPairs = { en: string; zh: string }[];
/** A lesson's `exercise.LANG.json`: exercise file name → its comments. */
export type StarterCatalogue = Record<string, CommentPairs>;

/** A lesson's exercise/ files as the repository holds them (the English starter): name → text. */
export function exerciseFiles(lessonDir: string): Map<string, string> {
  const folder = join(lessonDir, 'exercise');
  return new Map(readdirSync(folder).map((name) => [name, readFileSync(join(folder, name), 'utf8')]));
}

export function catalogueFile(lessonDir: string, lang: Language): string {
  return join(lessonDir, `exercise.${lang}.json`);
}

/** The lesson's catalogue for `lang`, or undefined when it has none. */
export function readCatalogue(lessonDir: string, lang: Language): StarterCatalogue | undefined {
  const file = catalogueFile(lessonDir, lang);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StarterCatalogue) : undefined;
}

/**
 * `source` with each comment that `pairs` translates replaced by its translation, in the same
 * style and indent; `untranslated` lists the comments it has no translation for (left English).
 */
export function translateComments(
  source: string,
  pairs: CommentPairs,
): { text: string; untranslated: string[] } {
  const byText = new Map(pairs.filter((p) => p.zh.trim() !== '').map((p) => [p.en, p.zh]));
  const untranslated: string[] = [];
  let text = '';
  let at = 0;
  for (const block of commentBlocks(source)) {
    const zh = byText.get(block.text);
    if (zh === undefined) {
      untranslated.push(block.text);
      continue;
    }
    if (zh.includes('*/')) throw new Error(`a translation may not contain */: ${JSON.stringify(zh)}`);
    text += source.slice(at, block.start) + render(block, zh);
    at = block.end;
  }
  return { text: text + source.slice(at), untranslated };
}

/** The code without its comments and blank space: equal for a file and its translation. */
export function codeOnly(source: string): string {
  let text = '';
  let at = 0;
  for (const block of commentBlocks(source)) {
    text += source.slice(at, block.start);
    at = block.end;
  }
  return (text + source.slice(at)).replace(/\s+/g, '');
}

/** A skeleton catalogue for a starter: every comment with an empty translation, or the old one. */
export function catalogueSkeleton(files: Map<string, string>, old: StarterCatalogue = {}): StarterCatalogue {
  const out: StarterCatalogue = {};
  for (const [name, source] of files) {
    const known = new Map((old[name] ?? []).map((p) => [p.en, p.zh]));
    const seen = new Set<string>();
    out[name] = [];
    for (const block of commentBlocks(source)) {
      if (seen.has(block.text)) continue;
      seen.add(block.text);
      out[name].push({ en: block.text, zh: known.get(block.text) ?? '' });
    }
  }
  return out;
}

export interface StarterParity {
  /** missing: no catalogue yet; stale: comments without a translation, or translations of none. */
  state: 'in sync' | 'missing' | 'stale' | 'different';
  problems: string[];
}

/** How a lesson's catalogue for `lang` matches the comments of its English starter (`files`). */
export function starterParity(lessonDir: string, lang: Language, files: Map<string, string>): StarterParity {
  const at = `lessons/${basename(lessonDir)}/exercise.${lang}.json`;
  const catalogue = readCatalogue(lessonDir, lang);
  if (!catalogue) return { state: 'missing', problems: [`${at} does not exist yet`] };
  const problems: string[] = [];
  const stale: string[] = [];
  const todos = (text: string) => (text.match(/TODO\(\d+\)/g) ?? []).join(' ');
  for (const [name, source] of files) {
    const pairs = catalogue[name] ?? [];
    const wanted = new Set(commentBlocks(source).map((b) => b.text));
    for (const pair of pairs) {
      if (!wanted.has(pair.en))
        stale.push(`${name}: no comment reads ${JSON.stringify(clip(pair.en))} any more`);
      else if (pair.zh.trim() === '')
        stale.push(`${name}: ${JSON.stringify(clip(pair.en))} has no translation`);
      else if (todos(pair.zh) !== todos(pair.en))
        problems.push(
          `${at}: ${name}: the translation of ${JSON.stringify(clip(pair.en))} must keep ${todos(pair.en) || 'no TODO(n)'}`,
        );
      else if (pair.zh.includes('*/')) problems.push(`${at}: ${name}: a translation may not contain */`);
    }
    const known = new Set(pairs.map((p) => p.en));
    for (const text of wanted)
      if (!known.has(text)) stale.push(`${name}: ${JSON.stringify(clip(text))} is not in it`);
  }
  for (const name of Object.keys(catalogue))
    if (!files.has(name)) problems.push(`${at}: the starter has no file ${name}`);
  if (problems.length) return { state: 'different', problems };
  if (stale.length)
    return {
      state: 'stale',
      problems: [
        `${at} does not match the starter's comments (npm run translations -- ${basename(lessonDir).slice(0, 2)} --skeleton adds the new ones):`,
        ...stale.slice(0, 5).map((s) => `  ${s}`),
        ...(stale.length > 5 ? [`  and ${stale.length - 5} more`] : []),
      ],
    };
  return { state: 'in sync', problems: [] };
}

function clip(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 60 || text.includes('\n') ? `${line.slice(0, 60)}…` : line;
}
