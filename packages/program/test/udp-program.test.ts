import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { bindOn, udpTypeFor } from '../src/index.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/udp-upper.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
// A liveness bound: tsx compiles the fixture first, which takes seconds on a busy machine.
const BOUND = 10_000;

/** Everything a test opened, closed after it. */
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Child {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the program exits. */
  exited: Promise<number | null>;
}

function start(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', TSX, FIXTURE, ...args], { stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  cleanups.push(() => child.kill('SIGKILL'));
  return { process: child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Rejects after `ms` with `what`, so that no wait in these tests is unbounded. */
function bounded<T>(promise: Promise<T>, what: string, ms = BOUND): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Waits for the first line of stdout. */
function firstLine(child: Child): Promise<string> {
  return bounded(
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const newline = child.stdout().indexOf('\n');
        if (newline >= 0) resolve(child.stdout().slice(0, newline));
      };
      child.process.stdout?.on('data', check);
      child.exited.then(() => reject(new Error(`exited first; stderr: ${child.stderr()}`)));
      check();
    }),
    'the first line',
  );
}

/** A UDP socket bound to 127.0.0.1, closed after the test. */
async function udpSocket(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  cleanups.push(() => socket.close());
  await bindOn(socket, { host: '127.0.0.1', port: 0 });
  return socket;
}

const hasIPv6Loopback = Object.values(networkInterfaces()).some((list) =>
  list?.some((i) => i.address === '::1'),
);

describe('runUdpServerProgram', () => {
  test('prints `listening on HOST:PORT`, answers datagrams, and exits 0 on SIGINT within a second', async () => {
    const child = start(['--port', '0']);
    const line = await firstLine(child);
    const match = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
    expect(match, `first line: ${line}`).not.toBeNull();
    const client = await udpSocket();
    const reply = bounded(
      new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString()))),
      'the reply',
    );
    client.send('hello', Number(match?.[1]), '127.0.0.1', () => {});
    expect(await reply).toBe('HELLO');
    const started = performance.now();
    child.process.kill('SIGINT');
    expect(await bounded(child.exited, 'the program to exit')).toBe(0);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(child.stdout()).toContain('udp-upper.ts: SIGINT, closing the socket and stopping\n');
  });

  test('exits 1 with one clear line when the port is taken, 2 on a flag it does not have', async () => {
    const taken = await udpSocket();
    const port = taken.address().port;
    const busy = start(['--port', String(port)]);
    const backlog = start(['--backlog', '5']);
    const [busyCode, backlogCode] = await bounded(Promise.all([busy.exited, backlog.exited]), 'both to exit');
    expect(busyCode).toBe(1);
    expect(busy.stderr()).toBe(`cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)\n`);
    expect(backlogCode, 'UDP has no listen backlog').toBe(2);
    expect(backlog.stderr()).toBe("udp-upper.ts: unknown option '--backlog' (see udp-upper.ts --help)\n");
  });

  test.skipIf(!hasIPv6Loopback)('--host ::1 binds a udp6 socket (needs IPv6 loopback)', async () => {
    const child = start(['--host', '::1']);
    expect(await firstLine(child)).toMatch(/^listening on \[::1\]:\d+$/);
    child.process.kill('SIGTERM');
    expect(await bounded(child.exited, 'the program to exit')).toBe(0);
  });

  test('udpTypeFor picks the socket family from the address', () => {
    expect(udpTypeFor('127.0.0.1')).toBe('udp4');
    expect(udpTypeFor('0.0.0.0')).toBe('udp4');
    expect(udpTypeFor('localhost')).toBe('udp4');
    expect(udpTypeFor('::1')).toBe('udp6');
    expect(udpTypeFor('::')).toBe('udp6');
  });
});
