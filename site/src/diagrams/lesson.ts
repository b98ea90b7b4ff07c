/**
 * A lesson's diagrams: which ones its README shows, each recorded (a wire diagram, from the
 * lesson's diagrams.ts and its solution) or drawn (a figure, figures.ts), as the site inlines it
 * and as the standalone file committed beside the README (lessons/NN/diagrams/NAME.svg), which
 * GitHub and editors show as an image. A README shows one with an image line:
 *
 *   ![The client sends hello; the server replies HELLO](diagrams/request-reply.svg)
 *
 * NAME is a diagram of the lesson's diagrams.ts, or else a figure. Its words are drawn in each
 * language (a figure's from packages/words, a wire diagram's title from diagrams.ts, where it
 * may give `'zh-CN': { title }`); a translated README shows `diagrams/NAME.zh-CN.svg` where the
 * drawing in its language differs from the English one. The older directives
 * `<!-- wire: NAME -->` and `<!-- figure: NAME -->` still draw on the site, but GitHub shows
 * nothing for them: `npm run diagrams -- --check` asks for the image line instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WireEvent } from '@course/helpers/wire';
import { LANGUAGES, type Language, SOURCE_LANGUAGE } from '@course/model/editions';
import { figures } from './figures.ts';
import { renderWire } from './sequence.ts';
import { slug } from './svg.ts';

export type DiagramKind = 'wire' | 'figure';

/** One diagram a README refers to, where, and how. */
export interface DiagramReference {
  name: string;
  /** 1-based line of the README. */
  line: number;
  /** `image`: `![…](diagrams/NAME.svg)`; `wire` or `figure`: an HTML comment directive. */
  form: 'image' | DiagramKind;
  /** The kind a directive asks for (an image's kind is found from its name). */
  kind?: DiagramKind;
  /** The language of an image's file, `diagrams/NAME.zh-CN.svg` (none: `NAME.svg`, the English). */
  lang?: Language;
}

export interface LessonDiagram {
  name: string;
  kind: DiagramKind;
  title: string;
  /** As the site inlines it: drawn in currentColor, coloured by the page's diagrams.css. */
  svg: string;
  /** Its title and drawing in each language asked for (English: `title` and `svg`). */
  editions: Partial<Record<Language, { title: string; svg: string }>>;
}

/** A wire diagram's words: its title, and the names of its lifelines (default: client, server). */
export interface DiagramWords {
  title: string;
  client?: string;
  server?: string;
}

/** A lesson's diagrams.ts: its words in English, and in another language where given. */
interface DiagramModule {
  diagrams: Record<
    string,
    DiagramWords & { [lang in Language]?: Partial<DiagramWords> } & { record(): Promise<WireEvent[]> }
  >;
}

/** `diagrams/NAME.svg`, or `diagrams/NAME.zh-CN.svg`: the path a README's image uses (relative to it). */
export const IMAGE_PATH = new RegExp(
  `^diagrams/([a-z0-9][a-z0-9-]*)(?:\\.(${LANGUAGES.filter((l) => l !== SOURCE_LANGUAGE).join('|')}))?\\.svg$`,
);

/** The file of a diagram drawn in `lang`: `NAME.svg` (English), `NAME.zh-CN.svg`. */
export function diagramFile(name: string, lang: Language = SOURCE_LANGUAGE): string {
  return lang === SOURCE_LANGUAGE ? `${name}.svg` : `${name}.${lang}.svg`;
}

/** Every diagram the README refers to, in order (one name may appear more than once). */
export function diagramReferences(readme: string): DiagramReference[] {
  const out: DiagramReference[] = [];
  let fenced = false;
  readme.split('\n').forEach((text, i) => {
    if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
    if (fenced) return;
    for (const [, path = ''] of text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const [, name, lang] = IMAGE_PATH.exec(path) ?? [];
      if (name) out.push({ name, line: i + 1, form: 'image', ...(lang ? { lang: lang as Language } : {}) });
    }
    const directive = /^\s*<!--\s*(wire|figure):\s*(\S+)\s*-->\s*$/.exec(text);
    if (directive) {
      const kind = directive[1] as DiagramKind;
      out.push({ name: directive[2] as string, line: i + 1, form: kind, kind });
    }
  });
  return out;
}

/**
 * Records and draws every diagram `readme` refers to, by name, in each of `langs` (each wire
 * diagram is recorded once). `where` names the README in errors (`lessons/01-tcp-client/README.md`).
 */
export async function lessonDiagrams(
  dir: string,
  readme: string,
  where: string,
  langs: readonly Language[] = [SOURCE_LANGUAGE],
): Promise<Map<string, LessonDiagram>> {
  const out = new Map<string, LessonDiagram>();
  const references = diagramReferences(readme);
  if (references.length === 0) return out;
  const file = join(dir, 'diagrams.ts');
  const recorded = existsSync(file)
    ? ((await import(pathToFileURL(file).href)) as DiagramModule).diagrams
    : {};
  for (const reference of references) {
    const { name } = reference;
    if (out.has(name)) continue;
    const scenario = Object.hasOwn(recorded, name) ? recorded[name] : undefined;
    const figure = Object.hasOwn(figures, name) ? figures[name] : undefined;
    const kind = reference.kind ?? (scenario ? 'wire' : 'figure');
    if (scenario && figure && reference.form === 'image')
      throw new Error(`${where}:${reference.line}: '${name}' is both a figure and a diagram of diagrams.ts`);
    if (kind === 'wire') {
      if (!scenario)
        throw new Error(
          existsSync(file)
            ? `${where}:${reference.line}: diagrams.ts has no diagram called '${name}'`
            : `${where}:${reference.line}: asks for the wire diagram '${name}', but diagrams.ts is missing`,
        );
      const events = await scenario.record();
      const draw = (lang: Language) => {
        const own = lang === SOURCE_LANGUAGE ? {} : (scenario[lang] ?? {});
        const title = own.title ?? scenario.title;
        const client = own.client ?? scenario.client;
        const server = own.server ?? scenario.server;
        // Ids from the English title, the same in every language (and ASCII).
        const id = lang === SOURCE_LANGUAGE ? undefined : slug(scenario.title);
        return { title, svg: renderWire(events, { title, client, server, id, lang }) };
      };
      const english = draw(SOURCE_LANGUAGE);
      out.set(name, { name, kind, ...english, editions: editions(langs, draw) });
    } else {
      if (!figure)
        throw new Error(
          `${where}:${reference.line}: no figure or diagram called '${name}' (figures: site/src/diagrams/figures.ts)`,
        );
      const draw = (lang: Language) => ({ title: figure.titleIn(lang), svg: figure.render(lang) });
      out.set(name, {
        name,
        kind,
        title: figure.title,
        svg: figure.render(),
        editions: editions(langs, draw),
      });
    }
  }
  return out;
}

function editions(
  langs: readonly Language[],
  draw: (lang: Language) => { title: string; svg: string },
): LessonDiagram['editions'] {
  return Object.fromEntries(langs.map((lang) => [lang, draw(lang)]));
}

const DIAGRAMS_CSS = join(import.meta.dirname, 'diagrams.css');

/** What a standalone file adds to diagrams.css: a font, and a background of its own. */
const STANDALONE_CSS = `
.diagram-svg {
  --diagram-bg: #ffffff;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  .diagram-svg {
    --diagram-bg: #0d1117;
  }
}
.diagram-svg .diagram-background {
  fill: var(--diagram-bg);
  stroke: var(--diagram-line);
}`;

/**
 * The standalone file of an inline diagram, as committed beside the README: its natural size,
 * the colours of diagrams.css inside it (light, or dark when the reader's system is), and a
 * background of its own, so that it reads on a light page and on a dark one alike. Its `<title>`
 * and `<desc>` stay: they name and describe it wherever it is shown.
 */
export function standaloneSvg(svg: string): string {
  const open = /^<svg [^>]*>/.exec(svg)?.[0];
  const box = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(open ?? '');
  if (!open || !box) throw new Error('standaloneSvg: not a diagram (no <svg viewBox="0 0 W H">)');
  const [, width = '0', height = '0'] = box;
  const root = open
    .replace(' width="100%"', ` width="${width}" height="${height}"`)
    .replace(/ style="[^"]*"/, '')
    .replace(' font-family="inherit"', '');
  const css = `${readFileSync(DIAGRAMS_CSS, 'utf8')}${STANDALONE_CSS}`
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\n\s*\n+/g, '\n')
    .trim();
  const background = `<rect class="diagram-background" x="0.5" y="0.5" width="${Number(width) - 1}" height="${Number(height) - 1}" rx="8" fill="none"/>`;
  const body = svg.slice(open.length).replace(/(<\/desc>)/, `$1\n<style>\n${css}\n</style>\n${background}`);
  return `${root}${body}\n`;
}

/**
 * The files a lesson's diagrams/ folder holds, by file name, as committed: `NAME.svg` for each
 * diagram, and `NAME.LANG.svg` where its drawing in LANG differs from the English one (only then).
 */
export function diagramFiles(drawn: Iterable<LessonDiagram>): Map<string, string> {
  const files = new Map<string, string>();
  for (const diagram of drawn) {
    const english = standaloneSvg(diagram.svg);
    files.set(diagramFile(diagram.name), english);
    for (const [lang, own] of Object.entries(diagram.editions) as [Language, { svg: string }][]) {
      const svg = standaloneSvg(own.svg);
      if (lang !== SOURCE_LANGUAGE && svg !== english) files.set(diagramFile(diagram.name, lang), svg);
    }
  }
  return files;
}

/** How a file of a diagrams/ folder stands against what a build records. */
export interface FileState {
  file: string;
  /** The recording, for a file that should be there. */
  svg?: string;
  /**
   * `same`; `differs` from the recording; `missing`; `unneeded` (a drawing in another language
   * that is now the same as the English); `unknown` (no diagram is called that).
   */
  state: 'same' | 'differs' | 'missing' | 'unneeded' | 'unknown';
  /** The language of a drawing in another language than English (`NAME.zh-CN.svg`). */
  lang?: Language;
}

/** Each file `wanted` (diagramFiles) and each file `onDisk` (name → text), as it stands. */
export function compareFolder(wanted: Map<string, string>, onDisk: Map<string, string>): FileState[] {
  const out: FileState[] = [];
  const langOf = (file: string) => {
    const [, name, lang] = IMAGE_PATH.exec(`diagrams/${file}`) ?? [];
    return { name, ...(lang ? { lang: lang as Language } : {}) };
  };
  for (const [file, svg] of wanted) {
    const old = onDisk.get(file);
    const state = old === svg ? 'same' : old !== undefined ? 'differs' : 'missing';
    const { lang } = langOf(file);
    out.push({ file, svg, state, ...(lang ? { lang } : {}) });
  }
  for (const file of onDisk.keys()) {
    if (wanted.has(file)) continue;
    const { name, lang } = langOf(file);
    const unneeded = name !== undefined && lang !== undefined && wanted.has(diagramFile(name));
    out.push({ file, state: unneeded ? 'unneeded' : 'unknown', ...(lang ? { lang } : {}) });
  }
  return out;
}

/**
 * The image lines of a README in `lang` that do not show the diagram's drawing in that language:
 * `diagrams/NAME.svg` where `NAME.LANG.svg` is drawn (GitHub would show English words), a file in
 * another language, or `NAME.LANG.svg` where the drawing is the English one. `wanted`: the
 * folder's files (diagramFiles).
 */
export function imageProblems(
  readme: string,
  lang: Language,
  wanted: ReadonlySet<string>,
): { line: number; problem: string }[] {
  const out: { line: number; problem: string }[] = [];
  for (const { name, line, form, lang: shownLang } of diagramReferences(readme)) {
    if (form !== 'image') continue;
    const own = diagramFile(name, lang);
    const shown = diagramFile(name, shownLang);
    if (shownLang === lang || shownLang === undefined) {
      if (shown !== own && wanted.has(own))
        out.push({ line, problem: `shows diagrams/${shown}, whose words are English: show diagrams/${own}` });
      else if (shown === own && shownLang !== undefined && !wanted.has(own))
        out.push({
          line,
          problem: `shows diagrams/${own}, which is not drawn (the drawing is the English one): show diagrams/${diagramFile(name)}`,
        });
    } else out.push({ line, problem: `shows diagrams/${shown}, a drawing in ${shownLang}` });
  }
  return out;
}
