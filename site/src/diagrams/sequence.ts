/**
 * Sequence diagrams of what crossed the wire: two lifelines, client and server, and one arrow per
 * recorded event, top to bottom in order (spacing is by order, not by time). A message the
 * network cut into pieces shows as several arrows, each labelled with its bytes as text, so a
 * character cut in two shows as the bytes of each half.
 *
 *   renderWire(proxy.events, { title: 'hello and its reply' })   → '<svg ...>...</svg>'
 */

// The harness's own style for bytes (packages/helpers/src/show.ts), so that a diagram and a failure
// message write the same bytes the same way.
import { type ByteChar, byteChars, hexBytes, quotedChar } from '@course/helpers/show';
import type { WireEvent } from '@course/helpers/wire';
import type { Language } from '@course/model/editions';
import { type Words, words } from '@course/words';
import { arrow, box, el, frame, isWide, line, points, slug, text, textWidth } from './svg.ts';

export interface WireOptions {
  /** The diagram's accessible name; its id (and so the ids inside it) derives from it. */
  title: string;
  /** Label of the client's lifeline, default `client` in `lang`. */
  client?: string;
  /** Label of the server's lifeline, default `server` in `lang`. */
  server?: string;
  /** The id of the SVG's parts, when two diagrams on one page share a title. */
  id?: string;
  /** The language of its words (lifelines, labels, description): English by default. */
  lang?: Language;
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
  const w = words(options.lang ?? 'en').diagrams.wire;
  const names: Record<Side, string> = {
    client: options.client ?? w.client,
    server: options.server ?? w.server,
  };
  const x: Record<Side, number> = { client: MARGIN, server: WIDTH - MARGIN };
  const labels = dataLabels(events, w);
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
        sentences.push(w.connects(who, names[to]));
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
        const count = w.bytes(event.bytes.length);
        sentences.push(w.sends(who, count, formatSegments(segments, 120)));
        rows.push(dataRow(from, formatSegments(segments, LABEL_COLUMNS), count));
        break;
      }
      case 'fin':
        sentences.push(w.sendsFin(who));
        rows.push(
          signal(from, w.fin, {
            group: `diagram-fin diagram-${from}`,
            label: 'diagram-text',
            height: 32,
            size: 12,
            dashed: true,
          }),
        );
        break;
      case 'reset':
        sentences.push(w.resets(who));
        rows.push(
          signal(from, 'RST', { group: 'diagram-reset', label: 'diagram-reset', height: 32, size: 12 }),
        );
        break;
      case 'close': {
        sentences.push(w.closes(who));
        const row = closeRow(from, w.closed);
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

  const summary = events.length === 0 ? w.nothing : numbered(sentences);
  return frame({
    id: `wire-${options.id ?? slug(options.title)}`,
    kind: 'wire',
    title: options.title,
    desc: w.desc(names.client, names.server, summary),
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
function closeRow(side: Side, closed: string): Row {
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
        text(cx + outward * 11, cy + 4, closed, {
          anchor: side === 'client' ? 'end' : 'start',
          size: 11,
          className: 'diagram-muted',
        }),
        '</g>',
      ].join('');
    },
  };
}

function numbered(sentences: string[]): string {
  return sentences.map((s, i) => `${i + 1}. ${s}`).join(' ');
}

// ---------------------------------------------------------------------------------------------
// Labels: the bytes of each piece in the style of the harness's failure messages (show.ts),
// `00 00 00 05 "hello"`. Each sender's pieces are decoded together, as one stream, so a piece that
// holds part of a character can say which character: `c3 (start of é)`.

/** Text (its characters as written between quotes); or bytes in hex, with the character they are part of. */
export type Segment = { kind: 'text'; units: string[] } | { kind: 'bytes'; hex: string; note?: string };

/** The segments of every data event, by index in `events`; notes in the words of `w`. */
export function dataLabels(
  events: WireEvent[],
  w: Words['diagrams']['wire'] = words('en').diagrams.wire,
): Map<number, Segment[]> {
  const out = new Map<number, Segment[]>();
  for (const side of ['client', 'server'] as const) {
    const pieces = events.flatMap((event, index) =>
      event.from === side && event.kind === 'data' ? [{ index, bytes: event.bytes }] : [],
    );
    const stream = concat(pieces.map((p) => p.bytes));
    const chars = byteChars(stream);
    let offset = 0;
    let c = 0;
    for (const piece of pieces) {
      const start = offset;
      const end = offset + piece.bytes.length;
      offset = end;
      const segments: Segment[] = [];
      while (c < chars.length && (chars[c] as ByteChar).start < end) {
        const char = chars[c] as ByteChar;
        const from = Math.max(char.start, start);
        const to = Math.min(char.end, end);
        const whole = from === char.start && to === char.end;
        const last = segments.at(-1);
        if (whole && char.text !== null) {
          if (last?.kind === 'text') last.units.push(char.text);
          else segments.push({ kind: 'text', units: [char.text] });
        } else {
          const hex = hexBytes(stream.subarray(from, to));
          const where = from === char.start ? 'start' : to === char.end ? 'end' : 'middle';
          // A whole character that does not print is only its bytes, as in a failure message.
          const note = whole || char.char === null ? undefined : w.partOf[where](shownChar(char.char));
          if (note === undefined && last?.kind === 'bytes' && last.note === undefined) last.hex += ` ${hex}`;
          else segments.push(note === undefined ? { kind: 'bytes', hex } : { kind: 'bytes', hex, note });
        }
        if (char.end <= end) c++;
        else break;
      }
      out.set(piece.index, segments);
    }
  }
  return out;
}

/** A character a note names: itself, or `U+00A0` when it does not print. */
function shownChar(char: string): string {
  return quotedChar(char) ?? `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `00 00 00 05 "hello" c3 (start of é)`, cut with … past `columns` columns (a CJK character counts two). */
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
        ? `"${segment.units.join('')}"`
        : segment.note
          ? `${segment.hex} (${segment.note})`
          : segment.hex;
    if (used + width(gap + whole) <= columns) {
      out += gap + whole;
      used += width(gap + whole);
      continue;
    }
    if (segment.kind === 'text') {
      // As many characters as fit (an escape such as \n is never cut in two), then `…"`.
      let kept = '';
      let room = columns - used - width(gap) - 3;
      for (const unit of segment.units) {
        if (width(unit) > room) break;
        kept += unit;
        room -= width(unit);
      }
      return kept === '' ? `${out}${gap}…` : `${out}${gap}"${kept}…"`;
    }
    return `${out}${gap}…`;
  }
  return out;
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
