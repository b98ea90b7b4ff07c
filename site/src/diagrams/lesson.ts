/**
 * A lesson's diagrams: which ones its README shows, each recorded (a wire diagram, from the
 * lesson's diagrams.ts and its solution) or drawn (a figure, figures.ts), as the site inlines it
 * and as the standalone file committed beside the README (lessons/NN/diagrams/NAME.svg), which
 * GitHub and editors show as an image. A README shows one with an image line:
 *
 *   ![The client sends hello; the server replies HELLO](diagrams/request-reply.svg)
 *
 * NAME is a diagram of the lesson's diagrams.ts, or else a figure. The older directives
 * `<!-- wire: NAME -->` and `<!-- figure: NAME -->` still draw on the site, but GitHub shows
 * nothing for them: `npm run diagrams -- --check` asks for the image line instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WireEvent } from '@course/helpers/wire';
import { figures } from './figures.ts';
import { renderWire } from './sequence.ts';

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
}

export interface LessonDiagram {
  name: string;
  kind: DiagramKind;
  title: string;
  /** As the site inlines it: drawn in currentColor, coloured by the page's diagrams.css. */
  svg: string;
}

interface DiagramModule {
  /** `client` and `server` name the two lifelines (default: client, server). */
  diagrams: Record<
    string,
    { title: string; client?: string; server?: string; record(): Promise<WireEvent[]> }
  >;
}

/** `diagrams/NAME.svg`, the path a README's image uses (relative to the README). */
export const IMAGE_PATH = /^diagrams\/([a-z0-9][a-z0-9-]*)\.svg$/;

/** Every diagram the README refers to, in order (one name may appear more than once). */
export function diagramReferences(readme: string): DiagramReference[] {
  const out: DiagramReference[] = [];
  let fenced = false;
  readme.split('\n').forEach((text, i) => {
    if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
    if (fenced) return;
    for (const [, path = ''] of text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const name = IMAGE_PATH.exec(path)?.[1];
      if (name) out.push({ name, line: i + 1, form: 'image' });
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
 * Records and draws every diagram `readme` refers to, by name. `where` names the README in
 * errors (`lessons/01-tcp-client/README.md`).
 */
export async function lessonDiagrams(
  dir: string,
  readme: string,
  where: string,
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
      const { title, client, server } = scenario;
      out.set(name, {
        name,
        kind,
        title,
        svg: renderWire(await scenario.record(), { title, client, server }),
      });
    } else {
      if (!figure)
        throw new Error(
          `${where}:${reference.line}: no figure or diagram called '${name}' (figures: site/src/diagrams/figures.ts)`,
        );
      out.set(name, { name, kind, title: figure.title, svg: figure.render() });
    }
  }
  return out;
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
