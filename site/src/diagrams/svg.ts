/**
 * The small SVG vocabulary the site's diagrams share: escaping, ids, the accessible frame, and a
 * few shapes. Every shape is drawn in `currentColor` and takes a class: diagrams.css gives each
 * class its colour for light and dark mode, and without that file a diagram is drawn in the
 * text colour around it. Output is a pure function of the input, so a build is reproducible.
 */

/** Escapes text for an XML text node: quotes stay as they are, easier to read in the output. */
export function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt' }[c]};`);
}

/** Escapes text for a double-quoted attribute (or a text node). */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

/** A stable id from a title: `One exchange!` → `one-exchange`. */
export function slug(text: string): string {
  const base = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return base.slice(0, 48).replace(/-+$/, '') || 'diagram';
}

/** A coordinate, rounded so that the output never shows floating-point noise. */
export function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

export const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

/** An attribute's value: a number is rounded; `false`, `undefined` and `''` leave it out. */
type Value = string | number | false | undefined;

/** One element, its attributes in the order given; `content` is text (escaped) or markup. */
export function el(
  name: string,
  attributes: Record<string, Value>,
  content?: { text?: string; markup?: string },
): string {
  const parts = Object.entries(attributes)
    .filter(([, value]) => value !== false && value !== undefined && value !== '')
    .map(([key, value]) => `${key}="${typeof value === 'number' ? n(value) : escapeXml(String(value))}"`);
  const open = `<${name}${parts.length > 0 ? ' ' : ''}${parts.join(' ')}`;
  if (content === undefined) return `${open}/>`;
  return `${open}>${content.markup ?? escapeText(content.text ?? '')}</${name}>`;
}

/** A path from points: `[[x, y], [x, y], ...]`, `null` between two points to lift the pen. */
export function points(list: ([number, number] | null)[]): string {
  let d = '';
  let pen: 'M' | 'L' = 'M';
  for (const point of list) {
    if (point === null) {
      pen = 'M';
      continue;
    }
    d += `${pen}${n(point[0])} ${n(point[1])}`;
    pen = 'L';
  }
  return d;
}

export interface TextOptions {
  /** Class names; `diagram-text` (the text colour) when none is given. */
  className?: string;
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  bold?: boolean;
  /** Monospace, for code. */
  code?: boolean;
}

export function text(x: number, y: number, content: string, options: TextOptions = {}): string {
  const { className = 'diagram-text', size = 13, anchor = 'start', bold = false, code = false } = options;
  return el(
    'text',
    {
      x,
      y,
      class: code ? `${className} diagram-code` : className,
      'font-size': size,
      'text-anchor': anchor !== 'start' && anchor,
      'font-weight': bold && 600,
      'font-family': code && MONO,
      fill: 'currentColor',
    },
    { text: content },
  );
}

/** A line or an open path through `list`, in `className`'s colour. */
export function polyline(
  list: ([number, number] | null)[],
  className: string,
  extra: Record<string, Value> = {},
) {
  return el('path', { d: points(list), class: className, fill: 'none', stroke: 'currentColor', ...extra });
}

export function line(x1: number, y1: number, x2: number, y2: number, className: string, width = 1): string {
  return el('line', {
    x1,
    y1,
    x2,
    y2,
    class: className,
    stroke: 'currentColor',
    'stroke-width': width !== 1 && width,
  });
}

/** A rounded box: its fill comes from the `diagram-box` class (none without the stylesheet). */
export function box(x: number, y: number, width: number, height: number, className = 'diagram-box'): string {
  return el('rect', { x, y, width, height, rx: 6, class: className, fill: 'none', stroke: 'currentColor' });
}

/**
 * A horizontal or vertical arrow from (x1, y1) to (x2, y2), its head a filled triangle (not an
 * SVG marker: markers need ids, and they do not take the colour of the line in every browser).
 */
export function arrow(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  options: { head?: number; dashed?: boolean; width?: number } = {},
): string {
  const { head = 8, dashed = false, width = 1.5 } = options;
  const length = Math.hypot(x2 - x1, y2 - y1) || 1;
  const ux = (x2 - x1) / length;
  const uy = (y2 - y1) / length;
  const bx = x2 - ux * head;
  const by = y2 - uy * head;
  const half = head / 2;
  const shaft = {
    x1,
    y1,
    x2: bx + ux,
    y2: by + uy,
    stroke: 'currentColor',
    'stroke-width': width,
    'stroke-dasharray': dashed && '6 4',
  };
  const tip: [number, number][] = [
    [x2, y2],
    [bx - uy * half, by + ux * half],
    [bx + uy * half, by - ux * half],
  ];
  return el('line', shaft) + el('path', { d: `${points(tip)}Z`, fill: 'currentColor' });
}

export interface Frame {
  /** Unique on the page: the ids of the title and the description are derived from it. */
  id: string;
  /** The diagram's kind, a class on the root: `wire` gives `diagram-svg-wire`. */
  kind: string;
  title: string;
  /** Everything the diagram shows, in words, for screen readers. */
  desc: string;
  width: number;
  height: number;
  body: string[];
}

/**
 * The root element: scales down to the width of a phone (width 100%, height from the viewBox)
 * and never grows past its natural size; an image with a name and a description.
 */
export function frame({ id, kind, title, desc, width, height, body }: Frame): string {
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const root = el('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    class: `diagram-svg diagram-svg-${kind}`,
    viewBox: `0 0 ${n(width)} ${n(height)}`,
    width: '100%',
    style: `max-width: ${n(width)}px; height: auto`,
    role: 'img',
    'aria-labelledby': `${titleId} ${descId}`,
    'font-family': 'inherit',
    'font-size': 13,
  });
  return [
    root.replace(/\/>$/, '>'),
    `<title id="${titleId}">${escapeText(title)}</title>`,
    `<desc id="${descId}">${escapeText(desc)}</desc>`,
    ...body,
    '</svg>',
  ].join('\n');
}

/** Roughly how wide a text is drawn, in viewBox units, to size boxes around labels. */
export function textWidth(content: string, size: number, code = false): number {
  let units = 0;
  for (const char of content) units += isWide(char.codePointAt(0) ?? 0) ? 2 : 1;
  return units * size * (code ? 0.62 : 0.56);
}

/** East Asian wide characters and emoji take two columns. */
export function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}
