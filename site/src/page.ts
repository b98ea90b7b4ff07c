/**
 * The HTML around each page: header with search and the language switch, sidebar, in-page
 * contents, previous / next; in the page's edition (English at the site's root, 简体中文 under
 * zh-CN/).
 */
import type { Language } from '@course/model/editions';
import { words } from '@course/words';
import type { Heading } from './markdown.ts';

export interface NavLesson {
  number: string;
  title: string;
  /** `01-tcp-client.html` */
  file: string;
  objectives: string[];
  summary?: string;
  /** `lessons/01-tcp-client/` */
  folder: string;
}

export interface PageOptions {
  /** The `<title>`. */
  title: string;
  description: string;
  body: string;
  lessons: NavLesson[];
  /** The lesson shown, if the page is a lesson's. */
  current?: NavLesson;
  home?: boolean;
  glossary?: boolean;
  /** The page's own file name, for its `hreflang` link. */
  self: string;
  headings?: Heading[];
  /** Cache-busting suffix for the assets, so a rebuilt site is never served stale. */
  version: string;
  lang: Language;
  /** The same page in the other edition, and its heading ids in order (the switch keeps the place). */
  other: { lang: Language; href: string; ids: string[] };
}

/** Where an edition's pages are, from the site's root: English at the root, the others in a folder. */
export function editionFolder(lang: Language): string {
  return lang === 'en' ? '' : `${lang}/`;
}

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function page(options: PageOptions): string {
  const { lessons, current, lang, other } = options;
  const w = words(lang).site;
  const index = current ? lessons.indexOf(current) : -1;
  const previous = index > 0 ? lessons[index - 1] : undefined;
  const next = index >= 0 ? lessons[index + 1] : lessons[0];
  const v = `?v=${options.version}`;
  // The assets are shared: an edition in a folder reaches them one level up.
  const up = editionFolder(lang) ? '../' : '';
  const alternates = [
    `<link rel="alternate" hreflang="${lang}" href="${options.self ?? ''}">`,
    `<link rel="alternate" hreflang="${other.lang}" href="${other.href}">`,
  ];
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="description" content="${escapeHtml(options.description)}">
<title>${escapeHtml(options.title)}</title>
${alternates.join('\n')}
<link rel="icon" href="${up}assets/favicon.svg">
<link rel="stylesheet" href="${up}assets/site.css${v}">
<script src="${up}assets/site.js${v}" defer></script>
</head>
<body${current ? ` data-lesson="${current.number}"` : ''} data-copy="${w.copy}" data-copied="${w.copied}" data-select="${w.selectAndCopy}" data-none="${w.noResults}">
<a class="skip" href="#main">${w.skip}</a>
<header class="top">
  <button type="button" class="menu" aria-controls="sidebar" aria-expanded="false">${w.lessons}</button>
  <a class="brand" href="index.html">${w.brand}</a>
  <div class="search" role="search">
    <label class="visually-hidden" for="search-input">${w.search}</label>
    <input id="search-input" type="search" placeholder="${w.search}" autocomplete="off"
      aria-controls="search-results" aria-describedby="search-help"
      data-scripts="${up}assets/minisearch.js${v} ${up}assets/tokenize.js${v} ${up}assets/search-index.${lang}.js${v}">
    <span id="search-help" class="visually-hidden">${w.searchHelp}</span>
    <ol id="search-results" class="search-results" aria-label="${w.searchResults}" hidden></ol>
  </div>
  <a class="edition" href="${other.href}" hreflang="${other.lang}" lang="${other.lang}" aria-label="${w.otherEditionLabel}" data-lang="${other.lang}" data-ids="${escapeHtml(JSON.stringify(other.ids))}">${w.otherEdition}</a>
</header>
<div class="layout">
<nav id="sidebar" class="sidebar" aria-label="${w.lessons}">
  <a class="home${options.home ? ' current' : ''}" href="index.html"${options.home ? ' aria-current="page"' : ''}>${w.startHere}</a>
  <ol>
${lessons.map((l) => `    <li><a href="${l.file}"${l === current ? ' class="current" aria-current="page"' : ''}><span class="number">${l.number}</span> ${escapeHtml(l.title)}</a></li>`).join('\n')}
  </ol>
  <a class="glossary-link${options.glossary ? ' current' : ''}" href="glossary.html"${options.glossary ? ' aria-current="page"' : ''}>${w.glossary}</a>
</nav>
<main id="main" class="content">
${current ? `<p class="folder">${w.folder(current.number)} <a href="${up}../../${current.folder}"><code>${current.folder}</code></a></p>` : ''}
${options.body}
<nav class="pager" aria-label="${w.previousNext}">
${previous ? `  <a class="previous" rel="prev" href="${previous.file}"><span>${w.previous}</span> ${escapeHtml(previous.title)}</a>` : '  <span></span>'}
${next && !options.glossary ? `  <a class="next" rel="next" href="${next.file}"><span>${w.next}</span> ${escapeHtml(next.title)}</a>` : '  <span></span>'}
</nav>
</main>
${tableOfContents(options.headings ?? [], w.onThisPage)}
</div>
</body>
</html>
`;
}

function tableOfContents(headings: Heading[], title: string): string {
  const shown = headings.filter((h) => h.level === 2 || h.level === 3);
  if (shown.length < 2) return '';
  const items = shown
    .map((h) => `    <li class="level-${h.level}"><a href="#${h.id}">${escapeHtml(h.text)}</a></li>`)
    .join('\n');
  return `<nav class="toc" aria-label="${title}">
  <p class="toc-title">${title}</p>
  <ol>
${items}
  </ol>
</nav>`;
}

/** The home page's text: what the course teaches, the lessons with their objectives, how to start. */
export function homeBody(lessons: NavLesson[], lang: Language): string {
  const w = words(lang).site;
  const cards = lessons
    .map(
      (l) => `<li class="lesson-card">
  <h3><a href="${l.file}"><span class="number">${l.number}</span> ${escapeHtml(l.title)}</a></h3>
  ${l.summary ? `<p>${escapeHtml(l.summary)}</p>` : ''}
  <ul>${l.objectives.map((o) => `<li>${escapeHtml(o)}</li>`).join('')}</ul>
</li>`,
    )
    .join('\n');
  return `<h1 id="sockets-by-hand">${w.brand}</h1>
<p class="lead">${w.homeLead}</p>
<h2 id="how-to-start">${w.howToStart}</h2>
<pre class="commands"><code>npm install &amp;&amp; npm start          # ${w.startCommand}
npm install &amp;&amp; npm run check      # ${w.checkCommand}</code></pre>
<p>${w.howToWork}</p>
<h2 id="the-lessons">${w.theLessons}</h2>
<ol class="lesson-cards">
${cards}
</ol>`;
}
