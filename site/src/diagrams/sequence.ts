/**
 * Sequence diagrams of what crossed the wire: two lifelines, client and server, and one arrow per
 * recorded event, top to bottom in order (spacing is by order, not by time). A message the
 * network cut into pieces shows as several arrows, each labelled with its bytes as text, so a
 * character cut in two shows as the bytes of each half.
 *
 *   renderWire(proxy.events, { title: 'hello and its reply' })   → '<svg ...>...</svg>'
 */
import type { WireEvent } from '@course/helpers/wire';
import { arrow, box, el, frame, isWide, line, points, slug, text, textWidth } from './svg.ts';

export interface WireOptions {
  /** The diagram's accessible name; its id (and so the ids inside it) derives from it. */
  title: string;
  /** Label of the client's lifeline, default `client`. */
  client?: string;
  /** Label of the server's lifeline, default `server`. */
  server?: string;
  /** The id of the SVG's parts, when two diagrams on one page share a title. */
  id?: string;
}

const WIDTH = 560;
const MARGIN = 72;
const HEADER_TOP = 12;
const HEADER_HEIGHT = 28;
const FIRST_ROW = HEADER_TOP + HEADER_HEIGHT + 14;
const BOTTOM = 16;
/** The widest data label, in columns (a CJK character counts two). */
const LABEL_COLUMNS = 44;

type Side = WireEvent['from'];

interface Row {
  height: number;
  draw(top: number, x: Record<Side, number>): string;
}

/** A sequence diagram of `events` as an inline `<svg>`. */
export function renderWire(events: WireEvent[], options: WireOptions): string {
  const names: Record<Side, string> = {
    client: options.client ?? 'client',
    server: options.server ?? 'server',
  };
  const x: Record<Side, number> = { client: MARGIN, server: WIDTH - MARGIN };
  const labels = dataLabels(events);
  const other = (side: Side): Side => (side === 'client' ? 'server' : 'client');

  const rows: Row[] = [];
  const ends: Partial<Record<Side, number>> = {};
  const sentences: string[] = [];
  events.forEach((event, i) => {
    const from = event.from;
    const to = other(from);
    const who = names[from];
    switch (event.kind) {
      case 'connect': {
        sentences.push(`${who} connects to ${names[to]}: the three-way handshake, SYN, SYN-ACK, ACK.`);
        const steps: [Side, string][] = [
          [from, 'SYN'],
          [to, 'SYN-ACK'],
          [from, 'ACK'],
        ];
        for (const [sender, label] of steps) {
          rows.push(
            signal(sender, label, {
              group: 'diagram-handshake',
              label: 'diagram-muted',
              height: 24,
              size: 11,
            }),
          );
        }
        break;
      }
      case 'data': {
        const segments = labels.get(i) ?? [];
        const count = byteCount(event.bytes.length);
        sentences.push(`${who} sends ${count}: ${formatSegments(segments, 120)}.`);
        rows.push(dataRow(from, formatSegments(segments, LABEL_COLUMNS), count));
        break;
      }
      case 'fin':
        sentences.push(`${who} sends FIN: done sending.`);
        rows.push(
          signal(from, 'FIN (done sending)', {
            group: `diagram-fin diagram-${from}`,
            label: 'diagram-text',
            height: 32,
            size: 12,
            dashed: true,
          }),
        );
        break;
      case 'reset':
        sentences.push(`${who} resets the connection: RST.`);
        rows.push(
          signal(from, 'RST', { group: 'diagram-reset', label: 'diagram-reset', height: 32, size: 12 }),
        );
        break;
      case 'close': {
        sentences.push(`${who}'s socket closes.`);
        const row = closeRow(from);
        rows.push({
          height: row.height,
          draw(top, xs) {
            ends[from] = top + 11;
            return row.draw(top, xs);
          },
        });
        break;
      }
    }
  });

  const body: string[] = [];
  let top = FIRST_ROW;
  const drawn: string[] = [];
  for (const row of rows) {
    drawn.push(row.draw(top, x));
    top += row.height;
  }
  const height = top + BOTTOM;

  // Lifelines first, so that arrows and labels are drawn over them; each stops at its × if closed.
  for (const side of ['client', 'server'] as const) {
    const label = names[side];
    const width = Math.max(96, textWidth(label, 13) + 28);
    body.push(
      `<g class="diagram-actor">`,
      box(x[side] - width / 2, HEADER_TOP, width, HEADER_HEIGHT),
      text(x[side], HEADER_TOP + 19, label, { anchor: 'middle', bold: true }),
      '</g>',
      line(
        x[side],
        HEADER_TOP + HEADER_HEIGHT,
        x[side],
        ends[side] ?? height - BOTTOM / 2,
        'diagram-lifeline',
      ),
    );
  }
  body.push(...drawn);

  const sides = `${names.client} on the left, ${names.server} on the right`;
  const summary = events.length === 0 ? 'Nothing crossed the wire.' : numbered(sentences);
  return frame({
    id: `wire-${options.id ?? slug(options.title)}`,
    kind: 'wire',
    title: options.title,
    desc: `Sequence diagram, ${sides}, top to bottom. ${summary}`,
    width: WIDTH,
    height,
    body,
  });
}

interface SignalStyle {
  /** Classes of the arrow (its colour). */
  group: string;
  /** Class of the label (its colour). */
  label: string;
  height: number;
  size: number;
  dashed?: boolean;
}

/** An arrow with a label above it: the handshake's segments, FIN, RST. */
function signal(from: Side, label: string, style: SignalStyle): Row {
  const { group, height, size, dashed = false } = style;
  const small = size < 12;
  return {
    height,
    draw(top, x) {
      const to = from === 'client' ? 'server' : 'client';
      const y = top + height - 8;
      return [
        `<g class="${group}">`,
        arrow(x[from], y, x[to], y, { dashed, head: small ? 6 : 8, width: small ? 1 : 1.5 }),
        text((x.client + x.server) / 2, y - 6, label, { anchor: 'middle', size, className: style.label }),
        '</g>',
      ].join('');
    },
  };
}

/** A data piece: its bytes as text above the arrow, its size below. */
function dataRow(from: Side, label: string, count: string): Row {
  return {
    height: 46,
    draw(top, x) {
      const to = from === 'client' ? 'server' : 'client';
      const y = top + 24;
      const middle = (x.client + x.server) / 2;
      return [
        `<g class="diagram-data diagram-${from}">`,
        arrow(x[from], y, x[to], y),
        text(middle, y - 7, label, { anchor: 'middle', code: true, className: 'diagram-text' }),
        text(middle, y + 15, count, { anchor: 'middle', size: 11, className: 'diagram-muted' }),
        '</g>',
      ].join('');
    },
  };
}

/** A socket closing: a small × on its lifeline, `closed` beside it, outside the diagram's middle. */
function closeRow(side: Side): Row {
  return {
    height: 22,
    draw(top, x) {
      const cx = x[side];
      const cy = top + 11;
      const r = 5;
      const outward = side === 'client' ? -1 : 1;
      return [
        '<g class="diagram-close">',
        el('path', {
          d: points([[cx - r, cy - r], [cx + r, cy + r], null, [cx - r, cy + r], [cx + r, cy - r]]),
          stroke: 'currentColor',
          'stroke-width': 2,
        }),
        text(cx + outward * 11, cy + 4, 'closed', {
          anchor: side === 'client' ? 'end' : 'start',
          size: 11,
          className: 'diagram-muted',
        }),
        '</g>',
      ].join('');
    },
  };
}

function byteCount(length: number): string {
  return `${length.toLocaleString('en-US')} ${length === 1 ? 'byte' : 'bytes'}`;
}

function numbered(sentences: string[]): string {
  return sentences.map((s, i) => `${i + 1}. ${s}`).join(' ');
}

// ---------------------------------------------------------------------------------------------
// Labels: the bytes of each piece as text. Each sender's pieces are decoded together, as one
// stream, so a piece that holds part of a character can say which character: `c3 (start of é)`.

/** Text, quoted when drawn; or bytes in hex, with the character they are part of when known. */
export type Segment = { kind: 'text'; text: string } | { kind: 'bytes'; hex: string; note?: string };

interface Char {
  start: number;
  end: number;
  /** The character as drawn (control characters made visible); null: show its bytes in hex. */
  shown: string | null;
  /** What a note calls it (`é`, `U+00A0`); null for a byte that is not part of any UTF-8 character. */
  name: string | null;
}

/** The segments of every data event, by index in `events`. */
export function dataLabels(events: WireEvent[]): Map<number, Segment[]> {
  const out = new Map<number, Segment[]>();
  for (const side of ['client', 'server'] as const) {
    const pieces = events.flatMap((event, index) =>
      event.from === side && event.kind === 'data' ? [{ index, bytes: event.bytes }] : [],
    );
    const stream = concat(pieces.map((p) => p.bytes));
    const chars = decodeChars(stream);
    let offset = 0;
    let c = 0;
    for (const piece of pieces) {
      const start = offset;
      const end = offset + piece.bytes.length;
      offset = end;
      const segments: Segment[] = [];
      while (c < chars.length && (chars[c] as Char).start < end) {
        const char = chars[c] as Char;
        const from = Math.max(char.start, start);
        const to = Math.min(char.end, end);
        const whole = from === char.start && to === char.end;
        if (whole && char.shown !== null) {
          const last = segments.at(-1);
          if (last?.kind === 'text') last.text += char.shown;
          else segments.push({ kind: 'text', text: char.shown });
        } else {
          const hex = [...stream.subarray(from, to)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
          const where = from === char.start ? 'start' : to === char.end ? 'end' : 'middle';
          if (char.name === null) segments.push({ kind: 'bytes', hex });
          else segments.push({ kind: 'bytes', hex, note: whole ? char.name : `${where} of ${char.name}` });
        }
        if (char.end <= end) c++;
        else break;
      }
      out.set(piece.index, segments);
    }
  }
  return out;
}

/** `"hello" c3 (start of é)`, cut with … past `columns` columns (a CJK character counts two). */
export function formatSegments(segments: Segment[], columns: number): string {
  if (segments.length === 0) return '""';
  let out = '';
  let used = 0;
  const width = (s: string) => {
    let w = 0;
    for (const ch of s) w += isWide(ch.codePointAt(0) ?? 0) ? 2 : 1;
    return w;
  };
  for (const segment of segments) {
    const gap = out === '' ? '' : ' ';
    const whole =
      segment.kind === 'text'
        ? `"${segment.text}"`
        : segment.note
          ? `${segment.hex} (${segment.note})`
          : segment.hex;
    if (used + width(gap + whole) <= columns) {
      out += gap + whole;
      used += width(gap + whole);
      continue;
    }
    if (segment.kind === 'text') {
      // As much of the text as fits, then `…"`.
      let kept = '';
      let room = columns - used - width(gap) - 3;
      for (const ch of segment.text) {
        if (width(ch) > room) break;
        kept += ch;
        room -= width(ch);
      }
      return kept === '' ? `${out}${gap}…` : `${out}${gap}"${kept}…"`;
    }
    return `${out}${gap}…`;
  }
  return out;
}

/** UTF-8 decoding that keeps each character's byte range; bytes that are not UTF-8 stand alone. */
function decodeChars(bytes: Uint8Array): Char[] {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const chars: Char[] = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    const size =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let decoded: string | null = null;
    if (size > 0 && i + size <= bytes.length) {
      try {
        decoded = decoder.decode(bytes.subarray(i, i + size));
      } catch {
        decoded = null;
      }
    }
    const end = decoded === null ? i + 1 : i + size;
    const shown = decoded === null ? null : visible(decoded);
    const name =
      decoded === null
        ? null
        : (shown ?? `U+${(decoded.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`);
    chars.push({ start: i, end, shown, name });
    i = end;
  }
  return chars;
}

const INVISIBLE = new Set([0x00a0, 0x00ad, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0xfeff]);

/** A character as drawn: `↵` for a newline, control pictures for other controls; null: show hex. */
function visible(char: string): string | null {
  const code = char.codePointAt(0) ?? 0;
  if (char === '\n') return '↵';
  if (char === '\t') return '⇥';
  if (code < 0x20) return String.fromCodePoint(0x2400 + code); // ␀ ␍ ␛ ...
  if (code === 0x7f) return '␡';
  if ((code >= 0x80 && code <= 0x9f) || INVISIBLE.has(code)) return null;
  return char;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
