/**
 * `npm run site`: builds the course site into site/dist from every lessons/NN/README.md and
 * lesson.json, in order. Diagrams are recorded from each lesson's solution (lessons/NN/diagrams.ts)
 * and drawn as SVG; code is highlighted at build time; search works offline, from disk too.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  LANGUAGES,
  type Language,
  metaIn,
  readmeName,
  SOURCE_LANGUAGE,
  SWITCH_LINE,
} from '@course/model/editions';
import { findLesson, listLessons } from '@course/model/lessons';
import { starterFiles } from '@course/model/starters';
import { words } from '@course/words';
import type { HighlighterCore } from 'shiki/core';
import { lessonDiagrams } from './diagrams/lesson.ts';
import { glossaryTerms, readGlossary } from './glossary.ts';
import { loadHighlighter, REPO_ROOT, type RenderedPage, renderMarkdown } from './markdown.ts';
import { editionFolder, homeBody, type NavLesson, page as pageHtml } from './page.ts';
import { type SearchEntry, searchIndex, sectionsOf } from './search.ts';

export const SITE_DIR = join(REPO_ROOT, 'site');
export const DIST = join(SITE_DIR, 'dist');

interface LessonSource {
  id: string;
  dir: string;
  /** The English README, which the diagrams are recorded from. */
  readme: string;
  /** The page of each edition: its text (the English where none is written yet) and its nav entry. */
  editions: Record<Language, { text: string; translated: boolean; nav: NavLesson }>;
}

function readLessons(): LessonSource[] {
  const lessons = listLessons().filter((lesson) => {
    const ready = existsSync(join(lesson.dir, 'README.md'));
    // A lesson being written has no text yet; the course check reports it.
    if (!ready) console.warn(`site: lessons/${lesson.id} has no README.md yet; left out`);
    return ready;
  });
  return lessons.map((lesson) => {
    const readme = readFileSync(join(lesson.dir, 'README.md'), 'utf8');
    const edition = (lang: Language) => {
      const file = join(lesson.dir, readmeName(lang));
      const translated = existsSync(file);
      const meta = metaIn(lesson.meta, lang);
      return {
        text: withoutSwitch(translated ? readFileSync(file, 'utf8') : readme),
        translated,
        nav: {
          number: lesson.number,
          title: meta.title,
          file: `${lesson.id}.html`,
          objectives: meta.objectives ?? [],
          summary: meta.summary,
          folder: `lessons/${lesson.id}/`,
        },
      };
    };
    return {
      id: lesson.id,
      dir: lesson.dir,
      readme,
      editions: Object.fromEntries(
        LANGUAGES.map((lang) => [lang, edition(lang)]),
      ) as LessonSource['editions'],
    };
  });
}

/** A README without its first lines' language switch: on the site, the header has one. */
function withoutSwitch(markdown: string): string {
  const lines = markdown.split('\n');
  const at = lines.slice(0, 5).findIndex((line) => SWITCH_LINE.test(line));
  if (at >= 0) lines.splice(at, lines[at + 1]?.trim() === '' ? 2 : 1);
  return lines.join('\n');
}

/**
 * A file as the course ships it: an exercise/ file as its starter (kept at `npm install`, or from
 * git) with its comments in `lang`, whatever the learner has made of it since; any other file as
 * it is.
 */
export function shippedText(file: string, lang: Language = 'en'): string {
  const [, id = '', name = ''] =
    /^lessons\/([^/]+)\/exercise\/(.+)$/.exec(relative(REPO_ROOT, file).split(sep).join('/')) ?? [];
  const lesson = id ? findLesson(id) : undefined;
  if (lesson) {
    try {
      const starter = starterFiles(lesson, lang).get(name);
      if (starter !== undefined) return starter;
    } catch {
      // No kept copy and no git: the file as it is is all there is.
    }
  }
  return readFileSync(file, 'utf8');
}

/**
 * Records and draws every diagram a README shows (site/src/diagrams/lesson.ts), by kind and name,
 * in each edition's language (its words: lifelines, labels, titles).
 */
async function diagramsFor(lesson: LessonSource): Promise<Record<Language, Map<string, string>>> {
  const drawn = await lessonDiagrams(lesson.dir, lesson.readme, `lessons/${lesson.id}/README.md`, LANGUAGES);
  const inLanguage = (lang: Language) =>
    new Map([...drawn.values()].map((d) => [`${d.kind}:${d.name}`, d.editions[lang]?.svg ?? d.svg]));
  return Object.fromEntries(LANGUAGES.map((lang) => [lang, inLanguage(lang)])) as Record<
    Language,
    Map<string, string>
  >;
}

export async function buildSite(outDir = DIST): Promise<{ pages: number; ms: number }> {
  const started = performance.now();
  const lessons = readLessons();
  const version = String(Date.now().toString(36));
  const glossary = readGlossary();
  const loading = loadHighlighter();
  // Awaited by the lanes below, after their first recording: heard now, so that a failure to load
  // rejects buildSite() there rather than ending the process as a rejection nobody handled.
  loading.catch(() => {});
  const highlighted = new Map<string, string>();
  // README links lead to each edition's pages, and to the other edition's where they name it.
  const links = LANGUAGES.map((lang) => {
    const folder = editionFolder(lang);
    const pages = new Map<string, string>();
    for (const l of lessons)
      for (const other of LANGUAGES)
        pages.set(
          `lessons/${l.id}/${readmeName(other)}`,
          `${other === lang ? '' : `${folder ? '../' : ''}${editionFolder(other)}`}${l.editions[other].nav.file}`,
        );
    return pages;
  });
  /** Lesson i's page in one edition, its diagrams drawn. */
  const render = (
    lang: Language,
    i: number,
    drawn: Record<Language, Map<string, string>>,
    highlighter: HighlighterCore,
  ): RenderedPage => {
    const lesson = lessons[i] as LessonSource;
    const { text, translated } = lesson.editions[lang];
    const page = renderMarkdown(text, {
      dir: lesson.dir,
      pageDepth: editionFolder(lang) ? 3 : 2,
      pages: links[LANGUAGES.indexOf(lang)] as Map<string, string>,
      diagrams: drawn[translated ? lang : SOURCE_LANGUAGE],
      highlighter,
      highlighted,
      read: (file) => shippedText(file, lang),
      lang,
    });
    const note = translated ? '' : words(lang).site.untranslated;
    // Not translated yet: the English text, marked as English for screen readers and fonts.
    return note
      ? { ...page, html: `<p class="untranslated">${note}</p>\n<div lang="en">${page.html}</div>` }
      : page;
  };

  // Every page of every edition first, so that each page's language switch knows the headings of
  // its twin (the same headings in the same order: the switch keeps the reader's section). A
  // lesson's pages are rendered as soon as its diagrams are recorded, two lessons at a time, not
  // more: a recording is bounded (3 s), and exchanges that share a loaded machine with eight
  // others can miss that bound. Two, because recordings mostly wait: lesson 05's alone takes over
  // a second (a lost datagram's timeout), while the others record and render meanwhile. Both
  // editions show the same diagrams (the check holds a translation to its English's images), each
  // with its words in the page's language; a page not translated yet shows them in English.
  const rendered: RenderedPage[][] = LANGUAGES.map(() => []);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < lessons.length; i = next++) {
      const drawn = await diagramsFor(lessons[i] as LessonSource);
      const highlighter = await loading;
      LANGUAGES.forEach((lang, e) => {
        (rendered[e] as RenderedPage[])[i] = render(lang, i, drawn, highlighter);
      });
    }
  };
  await Promise.all([lane(), lane()]);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'assets'), { recursive: true });

  const pageOf = (lang: Language, i: number): RenderedPage => {
    const found = rendered[LANGUAGES.indexOf(lang)]?.[i];
    if (!found) throw new Error(`site: no ${lang} page for lesson ${lessons[i]?.id}`);
    return found;
  };
  let written = 0;
  LANGUAGES.forEach((lang, e) => {
    const folder = editionFolder(lang);
    const other = LANGUAGES[(e + 1) % LANGUAGES.length] as Language;
    const twin = (file: string) => `${folder ? '../' : ''}${editionFolder(other)}${file}`;
    const w = words(lang).site;
    const nav = lessons.map((l) => l.editions[lang].nav);
    const out = join(outDir, folder);
    mkdirSync(out, { recursive: true });
    const write = (file: string, html: string) => {
      writeFileSync(join(out, file), html);
      written += 1;
    };
    const search: SearchEntry[] = [];
    lessons.forEach((lesson, i) => {
      const { nav: current, text } = lesson.editions[lang];
      const page = pageOf(lang, i);
      search.push(...sectionsOf(text, current, page.headings));
      write(
        current.file,
        pageHtml({
          title: `${page.title || current.title} · ${w.brand}`,
          description: current.summary ?? current.title,
          body: page.html,
          lessons: nav,
          current,
          headings: page.headings,
          version,
          lang,
          self: current.file,
          other: {
            lang: other,
            href: twin(current.file),
            ids: pageOf(other, i).headings.map((h) => h.id),
          },
        }),
      );
    });
    const sections = (lessonIndex: number, edition: Language) => pageOf(edition, lessonIndex).headings;
    const terms = glossaryTerms(glossary, lessons, sections, lang);
    search.push(...terms.search);
    write(
      'index.html',
      pageHtml({
        title: w.homeTitle,
        description: w.homeDescription,
        body: homeBody(nav, lang),
        lessons: nav,
        home: true,
        version,
        lang,
        self: 'index.html',
        other: { lang: other, href: twin('index.html'), ids: [] },
      }),
    );
    write(
      'glossary.html',
      pageHtml({
        title: `${w.glossary} · ${w.brand}`,
        description: w.glossaryLead,
        body: terms.html,
        lessons: nav,
        glossary: true,
        version,
        lang,
        self: 'glossary.html',
        other: { lang: other, href: twin('glossary.html'), ids: [] },
      }),
    );
    // A script, not JSON: fetch() is not allowed for pages opened from disk (file://).
    writeFileSync(
      join(outDir, 'assets', `search-index.${lang}.js`),
      `window.COURSE_SEARCH = ${JSON.stringify(searchIndex(search))};\n`,
    );
  });

  const assets = join(SITE_DIR, 'src', 'assets');
  const css = ['site.css', join('..', 'diagrams', 'diagrams.css')].map((f) =>
    readFileSync(join(assets, f), 'utf8'),
  );
  writeFileSync(join(outDir, 'assets', 'site.css'), css.join('\n'));
  for (const file of ['site.js', 'tokenize.js', 'favicon.svg']) {
    writeFileSync(join(outDir, 'assets', file), readFileSync(join(assets, file), 'utf8'));
  }
  // MiniSearch's browser build (it sets window.MiniSearch), as the package ships it.
  const require = createRequire(import.meta.url);
  const umd = join(dirname(require.resolve('minisearch')), '..', 'umd', 'index.js');
  writeFileSync(join(outDir, 'assets', 'minisearch.js'), readFileSync(umd, 'utf8'));
  return { pages: written, ms: performance.now() - started };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { pages, ms } = await buildSite();
  console.log(`site: ${pages} pages in ${relative(process.cwd(), DIST) || '.'} (${Math.round(ms)} ms)`);
}
