/**
 * `npm run soak`: the solution servers against hostile and heavy traffic. Each server runs as the
 * real program (a child process); it gets connections that send random bytes, invalid UTF-8,
 * absurd lengths and endless lines, that reset or vanish, then a flood of simultaneous
 * connections. Afterwards it must still be running, have logged no unhandled error, and serve a
 * well-behaved client correctly. `--short` (part of `npm run check`) sends less.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listLessons } from '@course/cli/lessons';
import { paint } from '@course/cli/paint';
import { mulberry32 } from '@course/helpers/wire';
import { encodeFrame } from '../lessons/08-struct-framing/solution/framing.ts';

const { values } = parseArgs({ options: { short: { type: 'boolean' }, seed: { type: 'string' } } });
const seed = Number(values.seed) || (Math.random() * 2 ** 32) >>> 0;
const random = mulberry32(seed);
const HOSTILE = values.short ? 60 : 600;
const FLOOD = values.short ? 200 : 1000;

/** How to talk to each lesson's server politely, and what it must answer. */
const probes: Record<
  string,
  { args?: () => string[]; request: Buffer; halfClose: boolean; expect: (reply: string) => boolean }
> = {
  '02-tcp-server': { request: Buffer.from('héllo'), halfClose: true, expect: (r) => r === 'HÉLLO' },
  '03-oop-server': {
    request: Buffer.from('GET / HTTP/1.1\r\nHost: soak\r\n\r\n'),
    halfClose: false,
    expect: (r) => r.startsWith('HTTP/1.1 200 OK'),
  },
  '04-port-reuse': {
    request: Buffer.alloc(0),
    halfClose: false,
    expect: (r) => /^hello from port \d+\n$/.test(r),
  },
  '06-chat': {
    request: Buffer.from('soaker\n/who\n/quit\n'),
    halfClose: false,
    expect: (r) => r.includes('USERS soaker'),
  },
  '07-sticky-packets': {
    request: Buffer.from('hello\nbyebye\n'),
    halfClose: true,
    expect: (r) => r === '1 hello\n2 byebye\n',
  },
  '08-struct-framing': {
    request: encodeFrame(Buffer.from('ping')),
    halfClose: true,
    expect: (r) => r === encodeFrame(Buffer.from('ping')).toString(),
  },
  '09-file-upload': {
    args: () => ['--dir', mkdtempSync(join(tmpdir(), 'soak-uploads-'))],
    request: Buffer.concat([
      encodeFrame(Buffer.from(JSON.stringify({ name: 'soak.txt', size: 2, sha256: sha256('hi') }))),
      encodeFrame(Buffer.from('hi')),
    ]),
    halfClose: false,
    expect: (r) => r.includes('"ok":true'),
  },
};

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

/** One hostile client: sends, then half-closes, resets, or vanishes; never waits long. */
function hostile(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.on('error', done).on('close', done);
    socket.on('data', () => {});
    socket.setTimeout(2_000, done);
    socket.once('connect', () => {
      socket.write(hostileBytes());
      const ending = Math.floor(random() * 3);
      if (ending === 0) socket.end();
      else if (ending === 1) setImmediate(() => socket.resetAndDestroy());
      else setImmediate(done);
    });
  });
}

/** The polite client: sends the probe's request and collects the reply until close (or 3 s). */
function polite(port: number, probe: (typeof probes)[string]): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const finish = () => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Servers that keep the connection open: stop once the answer is there.
      if (probe.expect(Buffer.concat(chunks).toString('utf8'))) finish();
    });
    socket.on('end', finish).on('error', finish);
    socket.setTimeout(3_000, finish);
    socket.once('connect', () => (probe.halfClose ? socket.end(probe.request) : socket.write(probe.request)));
  });
}

function start(
  file: string,
  args: string[],
): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    child.stdout?.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
      const match = /^listening on .*:(\d+)$/m.exec(stdout);
      if (match) resolve({ child, port: Number(match[1]), stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening:\n${stderr}`)));
  });
}

let failures = 0;
console.log(`soak: ${HOSTILE} hostile connections and a flood of ${FLOOD} per server, seed ${seed}`);
for (const lesson of listLessons()) {
  const probe = probes[lesson.id];
  if (!probe) continue;
  const args = probe.args?.() ?? [];
  const server = await start(join(lesson.dir, 'solution', 'server.ts'), args);
  const problems: string[] = [];
  try {
    for (let i = 0; i < HOSTILE; i += 20)
      await Promise.all(Array.from({ length: 20 }, () => hostile(server.port)));
    // The flood: everyone at once; a refused or reset connection is fine, a dead server is not.
    await Promise.all(Array.from({ length: FLOOD }, () => hostile(server.port)));
    if (server.child.exitCode !== null) problems.push(`the server died (exit ${server.child.exitCode})`);
    const reply = await polite(server.port, probe);
    if (!probe.expect(reply))
      problems.push(`a well-behaved client got ${JSON.stringify(reply.slice(0, 200))}`);
    if (/Error|Uncaught|at .*\.ts:\d+/.test(server.stderr()))
      problems.push(`stderr:\n${server.stderr().slice(0, 800)}`);
  } finally {
    server.child.kill('SIGKILL');
    const dir = args[1];
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  failures += problems.length;
  console.log(
    `  ${problems.length ? paint.red('✗') : paint.green('✓')} ${lesson.id}${problems.map((p) => `\n      ${p}`).join('')}`,
  );
}
console.log(
  `soak: ${failures === 0 ? 'every server survived and still served' : `${failures} problem(s); replay with --seed ${seed}`}`,
);
process.exitCode = failures === 0 ? 0 : 1;
