/**
 * Concept figures, drawn from text at build time. A README shows one with an image line,
 * `![its title](diagrams/NAME.svg)`: GitHub shows the file scripts/diagrams.ts commits beside the
 * README, and the site draws the figure inline (site/src/diagrams/lesson.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WireEvent } from '@course/helpers/wire';
import { LESSONS_DIR } from '@course/model/lessons';
import { renderWire } from './sequence.ts';
import { arrow, box, el, frame, line, polyline, text, textWidth } from './svg.ts';

export interface Figure {
  /** The figure's accessible name. */
  title: string;
  /** The figure as an inline `<svg>`. */
  render(): string;
}

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

/** A figure whose render() needs no `this`: it can be passed around on its own. */
function figure(title: string, draw: (title: string) => string): Figure {
  return { title, render: () => draw(title) };
}

export const figures: Record<string, Figure> = {
  'tcp-handshake': figure(
    'A TCP connection from start to end: handshake, request, reply, and a FIN each way',
    (title) => renderWire(handshakeEvents, { title, id: 'figure-tcp-handshake' }),
  ),
  'client-steps': figure("The five steps of a TCP client, and Node's call for each", (title) =>
    stepsFigure({
      id: 'figure-client-steps',
      title,
      intro: 'The five steps of a TCP client, top to bottom, as the Python tutorial names them,',
      steps: ['socket()', 'connect()', 'send()', 'recv()', 'close()'],
      calls: [
        {
          steps: [0, 1],
          code: 'net.connect({ host, port })',
          notes: ['one call creates the socket and connects;', "'connect' fires once the handshake is done"],
        },
        { steps: [2, 2], code: 'socket.end(message)', notes: ['writes the message, then FIN: done sending'] },
        {
          steps: [3, 3],
          code: "'data' … 'end'",
          notes: ["'data': whatever had arrived;", "'end': the server's FIN"],
        },
        {
          steps: [4, 4],
          code: 'automatic, or socket.destroy()',
          notes: ["Node closes it after both FINs ('close');", 'destroy() ends it at once'],
        },
      ],
    }),
  ),
  'server-steps': figure("The seven steps of a TCP server, and Node's call for each", (title) =>
    stepsFigure({
      id: 'figure-server-steps',
      title,
      intro: 'The seven steps of a TCP server, top to bottom, as the Python tutorial names them,',
      steps: ['socket()', 'bind()', 'listen()', 'accept()', 'recv()', 'send()', 'close()'],
      calls: [
        // net.createServer(handler) only makes an object: no socket exists before listen().
        {
          steps: [0, 2],
          code: 'server.listen({ host, port })',
          notes: ['socket, bind and listen in one call', '(createServer() made no socket yet)'],
        },
        {
          steps: [3, 3],
          code: 'handler(socket)',
          notes: ['Node accepts and calls your handler', 'with a new socket for this client'],
        },
        { steps: [4, 4], code: "'data' … 'end'", notes: ["chunks, until the client's FIN"] },
        {
          steps: [5, 6],
          code: 'socket.end(reply)',
          notes: ['writes the reply, then FIN;', "'close' once both sides are done"],
        },
      ],
      loop: { steps: [3, 6], label: 'for each client (Node serves many at once)' },
    }),
  ),
  'tcp-layers': figure('Where a socket sits: the four layers of TCP/IP', renderLayers),
  'tcp-close': figure(
    'Closing a TCP connection: the states of each side, and who waits in TIME_WAIT',
    renderClose,
  ),
  'backlog-queues': figure(
    'Behind listen(backlog): the SYN queue and the accept queue of a listening socket',
    renderBacklog,
  ),
  nagle: figure(
    "Nagle's algorithm: small writes wait for the ACK of the first, then leave together",
    renderNagle,
  ),
  'ping-latency': figure(
    'How long a ping waits while four clients hash: inline against worker threads (a recorded run)',
    renderPingLatency,
  ),
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

function stepsFigure(spec: StepsSpec): string {
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

  const words = spec.calls.map((call) => {
    const [first, end] = call.steps;
    const names = spec.steps.slice(first, end + 1).map((s, k) => `${first + k + 1}. ${s}`);
    return `${names.join(' and ')}: ${call.code} — ${call.notes.join(' ')}`;
  });
  const loop = spec.loop
    ? ` Steps ${spec.loop.steps[0] + 1} to ${spec.loop.steps[1] + 1} repeat ${spec.loop.label}.`
    : '';
  return frame({
    id: spec.id,
    kind: 'figure',
    title: spec.title,
    desc: `${spec.intro} with Node's call for each. ${words.join('. ')}.${loop}`,
    width: STEPS_WIDTH,
    height,
    body,
  });
}

// ---------------------------------------------------------------------------------------------
// The layers: application above the socket API, TCP, IP and the link below it, in the kernel.

const LAYERS = [
  { name: 'application', what: 'your code: what to send, how to read the reply' },
  { name: 'transport', what: 'TCP: ports, the handshake, order, retransmission' },
  { name: 'network', what: 'IP: addresses (127.0.0.1), routing between machines' },
  { name: 'link', what: 'Ethernet, Wi-Fi, or the loopback device (lo)' },
];
const SOCKET_API = "the socket API: net.connect · write · end · 'data'";

function renderLayers(title: string): string {
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
  side((tops[0] ?? 0) + 4, (tops[0] ?? 0) + boxHeight - 4, ['your program', '(this course)']);
  side((tops[1] ?? 0) + 4, (tops[3] ?? 0) + boxHeight - 4, ['the kernel', 'and drivers:', 'done for you']);

  const desc =
    'Four stacked layers, top to bottom. ' +
    LAYERS.map((l) => `${l.name}: ${l.what}.`).join(' ') +
    ` Between application and transport runs the border, ${SOCKET_API.replaceAll(' ·', ',')}. ` +
    'Above it is your program; below it the kernel and the drivers do the networking for you.';
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

const CLOSE_ROWS: {
  /** The segment sent in this row, and who sends it. */
  segment?: { label: string; from: 'active' | 'passive' };
  /** A state (and a note under it) that a side enters in this row. */
  active?: [string, string];
  passive?: [string, string];
}[] = [
  { active: ['ESTABLISHED', 'both sides send and receive'], passive: ['ESTABLISHED', ''] },
  { segment: { label: 'FIN', from: 'active' }, active: ['FIN_WAIT_1', 'end(): done sending'] },
  {
    segment: { label: 'ACK', from: 'passive' },
    active: ['FIN_WAIT_2', 'waits for the other FIN'],
    passive: ['CLOSE_WAIT', "'end' fires; may still send"],
  },
  { segment: { label: 'FIN', from: 'passive' }, passive: ['LAST_ACK', 'end() too: done sending'] },
  {
    segment: { label: 'ACK', from: 'active' },
    active: ['TIME_WAIT', '60 s on Linux, ~120 s on Windows'],
    passive: ['CLOSED', 'the port is free'],
  },
  { active: ['CLOSED', 'then the connection is gone'] },
];

function renderClose(title: string): string {
  const width = 640;
  const left = 232;
  const right = 408;
  const header = 12;
  const rowHeight = 50;
  const first = header + 40;
  const body: string[] = [];
  const height = first + CLOSE_ROWS.length * rowHeight + 4;
  const heads: [number, string, string][] = [
    [left, 'closes first', '(active close)'],
    [right, 'closes second', '(passive close)'],
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
          text(left - 12, y + 22, row.active[1], { anchor: 'end', size: 11, className: 'diagram-muted' }),
        );
    }
    if (row.passive) {
      body.push(stateBox(right + 12, y + 4, row.passive[0], 'start'));
      if (row.passive[1])
        body.push(
          text(right + 12, y + 22, row.passive[1], { anchor: 'start', size: 11, className: 'diagram-muted' }),
        );
    }
  });
  const words = CLOSE_ROWS.map((row, i) => {
    const parts: string[] = [];
    if (row.segment)
      parts.push(
        `the side that closes ${row.segment.from === 'active' ? 'first' : 'second'} sends ${row.segment.label}`,
      );
    if (row.active)
      parts.push(`the first enters ${row.active[0]}${row.active[1] ? ` (${row.active[1]})` : ''}`);
    if (row.passive)
      parts.push(`the second enters ${row.passive[0]}${row.passive[1] ? ` (${row.passive[1]})` : ''}`);
    return `${i + 1}. ${parts.join('; ')}.`;
  });
  const desc =
    'Two lifelines, the side that closes first on the left, the other side on the right, time going down. ' +
    words.join(' ') +
    ' Only the side that sent the first FIN waits in TIME_WAIT.';
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

function renderBacklog(title: string): string {
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
    text(kernel.x + 12, kernel.y + 20, 'the kernel: listening socket :9000', {
      size: 12,
      className: 'diagram-muted',
    }),
    queueSlots(slotsX, synY, 6, 2, 'SYN queue'),
    text(slotsX, synY + 40, 'SYN came, SYN-ACK sent: half-open', { size: 11, className: 'diagram-muted' }),
    queueSlots(slotsX, acceptY, 6, 3, 'accept queue'),
    text(slotsX, acceptY + 40, 'handshake done, not accepted yet', { size: 11, className: 'diagram-muted' }),
    text(slotsX, acceptY + 55, 'its length: listen(backlog), capped', {
      size: 11,
      className: 'diagram-accent',
    }),
    text(slotsX, acceptY + 68, 'by net.core.somaxconn (Node: 511)', {
      size: 11,
      className: 'diagram-accent',
    }),
  );

  // The handshake: SYN into the SYN queue, SYN-ACK back, the last ACK moves it on.
  body.push(
    box(clients.x, clients.y, clients.width, clients.height),
    text(clients.x + clients.width / 2, clients.y + 22, 'clients', { anchor: 'middle', bold: true }),
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
    text(program.x + program.width / 2, program.y + 20, 'your server', { anchor: 'middle', bold: true }),
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
    text(program.x, 40, 'Full accept queue:', { size: 11, bold: true }),
    text(program.x, 55, 'Linux drops the SYN', { size: 11, className: 'diagram-muted' }),
    text(program.x, 69, '(the client retries),', { size: 11, className: 'diagram-muted' }),
    text(program.x, 83, 'or the last ACK:', { size: 11, className: 'diagram-muted' }),
    text(program.x, 97, 'connect() succeeds,', { size: 11, className: 'diagram-muted' }),
    text(program.x, 111, 'then nothing answers', { size: 11, className: 'diagram-muted' }),
  );
  const height = kernel.y + kernel.height + 12;
  const desc =
    'Clients on the left, the kernel in the middle, your server on the right. 1. A client sends SYN: the kernel ' +
    "puts the half-open connection in the SYN queue and 2. answers SYN-ACK. 3. The client's ACK completes the " +
    'handshake: the connection moves to the accept queue, whose length is the backlog given to listen() ' +
    "(capped by net.core.somaxconn; Node's default is 511). Node accepts from the front of that queue and " +
    "calls your handler with a new socket ('connection'). When the accept queue is full, Linux drops the SYN " +
    "(the client retries later) or the handshake's last ACK, so the client's connect() succeeds and then nothing answers.";
  return frame({ id: 'figure-backlog-queues', kind: 'figure', title, desc, width, height, body });
}

// ---------------------------------------------------------------------------------------------
// Nagle: the same five one-byte writes, with Nagle's algorithm (the default) and without it.

const NAGLE_WRITES = ['h', 'e', 'l', 'l', 'o'];

function renderNagle(title: string): string {
  const width = 640;
  const axisLeft = 150;
  const pitch = 64;
  const writeX = (i: number) => axisLeft + 20 + i * pitch;
  const ackX = writeX(NAGLE_WRITES.length - 1) + 84;
  const body: string[] = [];
  const laneHeight = 164;
  const lanes = [
    {
      name: 'Nagle on',
      note: 'the default: noDelay false',
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
      text(16, writesY + 16, 'your writes', { size: 12, className: 'diagram-muted' }),
      text(16, wireY + 16, 'segments sent', { size: 12, className: 'diagram-muted' }),
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
        text(ackX - 46, wireY + 46, 'ACK of "h": one round trip later', {
          anchor: 'end',
          size: 11,
          className: 'diagram-muted',
        }),
      );
    }
  });
  body.push(text(axisLeft, 12 + 2 * laneHeight + 6, 'time →', { size: 11, className: 'diagram-muted' }));
  const height = 12 + 2 * laneHeight + 14;
  const desc =
    'The same five one-byte writes, h, e, l, l, o, drawn twice, time going right. With Nagle on, the default ' +
    'for a net socket: "h" leaves at once in its own segment; e, l, l and o wait in the send buffer until the ' +
    'ACK of "h" comes back, one round trip later, then leave together as one segment, "ello". With ' +
    'setNoDelay(true): each write leaves at once in a segment of its own, five segments. Either way the ' +
    'receiver may read the bytes in any pieces.';
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

function renderPingLatency(title: string): string {
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
    `Each dot is one ping, sent every 20 ms while ${2 * run.cores} clients hashed ${run.rounds} rounds each, on ` +
    `a log scale from 0.1 ms to 1 s. ` +
    (inline
      ? `Inline, every ping waited behind the hashes: ${inline.pingsMs.length} answers, p50 ${Math.round(inline.p50)} ms. `
      : '') +
    (workers
      ? `With worker threads, ${workers.pingsMs.length} answers, p50 ${workers.p50.toFixed(1)} ms and p99 ${workers.p99.toFixed(1)} ms: the event loop only passed messages.`
      : '');
  return frame({ id: 'figure-ping-latency', kind: 'figure', title, desc, width, height, body });
}
