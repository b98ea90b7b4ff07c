/**
 * Markdown to HTML for the course pages: markdown-it with GitHub's heading anchors and callouts,
 * build-time highlighting (shiki, only the languages the course uses), copy buttons, and the
 * course's directives, written as HTML comments so that GitHub shows nothing for them:
 *
 *   <!-- include: exercise/client.ts#step-3 -->   a region of a real lesson file, highlighted
 *
 * and its diagrams, written as images so that GitHub shows the committed file, and drawn inline
 * on the site, recorded at build time with the site's styles (site/src/diagrams/lesson.ts):
 *
 *   ![The client sends hello](diagrams/request-reply.svg)   a diagram of the lesson's diagrams.ts
 *   ![A TCP connection](diagrams/tcp-handshake.svg)          or else a concept figure
 *   ![一个 TCP 连接](diagrams/tcp-handshake.zh-CN.svg)        the same, its words in Chinese
 *
 * (`<!-- wire: NAME -->` and `<!-- figure: NAME -->`, the older form, still draw on the site.)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
import type { Language } from '@course/model/editions';
import { type Words, words } from '@course/words';
import GithubSlugger from 'github-slugger';
import MarkdownIt, { type StateCore, type Token } from 'markdown-it';
import { createHighlighterCore, type HighlighterCore } from 'shiki/core';
import { createOnigurumaEngine } from 'shiki/engine/oniguruma';
import { IMAGE_PATH } from './diagrams/lesson.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** Languages the highlighter loads; fences in other languages are shown as plain text. */
const LANGUAGES: Record<string, string> = {
  ts: 'typescript',
  typescript: 'typescript',
  js: 'javascript',
  javascript: 'javascript',
  json: 'json',
  sh: 'bash',
  bash: 'bash',
  shell: 'bash',
  python: 'python',
  py: 'python',
  http: 'http',
};

let highlighter: Promise<HighlighterCore> | undefined;

/** The highlighter with only the course's languages: loading every grammar takes seconds. */
export function loadHighlighter(): Promise<HighlighterCore> {
  highlighter ??= createHighlighterCore({
    themes: [import('shiki/themes/github-light-default.mjs'), import('shiki/themes/github-dark-default.mjs')],
    langs: [
      import('shiki/langs/typescript.mjs'),
      import('shiki/langs/javascript.mjs'),
      import('shiki/langs/json.mjs'),
      import('shiki/langs/bash.mjs'),
      import('shiki/langs/python.mjs'),
      import('shiki/langs/http.mjs'),
    ],
    // The WebAssembly regex engine: about three times faster here than the JavaScript one.
    engine: createOnigurumaEngine(import('shiki/wasm')),
  });
  return highlighter;
}

export interface Heading {
  level: number;
  text: string;
  id: string;
}

/** What rendering one page needs besides its markdown. */
export interface PageContext {
  /** The lesson folder the page was written in (its relative links start there). */
  dir: string;
  /** Where the page will be, relative to the repository root, for links to files. */
  pageDepth: number;
  /** README.md path (repo-relative, posix) → page file name, for links between lessons. */
  pages: Map<string, string>;
  /** Rendered SVG by `KIND:NAME` (`wire:request-reply`, `figure:tcp-handshake`). */
  diagrams: Map<string, string>;
  highlighter: HighlighterCore;
  /**
   * Code already highlighted, by language and text: given one map for a whole build, a block
   * both editions show (every included file) is highlighted once.
   */
  highlighted?: Map<string, string>;
  /**
   * The text of a file an `include` shows (default: the file on disk). The site passes the
   * shipped starter for exercise/ files, so that a learner's edits never change the lesson.
   */
  read?: (file: string) => string;
  /** The edition: the words the page adds (callout titles, copy buttons) are in its language. */
  lang?: Language;
}

export interface RenderedPage {
  html: string;
  headings: Heading[];
  /** The first level-1 heading's text. */
  title: string;
}

const { escapeHtml } = new MarkdownIt().utils;

export function renderMarkdown(source: string, context: PageContext): RenderedPage {
  const w = words(context.lang ?? 'en').site;
  const md = new MarkdownIt({ html: true, linkify: false, typographer: false });
  const slugger = new GithubSlugger();
  const headings: Heading[] = [];

  md.core.ruler.push('course', (state) => {
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] as Token;
      if (token.type === 'heading_open') {
        const inline = tokens[i + 1] as Token;
        const text = inlineText(inline);
        const id = slugger.slug(text);
        token.attrSet('id', id);
        headings.push({ level: Number(token.tag.slice(1)), text, id });
        // A link to this heading, as on GitHub.
        const anchor = new state.Token('course_html', '', 0);
        anchor.content = `<a class="anchor" href="#${id}" aria-label="${w.anchor}">#</a>`;
        inline.children?.push(anchor);
      }
      if (token.type === 'blockquote_open') markCallout(state, i, w);
    }
  });

  // A paragraph that is only `![title](diagrams/NAME.svg)`: the diagram itself, inline.
  md.core.ruler.push('course_diagrams', (state) => {
    const tokens = state.tokens;
    for (let i = 0; i + 2 < tokens.length; i++) {
      if (tokens[i]?.type !== 'paragraph_open' || tokens[i + 2]?.type !== 'paragraph_close') continue;
      const children = (tokens[i + 1]?.children ?? []).filter(
        (t) => t.type !== 'softbreak' && !(t.type === 'text' && t.content.trim() === ''),
      );
      const image = children.length === 1 && children[0]?.type === 'image' ? children[0] : undefined;
      const name = IMAGE_PATH.exec(String(image?.attrGet('src') ?? ''))?.[1];
      if (!name) continue;
      const figure = new state.Token('course_html', '', 0);
      figure.content = diagram(name, undefined, context);
      tokens.splice(i, 3, figure);
    }
  });

  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx] as Token;
    const lang = token.info.trim().split(/\s+/)[0] ?? '';
    return codeBlock(context.highlighter, token.content, lang, undefined, w, context.highlighted);
  };

  // Raw HTML in a README is shown as text, never run (`<script>`, `<img onerror>`): the only HTML
  // the site renders is its own (the tokens added above) and the course's directives.
  md.renderer.rules.course_html = (tokens, idx) => (tokens[idx] as Token).content;
  md.renderer.rules.html_inline = (tokens, idx) => escapeHtml((tokens[idx] as Token).content);
  md.renderer.rules.html_block = (tokens, idx) => directive((tokens[idx] as Token).content, context);

  // Any other image: its path from the page (a diagram inside a sentence among them).
  const image = md.renderer.rules.image;
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    const token = tokens[idx] as Token;
    const src = String(token.attrGet('src') ?? '');
    if (src) token.attrSet('src', rewriteLink(src, context));
    return image ? image(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
  };

  md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
    const token = tokens[idx] as Token;
    const href = String(token.attrGet('href') ?? '');
    if (href) token.attrSet('href', rewriteLink(href, context));
    if (href && /^https?:/.test(href)) token.attrSet('rel', 'noopener');
    return self.renderToken(tokens, idx, options);
  };

  const html = md.render(source);
  const title = headings.find((h) => h.level === 1)?.text ?? '';
  return { html, headings, title };
}

/** Plain text of an inline token (what GitHub slugs), without markup. */
function inlineText(inline: Token): string {
  return (inline.children ?? [])
    .filter((t) => t.type === 'text' || t.type === 'code_inline')
    .map((t) => t.content)
    .join('');
}

/** `> [!TIP]` blockquotes become callouts: the marker is dropped, a title and a class added. */
function markCallout(state: StateCore, open: number, w: Words['site']): void {
  const tokens = state.tokens;
  const inline = tokens[open + 2];
  if (tokens[open + 1]?.type !== 'paragraph_open' || inline?.type !== 'inline') return;
  const match = /^\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*/.exec(inline.content);
  if (!match) return;
  const kind = match[1] as string;
  tokens[open]?.attrSet('class', `callout callout-${kind.toLowerCase()}`);
  const first = inline.children?.[0];
  if (first?.type === 'text') first.content = first.content.replace(/^\[!\w+\]\s*/, '');
  // A soft break right after the marker would start the text with an empty line.
  if (inline.children?.[1]?.type === 'softbreak' && first?.content === '') inline.children.splice(0, 2);
  const title = new state.Token('course_html', '', 0);
  title.content = `<strong class="callout-title">${w.callouts[kind as keyof typeof w.callouts]}</strong>`;
  inline.children?.unshift(title);
}

/** A highlighted code block with a copy button; `caption` names the file it came from. */
export function codeBlock(
  highlighter: HighlighterCore,
  code: string,
  lang: string,
  caption?: string,
  w: Words['site'] = words('en').site,
  highlighted?: Map<string, string>,
): string {
  const language = LANGUAGES[lang.toLowerCase()] ?? 'text';
  const text = code.replace(/\n$/, '');
  const key = `${language}\n${text}`;
  let body = highlighted?.get(key);
  if (body === undefined) {
    body = highlighter.codeToHtml(text, {
      lang: language,
      themes: { light: 'github-light-default', dark: 'github-dark-default' },
      // Colours as CSS variables only (--shiki-light, --shiki-dark): site.css picks by scheme.
      defaultColor: false,
    });
    highlighted?.set(key, body);
  }
  const head = caption ? `<figcaption>${caption}</figcaption>` : '';
  return `<figure class="code">${head}<button type="button" class="copy" aria-label="${w.copyCode}">${w.copy}</button>${body}</figure>\n`;
}

/**
 * The course's directives; a plain comment is dropped (as on GitHub); `<details>` and its
 * `<summary>` (text and `<code>` only) fold depth away as on GitHub; other HTML shown as text.
 */
function directive(html: string, context: PageContext): string {
  const trimmed = html.trim();
  const details = /^<details( open)?>\s*(?:<summary>((?:[^<]|<\/?code>)*)<\/summary>)?$/.exec(trimmed);
  if (details) {
    const summary = escapeHtml(details[2] ?? 'More').replace(/&lt;(\/?)code&gt;/g, '<$1code>');
    return `<details${details[1] ?? ''}><summary>${summary}</summary>\n`;
  }
  if (trimmed === '</details>') return '</details>\n';
  const match = /^<!--\s*(include|wire|figure):\s*(\S+)\s*-->\s*$/.exec(trimmed);
  if (!match) return /^<!--[\s\S]*-->$/.test(trimmed) ? '' : `<p>${escapeHtml(trimmed)}</p>\n`;
  const [, kind, argument = ''] = match;
  if (kind === 'include') return include(argument, context);
  return diagram(argument, kind as 'wire' | 'figure', context);
}

/** A recorded diagram or a figure, inline; `kind` when the README said which (a directive). */
function diagram(name: string, kind: 'wire' | 'figure' | undefined, context: PageContext): string {
  const found = (kind ? [kind] : (['wire', 'figure'] as const)).flatMap((k) => {
    const svg = context.diagrams.get(`${k}:${name}`);
    return svg ? [{ kind: k, svg }] : [];
  })[0];
  if (!found)
    throw new Error(
      `${relative(REPO_ROOT, context.dir)}/README.md: no ${kind ?? 'diagram'} called '${name}'`,
    );
  return `<figure class="diagram ${found.kind}">${found.svg}</figure>\n`;
}

/** `exercise/client.ts#step-3`: the lines between `// region step-3` and `// endregion step-3`. */
function include(reference: string, context: PageContext): string {
  const [path = '', region] = reference.split('#');
  const file = join(context.dir, path);
  const where = `${relative(REPO_ROOT, context.dir)}/README.md`;
  if (!existsSync(file)) throw new Error(`${where}: include ${path}: no such file`);
  const code = extractRegion((context.read ?? ((f) => readFileSync(f, 'utf8')))(file), region);
  if (code === undefined) throw new Error(`${where}: include ${path}: no region '${region}'`);
  const lang = path.split('.').pop() ?? 'text';
  const link = `<a href="${fileLink(file, context)}">${path}</a>`;
  return codeBlock(
    context.highlighter,
    code,
    lang,
    region ? `${link} · ${region}` : link,
    words(context.lang ?? 'en').site,
    context.highlighted,
  );
}

/** The text of a region, without its markers and common indentation; the whole file without one. */
export function extractRegion(source: string, region: string | undefined): string | undefined {
  if (!region) return source;
  const lines = source.split('\n');
  const start = lines.findIndex((l) => l.trim() === `// region ${region}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === `// endregion ${region}`);
  if (start < 0 || end < 0) return undefined;
  const body = lines.slice(start + 1, end).filter((l) => !/^\s*\/\/ (end)?region /.test(l));
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return body.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

/** Links in READMEs work on GitHub; on the site, README links go to pages and files to sources. */
function rewriteLink(href: string, context: PageContext): string {
  if (/^([a-z]+:|#|\/\/)/i.test(href)) return href;
  const [path = '', hash] = href.split('#');
  const target = resolve(context.dir, decodeURIComponent(path));
  const repoPath = relative(REPO_ROOT, target).split(sep).join(posix.sep);
  const page = context.pages.get(repoPath);
  if (page) return `${page}${hash ? `#${hash}` : ''}`;
  return fileLink(target, context) + (hash ? `#${hash}` : '');
}

/**
 * A repository file, relative to the page: right when the site is opened from disk
 * (site/dist is two folders below the root), and served under /lessons/ by `npm start`.
 */
function fileLink(file: string, context: PageContext): string {
  const repoPath = relative(REPO_ROOT, file).split(sep).join(posix.sep);
  const up = '../'.repeat(context.pageDepth);
  const folder = existsSync(file) && statSync(file).isDirectory();
  return `${up}${repoPath}${folder && !repoPath.endsWith('/') ? '/' : ''}`;
}
