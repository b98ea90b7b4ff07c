/**
 * The glossary page: every term of the course in English and Chinese, its Node.js and Python
 * names, and the lesson section that teaches it (site/glossary.json). Each term is also a search
 * entry that leads to that section, so that 黏包 finds lesson 07 in the English edition too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Language } from '@course/model/editions';
import { words } from '@course/words';
import GithubSlugger from 'github-slugger';
import { type Heading, REPO_ROOT } from './markdown.ts';
import { escapeHtml } from './page.ts';
import type { SearchEntry } from './search.ts';

export const GLOSSARY_FILE = join(REPO_ROOT, 'site', 'glossary.json');

export interface Term {
  en: string;
  zh: string;
  /** The lesson that teaches it first: `02-tcp-server`. */
  lesson: string;
  /** The English heading of the section that teaches it, as the README writes it. */
  heading: string;
  node: string | null;
  python: string | null;
  note: string;
  noteZh: string;
}

export function readGlossary(): Term[] {
  return existsSync(GLOSSARY_FILE) ? (JSON.parse(readFileSync(GLOSSARY_FILE, 'utf8')) as Term[]) : [];
}

/** What a heading reads as, whatever its markup: how a term finds its section. */
const plain = (text: string) => text.replace(/[`*_]/g, '').trim();

/**
 * The page and the search entries of one edition. `sections(i, lang)` are the headings of the
 * i-th lesson's page in `lang`: the term's English heading is found in the English page, and the
 * link goes to the heading at the same place in this edition's page.
 */
export function glossaryTerms(
  terms: Term[],
  lessons: { id: string; editions: Record<Language, { nav: { number: string; file: string } }> }[],
  sections: (lessonIndex: number, lang: Language) => Heading[],
  lang: Language,
): { html: string; search: SearchEntry[] } {
  const w = words(lang).site;
  const zh = lang === 'zh-CN';
  const sorted = [...terms].sort((a, b) =>
    zh
      ? new Intl.Collator('zh-CN').compare(a.zh, b.zh)
      : a.en.localeCompare(b.en, 'en', { sensitivity: 'base' }),
  );
  const slugger = new GithubSlugger();
  const search: SearchEntry[] = [];
  const rows = sorted.map((term) => {
    const i = lessons.findIndex((l) => l.id === term.lesson);
    const lesson = lessons[i];
    if (!lesson)
      throw new Error(`site/glossary.json: '${term.en}' names lesson ${term.lesson}, which does not exist`);
    const at = sections(i, 'en').findIndex((h) => plain(h.text) === plain(term.heading));
    const heading = sections(i, lang)[at];
    if (at < 0 || !heading)
      throw new Error(
        `site/glossary.json: '${term.en}' is taught under '${term.heading}', which lessons/${term.lesson}/README.md does not have`,
      );
    const { number, file } = lesson.editions[lang].nav;
    const url = `${file}#${heading.id}`;
    const note = zh ? term.noteZh : term.note;
    search.push({
      url,
      lesson: w.glossary,
      heading: zh ? `${term.zh} · ${term.en}` : `${term.en} · ${term.zh}`,
      text: [note, zh ? term.note : term.noteZh, term.node, term.python].filter(Boolean).join(' '),
    });
    const code = (name: string | null) => (name ? `<code>${escapeHtml(name)}</code>` : '');
    // The edition's own language first, as the row's header.
    const cell = (tag: 'th' | 'td', language: string, text: string) =>
      `<${tag}${tag === 'th' ? ' scope="row"' : ''} lang="${language}">${escapeHtml(text)}</${tag}>`;
    const names = zh
      ? cell('th', 'zh-CN', term.zh) + cell('td', 'en', term.en)
      : cell('th', 'en', term.en) + cell('td', 'zh-CN', term.zh);
    return `<tr id="${slugger.slug(`term-${term.en}`)}">
  ${names}
  <td>${code(term.node)}</td><td>${code(term.python)}</td>
  <td><a href="${url}">${number} · ${escapeHtml(heading.text)}</a><br><span class="note">${escapeHtml(note)}</span></td>
</tr>`;
  });
  const first = zh ? [w.chinese, w.english] : [w.term, w.chinese];
  const html = `<h1 id="glossary">${w.glossaryTitle}</h1>
<p class="lead">${w.glossaryLead}</p>
<div class="table-scroll" role="region" aria-label="${w.glossary}" tabindex="0">
<table class="glossary">
<thead><tr>${[...first, w.node, w.python, w.taughtIn].map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</div>`;
  return { html, search };
}
