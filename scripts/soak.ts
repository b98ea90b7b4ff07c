/**
 * `npm run soak`: the solution servers against hostile, slow and heavy traffic. Each server runs
 * as the real program (a child process, with few file descriptors where `prlimit` exists) and
 * gets, in turn:
 *
 *   hostile   connections that send random bytes, invalid UTF-8, absurd lengths and endless
 *             lines, then half-close, reset or vanish;
 *   slowloris connections that trickle a valid start one byte at a time and never finish: the
 *             server, started with `--timeout 300`, must close every one of them in time;
 *   flood     many connections at once, more than its file descriptors; a server with a
 *             connection limit must refuse the extra ones cleanly;
 *   killed    (lesson 09) an upload client killed mid-transfer must leave no file behind;
 *   hoard     many peers that send a lot (big requests, lines, frames, unfinished uploads) and
 *             never read: the server's peak memory (VmHWM, Linux) may grow by a bound per lesson,
 *             which its own limits (request size, budget, connection cap) must keep;
 *
 * and afterwards it must still be running, have logged no unhandled error, and serve a
 * well-behaved client correctly. Lesson 05's UDP server gets hostile datagrams instead.
 * `--short` (part of `npm run check`) sends less; `--seed N` replays the random bytes;
 * `npm run soak -- 05 09` soaks only those lessons.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  watch,
  writeSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { paint } from '@course/cli/paint';
import { nodeArgs } from '@course/helpers/bundle';
import { mulberry32 } from '@course/helpers/wire';
import { listLessons } from '@course/model/lessons';
import { encodeFrame } from '@course/struct-framing/framing';

const { values, positionals } = parseArgs({
  options: { short: { type: 'boolean' }, seed: { type: 'string' } },
  allowPositionals: true,
});
const seed = Number(values.seed) || (Math.random() * 2 ** 32) >>> 0;
const random = mulberry32(seed);
const HOSTILE = values.short ? 60 : 600;
const SLOW = values.short ? 10 : 100;
const FLOOD = values.short ? 300 : 1000;
/** The servers' deadline for a complete request, line or frame, and how late a close may come. */
const TIMEOUT_MS = 300;
const CLOSE_SLACK_MS = 2_000;
/** File descriptors each server gets (where `prlimit` exists): fewer than the flood's connections. */
const FD_LIMIT = 256;
/** What a client that never reads may send before the server must have stopped reading it. */
const STREAM_MIB = 256;
// portable: the limit is applied only where prlimit exists (util-linux); elsewhere the soak runs without it.
const PRLIMIT = spawnSync('prlimit', ['--version']).status === 0;

/** How to talk to each lesson's server: politely, slowly, and past its connection limit. */
interface Probe {
  args?: () => string[];
  /** The request of the `n`th polite client (chat nicknames must differ). */
  request: (n: number) => Buffer;
  halfClose: boolean;
  expect: (reply: string) => boolean;
  /** A valid start of a request, line or frame, that slowloris trickles and never finishes. */
  slow?: Buffer;
  /** Valid requests, many at once, for a client that sends and never reads the answers. */
  stream?: Buffer;
  /** How the server says no, in its protocol, to a client it cannot serve (full, out of files). */
  refusal?: RegExp;
  /** The flag that sets a connection limit (to `LIMIT`). */
  limitFlag?: string;
  /** The hoard phase: the attack that once took this server's memory up by hundreds of MiB. */
  hoard?: Hoard;
}

/** Peers that send and never read, against a server of its own started with `args`. */
interface Hoard {
  what: string;
  peers: number;
  /** What one peer sends (written as the server takes it, never more than it reads). */
  send: () => Buffer;
  halfClose: boolean;
  args: string[];
  /** How far the server's peak resident memory may rise above its start, in MiB. */
  boundMiB: number;
  /** If set, every peer must have been closed by the server within this many ms of its last byte. */
  closeWithinMs?: number;
}
/** The hoard phase's peers are many more than the soak's file descriptor limit allows. */
const HOARD_FD_LIMIT = 4096;
/** How long the server may take to let go of the hoard, at most (usually a few seconds). */
const CALM_MS = 60_000;
const LIMIT = 20;
/**
 * How long a client that must be served (before and after an attack) waits for its answer: a
 * liveness bound, for the soak runs beside the lessons' checks on a busy machine. A server that
 * does not serve gets here, and fails.
 */
const SERVED_MS = 10_000;

const uploadHeader = (name: string, text: string) =>
  encodeFrame(Buffer.from(JSON.stringify({ name, size: text.length, sha256: sha256(text) })));

const probes: Record<string, Probe> = {
  '02-tcp-server': {
    request: () => Buffer.from('héllo'),
    halfClose: true,
    expect: (r) => r === 'HÉLLO',
    slow: Buffer.from('a request that never ends'),
    limitFlag: '--max-connections', // refusals are logged: `refused a connection from ...`
    refusal: /refused/,
    // A whole request and a reply nobody reads: the deadline covers the reply too.
    hoard: {
      what: '1 MiB of text, half-closed, the reply never read',
      peers: 200,
      send: () => Buffer.alloc(1024 * 1024, 'a'),
      halfClose: true,
      args: ['--timeout', '1000'],
      boundMiB: 200,
      // The deadline is 1 s; a busy machine may run 200 timers and resets many seconds late.
      closeWithinMs: 15_000,
    },
  },
  '03-oop-server': {
    request: () => Buffer.from('GET / HTTP/1.1\r\nHost: soak\r\n\r\n'),
    halfClose: false,
    expect: (r) => r.startsWith('HTTP/1.1 200 OK'),
    slow: Buffer.from('GET / HTTP/1.1\r\nHost: soak\r\nX-Slow: 1234567890'),
  },
  '04-port-reuse': {
    request: () => Buffer.alloc(0),
    halfClose: false,
    expect: (r) => /^hello from port \d+\n$/.test(r),
  },
  '06-chat': {
    request: (n) => Buffer.from(`soaker${n}\n/who\n/quit\n`),
    halfClose: false,
    expect: (r) => /^USERS .*soaker/m.test(r),
    slow: Buffer.from('a-nickname-typed-slowly'),
    limitFlag: '--max-clients',
    refusal: /full|too many connections from your address/,
  },
  '07-sticky-packets': {
    request: () => Buffer.from('hello\nbyebye\n'),
    halfClose: true,
    expect: (r) => r === '1 hello\n2 byebye\n',
    slow: Buffer.from('a line that never ends'),
    stream: Buffer.from('a line to answer\n'.repeat(4096)),
    // Empty lines: each byte asks for an answer of several, the most a client can make it hold.
    hoard: {
      what: '2 MiB of empty lines, the answers never read',
      peers: 200,
      send: () => Buffer.alloc(2 * 1024 * 1024, '\n'),
      halfClose: false,
      args: [], // the default budget, 64 MiB: 200 such clients took it from 79 to 265 MB without one
      boundMiB: 160,
    },
  },
  '08-struct-framing': {
    request: () => encodeFrame(Buffer.from('ping')),
    halfClose: true,
    expect: (r) => r === encodeFrame(Buffer.from('ping')).toString(),
    slow: encodeFrame(Buffer.from('a frame that never ends')).subarray(0, 20),
    stream: encodeFrame(Buffer.alloc(64 * 1024, 'e')),
    hoard: {
      what: 'three 16 MiB frames',
      peers: 20,
      send: () => {
        const frame = encodeFrame(Buffer.alloc(16 * 1024 * 1024, 'f'));
        return Buffer.concat([frame, frame, frame]);
      },
      halfClose: false,
      args: [], // the default budget, 64 MiB: 20 such clients took it from 113 to 580 MiB without one
      boundMiB: 256,
    },
  },
  '09-file-upload': {
    args: () => ['--dir', mkdtempSync(join(tmpdir(), 'soak-uploads-'))],
    request: (n) => Buffer.concat([uploadHeader(`soak-${n}.txt`, 'hi'), encodeFrame(Buffer.from('hi'))]),
    halfClose: false,
    expect: (r) => r.includes('"ok":true'),
    slow: uploadHeader('slow.txt', 'never sent'),
    refusal: /"ok":false/, // `cannot store the file: too many open files (EMFILE)`, say
    hoard: {
      what: 'an upload holding an unfinished 1 MiB frame',
      peers: 500,
      send: () => {
        const body = encodeFrame(Buffer.alloc(1024 * 1024, 'u'));
        return Buffer.concat([uploadHeader('hoard.bin', 'x'.repeat(1024 * 1024)), body.subarray(0, -1)]);
      },
      halfClose: false,
      args: [], // the default budget, 64 MiB: 500 such uploads took it from 74 to 581 MiB without one
      boundMiB: 256,
    },
  },
  '10-concurrency': {
    request: () => Buffer.from('ping\nhash 3 soak\n'),
    halfClose: true,
    expect: (r) => r === `pong\n${hashRounds('soak', 3)}\n`,
    slow: Buffer.from('hash 3 a line that never ends'),
    stream: Buffer.from('ping\n'.repeat(4096)),
    limitFlag: '--max-connections', // the one over gets `ERR too many connections`
    refusal: /too many connections/,
    // Empty lines, each asking for an `ERR` answer, the answers never read: the per-connection
    // pipeline bound and backpressure keep the replies held in check. (Pipelined hashes, 2000 a
    // peer, peaked lower: +39 MiB.)
    hoard: {
      what: '2 MiB of empty lines, the ERR answers never read',
      peers: 200,
      send: () => Buffer.alloc(2 * 1024 * 1024, '\n'),
      halfClose: false,
      args: [],
      boundMiB: 160,
    },
  },
};

/** Lesson 10's hash: SHA-256 of the text, then of each digest's 32 bytes, `rounds` times in all. */
function hashRounds(text: string, rounds: number): string {
  let digest = createHash('sha256').update(text).digest();
  for (let i = 1; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Random hostile bytes: noise, invalid UTF-8, a header claiming 4 GiB, or an endless line. */
function hostileBytes(): Buffer {
  const kind = Math.floor(random() * 4);
  if (kind === 0)
    return Buffer.from(
      Array.from({ length: 1 + Math.floor(random() * 8192) }, () => Math.floor(random() * 256)),
    );
  if (kind === 1)
    return Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0x0a]);
  if (kind === 2) return Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
  return Buffer.alloc(70_000, 'x'); // a line with no end, longer than any limit
}

/**
 * One client that resolves with what it received once the connection ends, once `enough` says
 * so, or at `giveUpMs`. `onConnect` decides what it does; `closedByServer` tells whether the
 * server ended it.
 */
function client(
  port: number,
  giveUpMs: number,
  onConnect: (socket: net.Socket) => void,
  enough: (received: string) => boolean = () => false,
): Promise<{ received: string; closedByServer: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => done(), giveUpMs);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({
        received: Buffer.concat(chunks).toString('utf8'),
        closedByServer,
        ms: performance.now() - started,
      });
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (enough(Buffer.concat(chunks).toString('utf8'))) done();
    });
    socket.on('end', () => {
      closedByServer = true;
      done();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      closedByServer = error.code === 'ECONNRESET' || error.code === 'EPIPE';
      done();
    });
    socket.on('close', done);
    socket.once('connect', () => onConnect(socket));
  });
}

/** One hostile client: sends, then half-closes, resets, or vanishes. */
function hostile(port: number) {
  return client(port, 2_000, (socket) => {
    socket.write(hostileBytes());
    const ending = Math.floor(random() * 3);
    if (ending === 0) socket.end();
    else if (ending === 1) setImmediate(() => socket.resetAndDestroy());
    else setImmediate(() => socket.destroy());
  });
}

/** Slowloris: one byte every 20 ms of `start`, never the rest. */
function slowloris(port: number, start: Buffer) {
  return client(port, TIMEOUT_MS + CLOSE_SLACK_MS, (socket) => {
    let next = 0;
    const timer = setInterval(() => {
      if (next < start.length && !socket.destroyed) socket.write(start.subarray(next, ++next));
    }, 20);
    socket.once('close', () => clearInterval(timer));
  });
}

/** A client that connects and waits, to fill a connection limit. */
function holder(port: number) {
  return client(port, 1_000, () => {});
}

/**
 * The polite client: sends the probe's request and collects the reply until the close, or until
 * the answer is there (servers that keep the connection open), or `ms` (3 s: in a flood, no reply
 * counts as a refusal).
 */
async function polite(port: number, probe: Probe, n = 0, ms = 3_000): Promise<string> {
  const request = probe.request(n);
  const { received } = await client(
    port,
    ms,
    (socket) => (probe.halfClose ? socket.end(request) : socket.write(request)),
    probe.expect,
  );
  return received;
}

interface Running {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
}

/**
 * Starts a solution program with few file descriptors, and resolves once it is listening. As the
 * tests start it: bundled, on bare node (packages/helpers' bundle.ts), not through tsx.
 */
async function start(file: string, args: string[], fdLimit = FD_LIMIT): Promise<Running> {
  const node = [process.execPath, ...(await nodeArgs(file, ['--port', '0', ...args]))];
  // portable: only where prlimit exists (PRLIMIT)
  const command = PRLIMIT ? ['prlimit', `--nofile=${fdLimit}`, ...node] : node;
  return new Promise((resolve, reject) => {
    const child = spawn(command[0] as string, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    child.stdout?.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
      const match = /^listening on .*:(\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(bound);
        resolve({ child, port: Number(match[1]), stdout: () => stdout, stderr: () => stderr });
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening:\n${stderr}`)));
    const bound = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} printed no \`listening on\` line in 10 s:\n${stdout}${stderr}`));
    }, 10_000);
    child.stdout?.once('close', () => clearTimeout(bound));
  });
}

/** Runs `count` clients, `batch` at a time. */
async function batches<T>(count: number, batch: number, one: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < count; i += batch)
    results.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, one))));
  return results;
}

async function slowPhase(server: Running, probe: Probe, problems: string[]): Promise<string> {
  if (!probe.slow) return '';
  const slow = probe.slow;
  const results = await batches(SLOW, LIMIT / 2, () => slowloris(server.port, slow));
  const open = results.filter((r) => !r.closedByServer).length;
  if (open > 0)
    problems.push(
      `slowloris: ${open} of ${SLOW} trickling connections were still open ${TIMEOUT_MS + CLOSE_SLACK_MS} ms later (started with --timeout ${TIMEOUT_MS})`,
    );
  const slowest = Math.max(...results.map((r) => r.ms));
  return `slowloris cut after ≤ ${Math.round(slowest)} ms`;
}

/**
 * Many polite clients at once: each must be served correctly, or refused cleanly (closed with
 * no reply, or the server's refusal). A reply that is neither (cut short, garbled) is a failure.
 * Refusing them all is not: with its file descriptors all taken by the flood, lesson 09's server
 * rightly answers every one `too many open files (EMFILE)`. The polite client afterwards shows
 * that it serves again.
 */
async function politeFlood(server: Running, probe: Probe, problems: string[]): Promise<string> {
  const replies = await Promise.all(Array.from({ length: FLOOD }, (_, n) => polite(server.port, probe, n)));
  const served = replies.filter((r) => probe.expect(r)).length;
  const refused = replies.filter((r) => !probe.expect(r) && (r === '' || probe.refusal?.test(r)));
  const wrong = replies.filter((r) => !probe.expect(r) && !refused.includes(r));
  if (wrong.length > 0)
    problems.push(
      `flood of polite clients: ${wrong.length} got neither an answer nor a refusal, e.g. ${JSON.stringify(wrong[0]?.slice(0, 200))}`,
    );
  return `${served} of ${FLOOD} polite at once served, ${refused.length} refused`;
}

/**
 * The resident memory of a process now (VmRSS) or at its peak so far (VmHWM), in MiB, where
 * /proc tells it (Linux); NaN elsewhere.
 */
function memoryMiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** How many files (sockets included) a process has open, where /proc tells it (Linux); NaN elsewhere. */
function openFiles(pid: number | undefined): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/**
 * How many connections wait in the accept queue of the listening socket on `port` (Linux: the
 * rx_queue of a LISTEN line of /proc/net/tcp); NaN elsewhere. Peers that connected and were
 * never accepted hold the server's attention too, and no count of its open files shows them.
 */
function acceptQueue(port: number): number {
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const [, local, , state, queues] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(`:${hexPort}`))
        return Number.parseInt(queues?.split(':')[1] ?? '', 16);
    }
    return 0;
  } catch {
    return Number.NaN;
  }
}

/**
 * One peer of the hoard: sends `bytes` as fast as the server takes them (waiting for 'drain', a
 * second at most), half-closes if asked, never reads. Resolves once it has sent all it can.
 */
function hoarder(port: number, bytes: Buffer, halfClose: boolean): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  socket.pause();
  return new Promise((resolve) => {
    socket.once('close', () => resolve(socket));
    socket.once('connect', async () => {
      const piece = 64 * 1024;
      for (let at = 0; at < bytes.length && !socket.destroyed; at += piece) {
        if (socket.write(bytes.subarray(at, at + piece))) continue;
        const drained = await new Promise<boolean>((ok) => {
          const stalled = setTimeout(() => ok(false), 1_000);
          socket.once('drain', () => {
            clearTimeout(stalled);
            ok(true);
          });
        });
        if (!drained) return resolve(socket);
      }
      if (halfClose && !socket.destroyed) socket.end();
      resolve(socket);
    });
  });
}

/**
 * The hoard: many peers send a lot and never read. The server's peak memory may rise by its
 * bound; each peer is then let go, and a polite client must still be served.
 */
async function hoardPhase(file: string, probe: Probe, problems: string[]): Promise<string> {
  const hoard = probe.hoard;
  if (!hoard) return '';
  const args = [...(probe.args?.() ?? []), ...hoard.args];
  const dir = args.includes('--dir') ? args[args.indexOf('--dir') + 1] : undefined;
  const server = await start(file, args, HOARD_FD_LIMIT);
  const peers: net.Socket[] = [];
  try {
    // A polite exchange first, so that the base is a server with its code loaded and warm.
    await polite(server.port, probe, 0, SERVED_MS);
    const before = memoryMiB(server.child.pid);
    const baseFiles = openFiles(server.child.pid);
    const bytes = hoard.send();
    peers.push(
      ...(await Promise.all(
        Array.from({ length: hoard.peers }, () => hoarder(server.port, bytes, hoard.halfClose)),
      )),
    );
    // What the server does with what it read (assemble, answer, queue) takes a moment more; a
    // server with a deadline must have closed every peer by then. The peers never read, so they
    // cannot see the close: the server's own count of open files shows it.
    const stillOpen = () => openFiles(server.child.pid) - baseFiles;
    const waitMs = hoard.closeWithinMs ?? 2_000;
    const settled = performance.now() + waitMs;
    while (performance.now() < settled && !(hoard.closeWithinMs && stillOpen() <= 0))
      await new Promise((resolve) => setTimeout(resolve, 50));
    const grew = memoryMiB(server.child.pid, 'VmHWM') - before;
    const open = Math.max(0, stillOpen());
    for (const peer of peers) peer.destroy();
    if (hoard.closeWithinMs && open > 0)
      problems.push(
        `hoard (${hoard.peers} × ${hoard.what}): the server still held ${open} connections ${waitMs} ms after their last byte (server flags: ${hoard.args.join(' ')})`,
      );
    if (grew > hoard.boundMiB)
      problems.push(
        `hoard (${hoard.peers} × ${hoard.what}): the server's peak memory rose by ${grew.toFixed(0)} MiB, over its bound of ${hoard.boundMiB} MiB`,
      );
    // Once the server has let every peer go, those it had accepted and those still waiting to be
    // accepted (each one's bytes read and answered into a reset), it serves again. A busy machine
    // takes seconds; CALM_MS only catches a server that never gets there.
    const calm = performance.now() + CALM_MS;
    while (performance.now() < calm && (stillOpen() > 0 || acceptQueue(server.port) > 0))
      await new Promise((resolve) => setTimeout(resolve, 50));
    const reply = await polite(server.port, probe, 0, SERVED_MS);
    if (!probe.expect(reply))
      problems.push(`after the hoard, a well-behaved client got ${JSON.stringify(reply.slice(0, 200))}`);
    if (Number.isNaN(grew))
      return `hoard: ${hoard.peers} × ${hoard.what} (peak memory not measured: no /proc)`;
    const held = hoard.closeWithinMs ? 'all let go in time' : `${open} held after ${waitMs / 1000} s`;
    return `hoard: ${hoard.peers} × ${hoard.what}, ${held}, peak +${grew.toFixed(0)} MiB (bound ${hoard.boundMiB})`;
  } finally {
    for (const peer of peers) peer.destroy();
    server.child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A client that sends requests and never reads the answers: the server must stop reading it
 * (backpressure) instead of queueing answers without bound. It sends up to STREAM_MIB, waiting
 * for 'drain' as a good client does; a server that stops reading stops the drains.
 */
async function slowReaderPhase(file: string, probe: Probe, problems: string[]): Promise<string> {
  if (!probe.stream) return '';
  const stream = probe.stream;
  // A server of its own, with its default deadline: a short one would cut this client off
  // (rightly) instead of showing whether the server stops reading it.
  const server = await start(file, []);
  try {
    return await neverRead(server, stream, problems);
  } finally {
    server.child.kill('SIGKILL');
  }
}

async function neverRead(server: Running, stream: Buffer, problems: string[]): Promise<string> {
  const before = memoryMiB(server.child.pid);
  const socket = net.connect({ host: '127.0.0.1', port: server.port });
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve).once('close', resolve));
  socket.pause(); // never read a byte of the answers
  let sent = 0;
  while (sent < STREAM_MIB * 1024 * 1024 && !socket.destroyed) {
    sent += stream.length;
    if (socket.write(stream)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 1_000);
      socket.once('drain', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!drained) break;
  }
  const grew = memoryMiB(server.child.pid) - before;
  socket.destroy();
  const mib = (sent / 1024 / 1024).toFixed(0);
  if (sent >= STREAM_MIB * 1024 * 1024)
    problems.push(
      `a client that never reads sent ${mib} MiB and the server kept reading (+${grew.toFixed(0)} MiB)`,
    );
  return `a client that never reads was paused after ${mib} MiB (server +${grew.toFixed(0)} MiB)`;
}

async function limitPhase(server: Running, probe: Probe, problems: string[]): Promise<string> {
  const { limitFlag, refusal } = probe;
  if (!limitFlag || !refusal) return '';
  const before = (server.stdout().match(new RegExp(refusal, 'g')) ?? []).length;
  const results = await Promise.all(Array.from({ length: LIMIT * 5 }, () => holder(server.port)));
  const refusedReplies = results.filter((r) => refusal.test(r.received)).length;
  const refusedLogs = (server.stdout().match(new RegExp(refusal, 'g')) ?? []).length - before;
  if (refusedLogs === 0 && refusedReplies === 0)
    problems.push(`limit: ${LIMIT * 5} connections past a limit of ${LIMIT}, and not one refusal`);
  // The holders have closed, but a busy server may not have seen every close yet: it must take
  // newcomers again within the slack (a count that never goes down would refuse them for good).
  const closed = performance.now();
  let reply = await polite(server.port, probe);
  while (refusal.test(reply) && performance.now() - closed < CLOSE_SLACK_MS) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    reply = await polite(server.port, probe);
  }
  if (refusal.test(reply))
    problems.push(`limit: still refusing ${CLOSE_SLACK_MS} ms after the ${LIMIT} held connections closed`);
  const back = Math.round(performance.now() - closed);
  return `limit ${LIMIT}: ${Math.max(refusedLogs, refusedReplies)} of ${LIMIT * 5} refused, served again after ${back} ms`;
}

/** Lesson 09: a real client process uploading 64 MiB, killed once the upload has started. */
async function killedPhase(server: Running, dir: string, problems: string[]): Promise<string> {
  const source = mkdtempSync(join(tmpdir(), 'soak-source-'));
  try {
    const file = join(source, 'big.bin');
    const out = openSync(file, 'w');
    const block = Buffer.alloc(1024 * 1024, 'x');
    for (let i = 0; i < 64; i++) writeSync(out, block);
    closeSync(out);
    const watcher = watch(dir);
    const started = new Promise<'started'>((resolve) => watcher.once('change', () => resolve('started')));
    const clientFile = join('lessons', '09-file-upload', 'solution', 'client.ts');
    const uploader = spawn(
      process.execPath,
      await nodeArgs(clientFile, ['--port', String(server.port), file]),
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise<'exited'>((resolve) => uploader.once('exit', () => resolve('exited')));
    const bound = setTimeout(() => uploader.kill('SIGKILL'), 10_000);
    // Once the server has created its temporary file, the body is on its way: kill the client.
    const first = await Promise.race([started, exited]);
    watcher.close();
    uploader.kill('SIGKILL');
    await exited;
    clearTimeout(bound);
    if (first === 'exited') {
      problems.push('killed mid-transfer: the upload client ended before the server created its file');
      return 'the upload never started';
    }
    // The server notices the connection closing and removes the temporary file.
    const left = await new Promise<string[]>((resolve) => {
      const finish = () => {
        emptied.close();
        clearTimeout(deadline);
        resolve(readdirSync(dir));
      };
      const deadline = setTimeout(finish, CLOSE_SLACK_MS);
      const check = () => readdirSync(dir).length === 0 && finish();
      const emptied = watch(dir, check);
      check();
    });
    if (left.length > 0)
      problems.push(`killed mid-transfer: left ${left.join(', ')} in the upload directory`);
    return 'client killed mid-upload left nothing';
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}

async function soakTcp(lesson: { id: string; dir: string }, probe: Probe): Promise<string[]> {
  const args = [...(probe.args?.() ?? []), ...(probe.slow ? ['--timeout', String(TIMEOUT_MS)] : [])];
  if (probe.limitFlag) args.push(probe.limitFlag, String(LIMIT));
  const file = join(lesson.dir, 'solution', 'server.ts');
  const server = await start(file, args);
  const problems: string[] = [];
  const notes: string[] = [];
  const uploads = probe.args ? args[1] : undefined;
  try {
    await batches(HOSTILE, 20, () => hostile(server.port));
    notes.push(await slowPhase(server, probe, problems));
    notes.push(await slowReaderPhase(file, probe, problems));
    notes.push(await hoardPhase(file, probe, problems));
    // The flood: everyone at once; a refused or reset connection is fine, a dead server is not.
    await Promise.all(Array.from({ length: FLOOD }, () => hostile(server.port)));
    notes.push(await politeFlood(server, probe, problems));
    notes.push(await limitPhase(server, probe, problems));
    if (uploads) {
      // Leftovers of the hostile phase (none expected) would hide the killed upload's.
      for (const name of readdirSync(uploads)) rmSync(join(uploads, name), { force: true });
      notes.push(await killedPhase(server, uploads, problems));
    }
    if (server.child.exitCode !== null) problems.push(`the server died (exit ${server.child.exitCode})`);
    const reply = await polite(server.port, probe, 0, SERVED_MS);
    if (!probe.expect(reply))
      problems.push(`a well-behaved client got ${JSON.stringify(reply.slice(0, 200))}`);
    if (/Error|Uncaught|at .*\.ts:\d+/.test(server.stderr()))
      problems.push(`stderr:\n${server.stderr().slice(0, 800)}`);
  } finally {
    server.child.kill('SIGKILL');
    if (uploads) rmSync(uploads, { recursive: true, force: true });
  }
  report(lesson.id, problems, notes);
  return problems;
}

/** Lesson 05: datagrams of noise, empty ones, the largest allowed, text that grows in upper case. */
async function soakUdp(lesson: { id: string; dir: string }): Promise<string[]> {
  const server = await start(join(lesson.dir, 'solution', 'server.ts'), []);
  const problems: string[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => {}); // the replies to hostile datagrams are not the point
  try {
    const kinds = [
      () => Buffer.alloc(0),
      () =>
        Buffer.from(
          Array.from({ length: 1 + Math.floor(random() * 1400) }, () => Math.floor(random() * 256)),
        ),
      () => Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xf0, 0x28, 0x8c]),
      () => Buffer.alloc(65_507, 'x'),
      // ΐ is 2 bytes and its capital 6: an upper-case reply would be three times the request.
      () => Buffer.from('ΐ'.repeat(32_000)),
    ];
    for (let i = 0; i < HOSTILE; i++) {
      const datagram = (kinds[i % kinds.length] as () => Buffer)();
      await new Promise<void>((resolve) => socket.send(datagram, server.port, '127.0.0.1', () => resolve()));
    }
    if (server.child.exitCode !== null) problems.push(`the server died (exit ${server.child.exitCode})`);
    // A polite datagram, resent until answered: UDP may lose it under the burst's replies.
    const reply = await new Promise<string>((resolve) => {
      const polite = dgram.createSocket('udp4');
      const send = () => polite.send('héllo', server.port, '127.0.0.1');
      const timer = setInterval(send, 200);
      const done = (text: string) => {
        clearInterval(timer);
        clearTimeout(bound);
        polite.close();
        resolve(text);
      };
      const bound = setTimeout(() => done('(no reply in 3 s)'), 3_000);
      polite.on('message', (message) => done(message.toString('utf8')));
      send();
    });
    if (reply !== 'HÉLLO') problems.push(`a well-behaved client got ${JSON.stringify(reply.slice(0, 200))}`);
    // A forged sender gets the replies: none may be larger than the datagram that asked for it.
    for (const request of [Buffer.alloc(21_835, 0xff), Buffer.from('ΐ'.repeat(10_000))]) {
      const reply = await udpAsk(server.port, request, 500);
      if (reply && reply.length > request.length)
        problems.push(`amplification: a ${request.length}-byte datagram got a ${reply.length}-byte reply`);
    }
    if (/Error|Uncaught|at .*\.ts:\d+/.test(server.stderr()))
      problems.push(`stderr:\n${server.stderr().slice(0, 800)}`);
  } finally {
    socket.close();
    server.child.kill('SIGKILL');
  }
  report(lesson.id, problems, [`${HOSTILE} hostile datagrams; no reply larger than its request`]);
  return problems;
}

/** Sends one datagram from a socket of its own; resolves with the first reply, or undefined after `ms`. */
function udpAsk(port: number, request: Buffer, ms: number): Promise<Buffer | undefined> {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => {});
  return new Promise((resolve) => {
    const done = (reply?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(done, ms);
    socket.once('message', (reply) => done(reply));
    socket.send(request, port, '127.0.0.1');
  });
}

function report(id: string, problems: string[], notes: string[]): void {
  const said = notes.filter(Boolean).join('; ');
  console.log(
    `  ${problems.length ? paint.red('✗') : paint.green('✓')} ${id}${said ? paint.dim(` (${said})`) : ''}${problems.map((p) => `\n      ${p}`).join('')}`,
  );
}

console.log(
  `soak: ${HOSTILE} hostile connections, ${SLOW} slowloris and a flood of ${FLOOD} per server` +
    `${PRLIMIT ? `, each server with ${FD_LIMIT} file descriptors` : ''}; seed ${seed}`,
);
let failures = 0;
for (const lesson of listLessons()) {
  if (positionals.length && !positionals.some((p) => lesson.id.startsWith(p))) continue;
  const probe = probes[lesson.id];
  if (lesson.id === '05-udp') failures += (await soakUdp(lesson)).length;
  else if (probe) failures += (await soakTcp(lesson, probe)).length;
}
console.log(
  `soak: ${failures === 0 ? 'every server survived and still served' : `${failures} problem(s); replay with --seed ${seed}`}`,
);
process.exitCode = failures === 0 ? 0 : 1;
