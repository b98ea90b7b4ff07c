/**
 * The offline search index of one edition: one entry per section of each lesson (its heading and
 * plain text) and one per glossary term, indexed by MiniSearch at build time and searched in the
 * browser by site.js, both with the same tokenizer (assets/tokenize.js, which pairs Chinese
 * characters so that 黏包 or 半连接池 are found).
 */
import MiniSearch from 'minisearch';
import type { Heading } from './markdown.ts';
import type { NavLesson } from './page.ts';
import './assets/tokenize.js';

declare global {
  var courseTokenize: (text: string) => string[];
}

/** What the browser needs to load the index: the same fields as the build, and the index. */
export interface SearchIndex {
  options: { fields: string[]; storeFields: string[] };
  index: unknown;
}

export function searchIndex(entries: SearchEntry[]): SearchIndex {
  const options = { fields: ['heading', 'text'], storeFields: ['url', 'lesson', 'heading', 'text'] };
  const search = new MiniSearch<SearchEntry & { id: number }>({
    ...options,
    tokenize: globalThis.courseTokenize,
  });
  search.addAll(entries.map((entry, id) => ({ ...entry, id })));
  return { options, index: search.toJSON() };
}

export interface SearchEntry {
  /** `01-tcp-client.html#the-idea` */
  url: string;
  lesson: string;
  heading: string;
  text: string;
}

/** Splits a README at its `##` and `###` headings into searchable sections of plain text. */
export function sectionsOf(markdown: string, lesson: NavLesson, headings: Heading[]): SearchEntry[] {
  const entries: SearchEntry[] = [];
  const ids = headings.filter((h) => h.level <= 3);
  let current: SearchEntry | undefined;
  let headingIndex = 0;
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^(#{1,3})\s+(.*)$/.exec(line);
    if (heading) {
      const h = ids[headingIndex++];
      current = {
        url: `${lesson.file}${h && h.level > 1 ? `#${h.id}` : ''}`,
        lesson: `${lesson.number} · ${lesson.title}`,
        heading: h?.text ?? heading[2] ?? '',
        text: '',
      };
      entries.push(current);
    } else if (current && !/^<!--.*-->$/.test(line.trim())) {
      current.text += ` ${plain(line)}`;
    }
  }
  for (const entry of entries) entry.text = entry.text.replace(/\s+/g, ' ').trim();
  return entries;
}

/** Markdown line to plain words: no link targets, emphasis marks or table pipes. */
function plain(line: string): string {
  return line
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*_>|#]/g, ' ')
    .replace(/\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]/g, '');
}
