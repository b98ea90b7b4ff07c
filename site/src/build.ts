/**
 * `npm run site`: builds the course site into site/dist from every lessons/NN/README.md and
 * lesson.json, in order. Diagrams are recorded from each lesson's solution (lessons/NN/diagrams.ts)
 * and drawn as SVG; code is highlighted at build time; search works offline, from disk too.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findLesson, listLessons } from '@course/model/lessons';
import { starterFiles } from '@course/model/starters';
import { lessonDiagrams } from './diagrams/lesson.ts';
import { loadHighlighter, REPO_ROOT, renderMarkdown } from './markdown.ts';
import { homeBody, type NavLesson, page } from './page.ts';
import { type SearchEntry, sectionsOf } from './search.ts';

export const SITE_DIR = join(REPO_ROOT, 'site');
export const DIST = join(SITE_DIR, 'dist');

interface LessonSource {
  id: string;
  dir: string;
  nav: NavLesson;
  readme: string;
}

function readLessons(): LessonSource[] {
  const lessons = listLessons().filter((lesson) => {
    const ready = existsSync(join(lesson.dir, 'README.md'));
    // A lesson being written has no text yet; the course check reports it.
    if (!ready) console.warn(`site: lessons/${lesson.id} has no README.md yet; left out`);
    return ready;
  });
  return lessons.map((lesson) => ({
    id: lesson.id,
    dir: lesson.dir,
    readme: readFileSync(join(lesson.dir, 'README.md'), 'utf8'),
    nav: {
      number: lesson.number,
      title: lesson.meta.title,
      file: `${lesson.id}.html`,
      objectives: lesson.meta.objectives ?? [],
      summary: lesson.meta.summary,
      folder: `lessons/${lesson.id}/`,
    },
  }));
}

/**
 * A file as the course ships it: an exercise/ file as its starter (kept at `npm install`, or from
 * git), whatever the learner has made of it since; any other file as it is.
 */
export function shippedText(file: string): string {
  const [, id = '', name = ''] =
    /^lessons\/([^/]+)\/exercise\/(.+)$/.exec(relative(REPO_ROOT, file).split(sep).join('/')) ?? [];
  const lesson = id ? findLesson(id) : undefined;
  if (lesson) {
    try {
      const starter = starterFiles(lesson).get(name);
      if (starter !== undefined) return starter;
    } catch {
      // No kept copy and no git: the file as it is is all there is.
    }
  }
  return readFileSync(file, 'utf8');
}

/** Records and draws every diagram a README shows (site/src/diagrams/lesson.ts), by kind and name. */
async function diagramsFor(lesson: LessonSource): Promise<Map<string, string>> {
  const drawn = await lessonDiagrams(lesson.dir, lesson.readme, `lessons/${lesson.id}/README.md`);
  return new Map([...drawn.values()].map((d) => [`${d.kind}:${d.name}`, d.svg]));
}

export async function buildSite(outDir = DIST): Promise<{ pages: number; ms: number }> {
  const started = performance.now();
  const lessons = readLessons();
  const nav = lessons.map((l) => l.nav);
  const pages = new Map(lessons.map((l) => [`lessons/${l.id}/README.md`, l.nav.file]));
  // One lesson's recordings at a time: each is bounded (3 s), and exchanges that share a loaded
  // machine with eight others can miss that bound. The highlighter loads meanwhile.
  const recordAll = async () => {
    const out: Map<string, string>[] = [];
    for (const lesson of lessons) out.push(await diagramsFor(lesson));
    return out;
  };
  const [highlighter, diagrams] = await Promise.all([loadHighlighter(), recordAll()]);
  const version = String(Date.now().toString(36));

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'assets'), { recursive: true });

  const search: SearchEntry[] = [];
  lessons.forEach((lesson, i) => {
    const rendered = renderMarkdown(lesson.readme, {
      dir: lesson.dir,
      pageDepth: 2,
      pages,
      diagrams: diagrams[i] ?? new Map(),
      highlighter,
      read: shippedText,
    });
    search.push(...sectionsOf(lesson.readme, lesson.nav, rendered.headings));
    const html = page({
      title: `${rendered.title || lesson.nav.title} · Sockets, by hand`,
      description: lesson.nav.summary ?? lesson.nav.title,
      body: rendered.html,
      lessons: nav,
      current: lesson.nav,
      headings: rendered.headings,
      version,
    });
    writeFileSync(join(outDir, lesson.nav.file), html);
  });
  writeFileSync(
    join(outDir, 'index.html'),
    page({
      title: 'Sockets, by hand: network programming on Node.js',
      description: 'A TypeScript course on network programming with Node.js, lesson by lesson.',
      body: homeBody(nav),
      lessons: nav,
      version,
    }),
  );

  const assets = join(SITE_DIR, 'src', 'assets');
  const css = ['site.css', join('..', 'diagrams', 'diagrams.css')].map((f) =>
    readFileSync(join(assets, f), 'utf8'),
  );
  writeFileSync(join(outDir, 'assets', 'site.css'), css.join('\n'));
  for (const file of ['site.js', 'favicon.svg']) {
    writeFileSync(join(outDir, 'assets', file), readFileSync(join(assets, file), 'utf8'));
  }
  // A script, not JSON: fetch() is not allowed for pages opened from disk (file://).
  writeFileSync(
    join(outDir, 'assets', 'search-index.js'),
    `window.COURSE_SEARCH = ${JSON.stringify(search)};\n`,
  );
  return { pages: lessons.length + 1, ms: performance.now() - started };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { pages, ms } = await buildSite();
  console.log(`site: ${pages} pages in ${relative(process.cwd(), DIST) || '.'} (${Math.round(ms)} ms)`);
}
