/** The HTML around each page: header with search, sidebar, in-page contents, previous / next. */
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
  /** The lesson shown, or undefined on the home page. */
  current?: NavLesson;
  headings?: Heading[];
  /** Cache-busting suffix for the assets, so a rebuilt site is never served stale. */
  version: string;
}

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function page(options: PageOptions): string {
  const { lessons, current } = options;
  const index = current ? lessons.indexOf(current) : -1;
  const previous = index > 0 ? lessons[index - 1] : undefined;
  const next = index >= 0 ? lessons[index + 1] : lessons[0];
  const v = `?v=${options.version}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="description" content="${escapeHtml(options.description)}">
<title>${escapeHtml(options.title)}</title>
<link rel="icon" href="assets/favicon.svg">
<link rel="stylesheet" href="assets/site.css${v}">
<script src="assets/search-index.js${v}" defer></script>
<script src="assets/site.js${v}" defer></script>
</head>
<body${current ? ` data-lesson="${current.number}"` : ''}>
<a class="skip" href="#main">Skip to the text</a>
<header class="top">
  <button type="button" class="menu" aria-controls="sidebar" aria-expanded="false">Lessons</button>
  <a class="brand" href="index.html">Sockets, by hand</a>
  <div class="search" role="search">
    <label class="visually-hidden" for="search-input">Search the course</label>
    <input id="search-input" type="search" placeholder="Search the course" autocomplete="off"
      aria-controls="search-results" aria-describedby="search-help">
    <span id="search-help" class="visually-hidden">Results appear below as you type.</span>
    <ol id="search-results" class="search-results" aria-label="Search results" hidden></ol>
  </div>
</header>
<div class="layout">
<nav id="sidebar" class="sidebar" aria-label="Lessons">
  <a class="home${current ? '' : ' current'}" href="index.html"${current ? '' : ' aria-current="page"'}>Start here</a>
  <ol>
${lessons.map((l) => `    <li><a href="${l.file}"${l === current ? ' class="current" aria-current="page"' : ''}><span class="number">${l.number}</span> ${escapeHtml(l.title)}</a></li>`).join('\n')}
  </ol>
</nav>
<main id="main" class="content">
${current ? `<p class="folder">Lesson ${current.number} · your files are in <a href="../../${current.folder}"><code>${current.folder}</code></a></p>` : ''}
${options.body}
<nav class="pager" aria-label="Previous and next">
${previous ? `  <a class="previous" rel="prev" href="${previous.file}"><span>← Previous</span> ${escapeHtml(previous.title)}</a>` : '  <span></span>'}
${next ? `  <a class="next" rel="next" href="${next.file}"><span>Next →</span> ${escapeHtml(next.title)}</a>` : '  <span></span>'}
</nav>
</main>
${tableOfContents(options.headings ?? [])}
</div>
</body>
</html>
`;
}

function tableOfContents(headings: Heading[]): string {
  const shown = headings.filter((h) => h.level === 2 || h.level === 3);
  if (shown.length < 2) return '';
  const items = shown
    .map((h) => `    <li class="level-${h.level}"><a href="#${h.id}">${escapeHtml(h.text)}</a></li>`)
    .join('\n');
  return `<nav class="toc" aria-label="On this page">
  <p class="toc-title">On this page</p>
  <ol>
${items}
  </ol>
</nav>`;
}

/** The home page's text: what the course teaches, the lessons with their objectives, how to start. */
export function homeBody(lessons: NavLesson[]): string {
  const cards = lessons
    .map(
      (l) => `<li class="lesson-card">
  <h3><a href="${l.file}"><span class="number">${l.number}</span> ${escapeHtml(l.title)}</a></h3>
  ${l.summary ? `<p>${escapeHtml(l.summary)}</p>` : ''}
  <ul>${l.objectives.map((o) => `<li>${escapeHtml(o)}</li>`).join('')}</ul>
</li>`,
    )
    .join('\n');
  return `<h1 id="sockets-by-hand">Sockets, by hand</h1>
<p class="lead">Network programming on Node.js, in TypeScript, one lesson at a time. You write real TCP and
UDP clients and servers, test them against real peers on your own machine, including hostile ones
that cut your bytes into pieces, reset connections or stop reading, and you see what actually
crosses the wire.</p>
<h2 id="how-to-start">How to start</h2>
<pre class="commands"><code>npm install &amp;&amp; npm start          # this site, and where you are
npm install &amp;&amp; npm run check      # verify the course itself</code></pre>
<p>Then, for each lesson: read its page, fill in the numbered <code>TODO</code>s in its
<code>exercise/</code> folder, and run <code>npm test -- 01</code> (with the lesson's number) until it is
green. Every failing test says what it expected, what arrived as text and bytes, and what to try.</p>
<h2 id="the-lessons">The lessons</h2>
<ol class="lesson-cards">
${cards}
</ol>`;
}
