/**
 * Concept figures, drawn from text at build time. A README asks for one with
 * `<!-- figure: NAME -->` on its own line; GitHub shows nothing there, the site shows the figure.
 */
import type { WireEvent } from '@course/helpers/wire';
import { renderWire } from './sequence.ts';
import { arrow, box, el, frame, line, polyline, text } from './svg.ts';

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
        { steps: [0, 0], code: 'net.createServer(handler)', notes: ['creates the listening socket'] },
        {
          steps: [1, 2],
          code: 'server.listen({ host, port })',
          notes: ['one call claims host:port and starts', 'accepting; backlog: the waiting queue'],
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
