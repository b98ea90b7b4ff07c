/**
 * Concept figures, drawn from text at build time. A README shows one with an image line,
 * `![its title](diagrams/NAME.svg)`: GitHub shows the file scripts/diagrams.ts commits beside the
 * README, and the site draws the figure inline (site/src/diagrams/lesson.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WireEvent } from '@course/helpers/wire';
import type { Language } from '@course/model/editions';
import { LESSONS_DIR } from '@course/model/lessons';
import { type Words, words } from '@course/words';
import { renderWire } from './sequence.ts';
import { arrow, box, el, frame, line, polyline, text, textWidth } from './svg.ts';

export interface Figure {
  /** The figure's accessible name, in English. */
  title: string;
  /** Its accessible name in `lang`. */
  titleIn(lang: Language): string;
  /** The figure as an inline `<svg>`, its words in `lang` (English by default). */
  render(lang?: Language): string;
}

/** The words of the figures in one language (packages/words, diagrams.figures). */
type FigureWords = Words['diagrams']['figures'];
type Named = Exclude<keyof FigureWords, 'steps'>;

const utf8 = (s: string) => new TextEncoder().encode(s);

/** A hand-written exchange: what the lessons' client and server do, with the handshake. */
const handshakeEvents: WireEvent[] = [
  { at: 0, from: 'client', kind: 'connect', bytes: new Uint8Array() },
  { at: 1, from: 'client', kind: 'data', bytes: utf8('hello') },
  { at: 2, from: 'client', kind: 'fin', bytes: new Uint8Array() },
  { at: 3, from: 'server', kind: 'data', bytes: utf8('HELLO') },
  { at: 4, from: 'server', kind: 'fin', bytes: new Uint8Array() },
  { at: 5, from: 'client', kind: 'close', bytes: new Uint8Array() },
  { at: 6, from: 'server', kind: 'close', bytes: new Uint8Array() },
];

/**
 * A figure whose render() needs no `this`: it can be passed around on its own. Its title and words
 * are the catalogue's, `name` in `diagrams.figures` of packages/words.
 */
function figure<N extends Named>(
  name: N,
  draw: (title: string, w: FigureWords[N], lang: Language, all: FigureWords) => string,
): Figure {
  const wordsIn = (lang: Language) => words(lang).diagrams.figures;
  return {
    title: wordsIn('en')[name].title,
    titleIn: (lang) => wordsIn(lang)[name].title,
    render: (lang = 'en') => draw(wordsIn(lang)[name].title, wordsIn(lang)[name], lang, wordsIn(lang)),
  };
}

export const figures: Record<string, Figure> = {
  'tcp-handshake': figure('tcp-handshake', (title, _, lang) =>
    renderWire(handshakeEvents, { title, id: 'figure-tcp-handshake', lang }),
  ),
  'client-steps': figure('client-steps', (title, w, _, all) =>
    stepsFigure(
      {
        id: 'figure-client-steps',
        title,
        intro: w.intro,
        steps: ['socket()', 'connect()', 'send()', 'recv()', 'close()'],
        calls: [
          { steps: [0, 1], code: 'net.connect({ host, port })', notes: w.notes[0] ?? [] },
          { steps: [2, 2], code: 'socket.end(message)', notes: w.notes[1] ?? [] },
          { steps: [3, 3], code: "'data' … 'end'", notes: w.notes[2] ?? [] },
          { steps: [4, 4], code: 'automatic, or socket.destroy()', notes: w.notes[3] ?? [] },
        ],
      },
      all.steps,
    ),
  ),
  'server-steps': figure('server-steps', (title, w, _, all) =>
    stepsFigure(
      {
        id: 'figure-server-steps',
        title,
        intro: w.intro,
        steps: ['socket()', 'bind()', 'listen()', 'accept()', 'recv()', 'send()', 'close()'],
        calls: [
          // net.createServer(handler) only makes an object: no socket exists before listen().
          { steps: [0, 2], code: 'server.listen({ host, port })', notes: w.notes[0] ?? [] },
          { steps: [3, 3], code: 'handler(socket)', notes: w.notes[1] ?? [] },
          { steps: [4, 4], code: "'data' … 'end'", notes: w.notes[2] ?? [] },
          { steps: [5, 6], code: 'socket.end(reply)', notes: w.notes[3] ?? [] },
        ],
        loop: { steps: [3, 6], label: w.loop },
      },
      all.steps,
    ),
  ),
  'tcp-layers': figure('tcp-layers', renderLayers),
  'tcp-close': figure('tcp-close', renderClose),
  'backlog-queues': figure('backlog-queues', renderBacklog),
  nagle: figure('nagle', renderNagle),
  'ping-latency': figure('ping-latency', renderPingLatency),
};

// ---------------------------------------------------------------------------------------------
// Steps: one box per step, top to bottom, with Node's call beside each (a bracket when one call
// does several steps), and optionally a frame around the steps that repeat for each client.

interface StepsSpec {
  id: string;
  title: string;
  /** The start of the description, completed by the steps in words. */
  intro: string;
  steps: string[];
  calls: { steps: [number, number]; code: string; notes: string[] }[];
  loop?: { steps: [number, number]; label: string };
}

const STEPS_WIDTH = 480;

function stepsFigure(spec: StepsSpec, w: FigureWords['steps']): string {
  const boxX = spec.loop ? 36 : 16;
  const boxWidth = 124;
  const boxHeight = 40;
  const pitch = 62;
  const top = 12;
  const loopPad = 36;
  const boxTop = (i: number) => top + i * pitch + (spec.loop && i >= spec.loop.steps[0] ? loopPad : 0);
  const center = boxX + boxWidth / 2;
  const body: string[] = [];

  const last = spec.steps.length - 1;
  let height = boxTop(last) + boxHeight + 14;
  if (spec.loop) {
    const [first, end] = spec.loop.steps;
    const frameTop = boxTop(first) - 32;
    const frameBottom = boxTop(end) + boxHeight + 12;
    height = Math.max(height, frameBottom + 10);
    const firstMid = boxTop(first) + boxHeight / 2;
    const lastMid = boxTop(end) + boxHeight / 2;
    body.push(
      '<g class="diagram-loop">',
      el('rect', {
        x: 6,
        y: frameTop,
        width: STEPS_WIDTH - 12,
        height: frameBottom - frameTop,
        rx: 8,
        fill: 'none',
        stroke: 'currentColor',
        'stroke-dasharray': '6 4',
      }),
      // Back from the last step to the first: the next client.
      polyline(
        [
          [boxX, lastMid],
          [18, lastMid],
          [18, firstMid],
          [boxX - 7, firstMid],
        ],
        'diagram-loop',
        { 'stroke-width': 1.5 },
      ),
      arrow(boxX - 8, firstMid, boxX, firstMid, { head: 7 }),
      '</g>',
      text(STEPS_WIDTH - 18, frameTop + 17, spec.loop.label, {
        anchor: 'end',
        size: 12,
        className: 'diagram-muted',
      }),
    );
  }

  spec.steps.forEach((step, i) => {
    const y = boxTop(i);
    body.push(
      box(boxX, y, boxWidth, boxHeight),
      text(boxX + 12, y + 25, String(i + 1), { size: 12, className: 'diagram-muted' }),
      text(center + 6, y + 25, step, { anchor: 'middle', size: 14, bold: true, code: true }),
    );
    if (i < last) {
      body.push(
        `<g class="diagram-flow">${arrow(center, y + boxHeight, center, boxTop(i + 1), { head: 6 })}</g>`,
      );
    }
  });

  const callX = boxX + boxWidth + 22;
  for (const call of spec.calls) {
    const [first, end] = call.steps;
    const y1 = boxTop(first) + 4;
    const y2 = boxTop(end) + boxHeight - 4;
    const bracket = callX - 10;
    body.push(
      polyline(
        [
          [bracket - 5, y1],
          [bracket, y1],
          [bracket, y2],
          [bracket - 5, y2],
        ],
        'diagram-bracket',
      ),
    );
    const lines = 1 + call.notes.length;
    let y = (y1 + y2) / 2 - (lines * 16) / 2 + 12;
    body.push(text(callX, y, call.code, { code: true, className: 'diagram-accent' }));
    for (const note of call.notes) {
      y += 16;
      body.push(text(callX, y, note, { size: 12, className: 'diagram-muted' }));
    }
  }

  const calls = spec.calls.map((call) => {
    const [first, end] = call.steps;
    const names = spec.steps.slice(first, end + 1).map((s, k) => `${first + k + 1}. ${s}`);
    return w.call(names, call.code, call.notes);
  });
  const loop = spec.loop ? w.loop(spec.loop.steps[0] + 1, spec.loop.steps[1] + 1, spec.loop.label) : '';
  return frame({
    id: spec.id,
    kind: 'figure',
    title: spec.title,
    desc: w.desc(spec.intro, calls, loop),
    width: STEPS_WIDTH,
    height,
    body,
  });
}

// ---------------------------------------------------------------------------------------------
// The layers: application above the socket API, TCP, IP and the link below it, in the kernel.

function renderLayers(title: string, w: FigureWords['tcp-layers']): string {
  const { layers: LAYERS, socketApi: SOCKET_API } = w;
  const width = 560;
  const x = 16;
  const boxWidth = 400;
  const boxHeight = 50;
  const gap = 6;
  const border = 40;
  const body: string[] = [];
  const tops: number[] = [];
  let y = 12;
  LAYERS.forEach((layer, i) => {
    tops.push(y);
    body.push(
      box(x, y, boxWidth, boxHeight),
      text(x + 14, y + 21, layer.name, { size: 14, bold: true }),
      text(x + 14, y + 39, layer.what, { size: 12, className: 'diagram-muted' }),
    );
    y += boxHeight + (i === 0 ? border : gap);
  });
  const height = y - gap + 12;

  // The border between the program and the kernel.
  const apiTop = (tops[0] ?? 0) + boxHeight;
  body.push(
    text(x + boxWidth / 2, apiTop + 17, SOCKET_API, {
      anchor: 'middle',
      size: 12,
      code: true,
      className: 'diagram-accent',
    }),
    line(x - 8, apiTop + 27, width - 8, apiTop + 27, 'diagram-accent diagram-border', 3),
  );

  // Who does what, on the right.
  const side = (y1: number, y2: number, lines: string[]) => {
    const bx = x + boxWidth + 12;
    body.push(
      polyline(
        [
          [bx, y1],
          [bx + 5, y1],
          [bx + 5, y2],
          [bx, y2],
        ],
        'diagram-bracket',
      ),
    );
    const mid = (y1 + y2) / 2 - (lines.length * 16) / 2 + 12;
    lines.forEach((l, i) => {
      body.push(
        text(bx + 13, mid + i * 16, l, { size: 12, className: i === 0 ? 'diagram-text' : 'diagram-muted' }),
      );
    });
  };
  side((tops[0] ?? 0) + 4, (tops[0] ?? 0) + boxHeight - 4, w.program);
  side((tops[1] ?? 0) + 4, (tops[3] ?? 0) + boxHeight - 4, w.kernel);

  const desc = w.desc(
    LAYERS.map((l) => w.layer(l.name, l.what)),
    SOCKET_API.replaceAll(' ·', ','),
  );
  return frame({ id: 'figure-tcp-layers', kind: 'figure', title, desc, width, height, body });
}

// ---------------------------------------------------------------------------------------------
// Closing: the four segments of a close, and the state each side is in between them.

/** A TCP state as a small box: `ESTABLISHED`. */
function stateBox(x: number, y: number, name: string, anchor: 'start' | 'end'): string {
  const width = textWidth(name, 12, true) + 16;
  const left = anchor === 'start' ? x : x - width;
  return (
    box(left, y - 15, width, 22) +
    text(left + width / 2, y + 1, name, { anchor: 'middle', size: 12, code: true, bold: true })
  );
}

type CloseNote = keyof FigureWords['tcp-close']['notes'];

const CLOSE_ROWS: {
  /** The segment sent in this row, and who sends it. */
  segment?: { label: string; from: 'active' | 'passive' };
  /** A state (and the note under it, if any) that a side enters in this row. */
  active?: [string, CloseNote?];
  passive?: [string, CloseNote?];
}[] = [
  { active: ['ESTABLISHED', 'established'], passive: ['ESTABLISHED'] },
  { segment: { label: 'FIN', from: 'active' }, active: ['FIN_WAIT_1', 'finWait1'] },
  {
    segment: { label: 'ACK', from: 'passive' },
    active: ['FIN_WAIT_2', 'finWait2'],
    passive: ['CLOSE_WAIT', 'closeWait'],
  },
  { segment: { label: 'FIN', from: 'passive' }, passive: ['LAST_ACK', 'lastAck'] },
  {
    segment: { label: 'ACK', from: 'active' },
    active: ['TIME_WAIT', 'timeWait'],
    passive: ['CLOSED', 'passiveClosed'],
  },
  { active: ['CLOSED', 'activeClosed'] },
];

function renderClose(title: string, w: FigureWords['tcp-close']): string {
  const note = (key: CloseNote | undefined) => (key ? w.notes[key] : '');
  const width = 640;
  const left = 232;
  const right = 408;
  const header = 12;
  const rowHeight = 50;
  const first = header + 40;
  const body: string[] = [];
  const height = first + CLOSE_ROWS.length * rowHeight + 4;
  const heads: [number, string, string][] = [
    [left, w.active[0] ?? '', w.active[1] ?? ''],
    [right, w.passive[0] ?? '', w.passive[1] ?? ''],
  ];
  for (const [x, name, note] of heads) {
    body.push(
      '<g class="diagram-actor">',
      box(x - 62, header, 124, 34),
      text(x, header + 15, name, { anchor: 'middle', bold: true }),
      text(x, header + 29, note, { anchor: 'middle', size: 11, className: 'diagram-muted' }),
      '</g>',
      line(x, header + 34, x, height - 8, 'diagram-lifeline'),
    );
  }
  CLOSE_ROWS.forEach((row, i) => {
    const y = first + i * rowHeight + 22;
    if (row.segment) {
      const [from, to] = row.segment.from === 'active' ? [left, right] : [right, left];
      const side = row.segment.from === 'active' ? 'diagram-client' : 'diagram-server';
      const dashed = row.segment.label === 'FIN';
      body.push(
        `<g class="${side}">`,
        arrow(from, y - 14, to, y - 14, { dashed }),
        text((left + right) / 2, y - 20, row.segment.label, { anchor: 'middle', size: 12 }),
        '</g>',
      );
    }
    if (row.active) {
      body.push(stateBox(left - 12, y + 4, row.active[0], 'end'));
      if (row.active[1])
        body.push(
          text(left - 12, y + 22, note(row.active[1]), {
            anchor: 'end',
            size: 11,
            className: 'diagram-muted',
          }),
        );
    }
    if (row.passive) {
      body.push(stateBox(right + 12, y + 4, row.passive[0], 'start'));
      if (row.passive[1])
        body.push(
          text(right + 12, y + 22, note(row.passive[1]), {
            anchor: 'start',
            size: 11,
            className: 'diagram-muted',
          }),
        );
    }
  });
  const rows = CLOSE_ROWS.map((row, i) => {
    const parts: string[] = [];
    if (row.segment) parts.push(w.sends[row.segment.from](row.segment.label));
    if (row.active) parts.push(w.enters.active(row.active[0], note(row.active[1])));
    if (row.passive) parts.push(w.enters.passive(row.passive[0], note(row.passive[1])));
    return w.row(i + 1, parts);
  });
  const desc = w.desc(rows);
  return frame({ id: 'figure-tcp-close', kind: 'figure', title, desc, width, height, body });
}

// ---------------------------------------------------------------------------------------------
// The backlog: the kernel's two queues behind a listening socket.

/** A queue drawn as a row of slots, the first `used` of them taken. */
function queueSlots(x: number, y: number, slots: number, used: number, label: string): string {
  const parts: string[] = [];
  for (let i = 0; i < slots; i++) {
    parts.push(
      el('rect', {
        x: x + i * 30,
        y,
        width: 24,
        height: 24,
        rx: 3,
        class: i < used ? 'diagram-slot-used' : 'diagram-box',
        fill: 'none',
        stroke: 'currentColor',
      }),
    );
  }
  parts.push(text(x, y - 8, label, { size: 13, bold: true }));
  return parts.join('');
}

function renderBacklog(title: string, w: FigureWords['backlog-queues']): string {
  const width = 640;
  const body: string[] = [];
  const kernel = { x: 168, y: 12, width: 300, height: 232 };
  const clients = { x: 16, y: 64, width: 96, height: 132 };
  const program = { x: 492, y: 150, width: 132, height: 72 };
  const synY = 72;
  const acceptY = 172;
  const slotsX = kernel.x + 20;

  body.push(
    box(kernel.x, kernel.y, kernel.width, kernel.height),
    text(kernel.x + 12, kernel.y + 20, w.kernel, {
      size: 12,
      className: 'diagram-muted',
    }),
    queueSlots(slotsX, synY, 6, 2, w.synQueue),
    text(slotsX, synY + 40, w.synNote, { size: 11, className: 'diagram-muted' }),
    queueSlots(slotsX, acceptY, 6, 3, w.acceptQueue),
    text(slotsX, acceptY + 40, w.acceptNote, { size: 11, className: 'diagram-muted' }),
    text(slotsX, acceptY + 55, w.length[0] ?? '', {
      size: 11,
      className: 'diagram-accent',
    }),
    text(slotsX, acceptY + 68, w.length[1] ?? '', {
      size: 11,
      className: 'diagram-accent',
    }),
  );

  // The handshake: SYN into the SYN queue, SYN-ACK back, the last ACK moves it on.
  body.push(
    box(clients.x, clients.y, clients.width, clients.height),
    text(clients.x + clients.width / 2, clients.y + 22, w.clients, { anchor: 'middle', bold: true }),
    text(clients.x + clients.width / 2, clients.y + 40, 'connect()', {
      anchor: 'middle',
      size: 12,
      code: true,
      className: 'diagram-muted',
    }),
    '<g class="diagram-client">',
    arrow(clients.x + clients.width, synY + 6, slotsX - 4, synY + 6),
    text(clients.x + clients.width + 8, synY, '1. SYN', { size: 11 }),
    '</g>',
    '<g class="diagram-server">',
    arrow(slotsX - 4, synY + 26, clients.x + clients.width, synY + 26, { dashed: true }),
    text(clients.x + clients.width + 8, synY + 40, '2. SYN-ACK', { size: 11 }),
    '</g>',
    '<g class="diagram-client">',
    arrow(clients.x + clients.width, acceptY + 12, slotsX - 4, acceptY + 12),
    text(clients.x + clients.width + 8, acceptY + 6, '3. ACK', { size: 11 }),
    '</g>',
    `<g class="diagram-flow">${arrow(slotsX + 12, synY + 46, slotsX + 12, acceptY - 22, { head: 6 })}</g>`,
  );

  // Node accepts from the front of the accept queue.
  const queueEnd = slotsX + 6 * 30;
  body.push(
    box(program.x, program.y, program.width, program.height),
    text(program.x + program.width / 2, program.y + 20, w.yourServer, { anchor: 'middle', bold: true }),
    text(program.x + program.width / 2, program.y + 38, "'connection'", {
      anchor: 'middle',
      size: 12,
      code: true,
      className: 'diagram-accent',
    }),
    text(program.x + program.width / 2, program.y + 56, 'handler(socket)', {
      anchor: 'middle',
      size: 12,
      code: true,
      className: 'diagram-accent',
    }),
    `<g class="diagram-server">${arrow(queueEnd, acceptY + 12, program.x, acceptY + 12)}</g>`,
    text(queueEnd + 8, acceptY + 4, 'accept()', { size: 11, code: true }),
  );
  body.push(
    text(program.x, 40, w.full, { size: 11, bold: true }),
    ...w.fullNotes.map((note, i) =>
      text(program.x, 55 + i * 14, note, { size: 11, className: 'diagram-muted' }),
    ),
  );
  const height = kernel.y + kernel.height + 12;
  const desc = w.desc;
  return frame({ id: 'figure-backlog-queues', kind: 'figure', title, desc, width, height, body });
}

// ---------------------------------------------------------------------------------------------
// Nagle: the same five one-byte writes, with Nagle's algorithm (the default) and without it.

const NAGLE_WRITES = ['h', 'e', 'l', 'l', 'o'];

function renderNagle(title: string, w: FigureWords['nagle']): string {
  const width = 640;
  const axisLeft = 150;
  const pitch = 64;
  const writeX = (i: number) => axisLeft + 20 + i * pitch;
  const ackX = writeX(NAGLE_WRITES.length - 1) + 84;
  const body: string[] = [];
  const laneHeight = 164;
  const lanes = [
    {
      name: w.on,
      note: w.onNote,
      // The first byte leaves at once; the rest wait for its ACK, then leave as one segment.
      segments: [
        { from: [0], x: writeX(0), text: '"h"' },
        { from: [1, 2, 3, 4], x: ackX, text: '"ello"' },
      ],
      ack: true,
    },
    {
      name: 'setNoDelay(true)',
      note: 'TCP_NODELAY',
      segments: NAGLE_WRITES.map((w, i) => ({ from: [i], x: writeX(i), text: `"${w}"` })),
      ack: false,
    },
  ];
  lanes.forEach((lane, k) => {
    const top = 12 + k * laneHeight;
    const writesY = top + 40;
    const wireY = top + 108;
    body.push(
      text(16, top + 14, lane.name, { bold: true, code: k === 1 }),
      text(16 + textWidth(lane.name, 13, k === 1) + 10, top + 14, lane.note, {
        size: 12,
        className: 'diagram-muted',
      }),
      text(16, writesY + 16, w.writes, { size: 12, className: 'diagram-muted' }),
      text(16, wireY + 16, w.sent, { size: 12, className: 'diagram-muted' }),
      line(axisLeft, wireY + 30, width - 16, wireY + 30, 'diagram-lifeline'),
    );
    NAGLE_WRITES.forEach((w, i) => {
      body.push(
        box(writeX(i) - 14, writesY, 28, 24),
        text(writeX(i), writesY + 17, `"${w}"`, { anchor: 'middle', code: true, size: 12 }),
      );
    });
    for (const segment of lane.segments) {
      const boxWidth = textWidth(segment.text, 12, true) + 16;
      body.push(
        box(segment.x - boxWidth / 2, wireY, boxWidth, 24, 'diagram-box diagram-segment'),
        text(segment.x, wireY + 17, segment.text, { anchor: 'middle', code: true, size: 12 }),
      );
      for (const i of segment.from) {
        body.push(
          `<g class="diagram-flow">${arrow(writeX(i), writesY + 26, segment.x, wireY - 3, { head: 6, width: 1 })}</g>`,
        );
      }
    }
    if (lane.ack) {
      body.push(
        '<g class="diagram-server">',
        arrow(ackX - 40, wireY + 46, ackX - 40, wireY + 32, { head: 6, width: 1 }),
        '</g>',
        text(ackX - 46, wireY + 46, w.ack, {
          anchor: 'end',
          size: 11,
          className: 'diagram-muted',
        }),
      );
    }
  });
  body.push(text(axisLeft, 12 + 2 * laneHeight + 6, w.time, { size: 11, className: 'diagram-muted' }));
  const height = 12 + 2 * laneHeight + 14;
  const desc = w.desc;
  return frame({ id: 'figure-nagle', kind: 'figure', title, desc, width, height, body });
}

// ---------------------------------------------------------------------------------------------
// Ping latency under load (lesson 10): every ping of a recorded run as a dot, on a log scale,
// one row per mode; the run is lessons/10-concurrency/diagrams/ping-latency.json, which
// `measure-event-loop.ts --write` records.

interface LatencyRun {
  rounds: number;
  cores: number;
  rows: { mode: string; pingsMs: number[]; p50: number; p99: number }[];
}

function renderPingLatency(title: string, w: FigureWords['ping-latency']): string {
  const run = JSON.parse(
    readFileSync(join(LESSONS_DIR, '10-concurrency', 'diagrams', 'ping-latency.json'), 'utf8'),
  ) as LatencyRun;
  const width = 640;
  const left = 96;
  const right = width - 24;
  const rowHeight = 64;
  const top = 16;
  // Decades from 0.1 ms to 1 s: a ping answered at once and one stuck behind a hash both show.
  const decades = [0.1, 1, 10, 100, 1000];
  const x = (ms: number) => {
    const clamped = Math.min(Math.max(ms, 0.1), 1000);
    return left + ((Math.log10(clamped) + 1) / 4) * (right - left);
  };
  const axisY = top + run.rows.length * rowHeight + 8;
  const body: string[] = [];
  for (const d of decades) {
    body.push(
      line(x(d), top, x(d), axisY, 'diagram-lifeline'),
      text(x(d), axisY + 16, d < 1 ? `${d} ms` : d < 1000 ? `${d} ms` : '1 s', {
        anchor: 'middle',
        size: 11,
        className: 'diagram-muted',
      }),
    );
  }
  run.rows.forEach((row, k) => {
    const y = top + k * rowHeight + rowHeight / 2;
    body.push(text(16, y + 4, row.mode, { bold: true, code: true }));
    // A little vertical spread (the same every build) so that dots at one time stay countable.
    row.pingsMs.forEach((ms, i) => {
      const jitter = ((i * 7) % 11) - 5;
      body.push(
        el('circle', {
          cx: x(ms),
          cy: y + jitter * 1.6,
          r: 2.5,
          class: 'diagram-client',
          fill: 'currentColor',
          'fill-opacity': 0.55,
        }),
      );
    });
    for (const [label, value, dy] of [
      ['p50', row.p50, -18],
      ['p99', row.p99, 24],
    ] as const) {
      body.push(
        line(x(value), y - 12, x(value), y + 12, 'diagram-accent', 2),
        text(x(value), y + dy, `${label} ${value < 10 ? value.toFixed(1) : Math.round(value)} ms`, {
          anchor: x(value) > right - 60 ? 'end' : 'middle',
          size: 11,
        }),
      );
    }
  });
  const height = axisY + 28;
  const [inline, workers] = [
    run.rows.find((r) => r.mode === 'inline'),
    run.rows.find((r) => r.mode === 'workers'),
  ];
  const desc =
    w.run(2 * run.cores, run.rounds) +
    (inline ? w.inline(inline.pingsMs.length, String(Math.round(inline.p50))) : '') +
    (workers ? w.workers(workers.pingsMs.length, workers.p50.toFixed(1), workers.p99.toFixed(1)) : '');
  return frame({ id: 'figure-ping-latency', kind: 'figure', title, desc, width, height, body });
}
