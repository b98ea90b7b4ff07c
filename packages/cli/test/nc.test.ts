/** `course nc`, in-process with its stdin and stdout as streams, against real peers on loopback. */
import dgram from 'node:dgram';
import type net from 'node:net';
import { PassThrough } from 'node:stream';
import { closeAfterTest, closedPort, connect, startServer, within } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { hexLines, NcUsageError, nc } from '../src/nc.ts';

/** stdin with `input` (ended unless `open`), and what nc writes to stdout and stderr. */
function streams(input?: string | Buffer, open = false) {
  const stdin = new PassThrough();
  if (input !== undefined) stdin.write(input);
  if (!open) stdin.end();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  return {
    io: { stdin, stdout, stderr },
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}

/** An upper-case server that records how many pieces the request arrived in. */
async function upperServer() {
  const pieces: Buffer[] = [];
  const port = await startServer((socket: net.Socket) => {
    socket.on('data', (chunk: Buffer) => pieces.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat(pieces).toString('utf8').toUpperCase()));
  });
  return { port, pieces };
}

const run = (argv: string[], io: ReturnType<typeof streams>['io']) =>
  within(nc(argv, io), () => ({ expected: `course nc ${argv.join(' ')} to end`, hint: 'it should end' }), {
    ms: 10_000,
  });

describe('course nc over TCP', () => {
  test('sends stdin, half-closes at its end (like nc -N) and prints the reply', async () => {
    const server = await upperServer();
    const s = streams('héllo 你好');
    expect(await run(['127.0.0.1', String(server.port)], s.io)).toBe(0);
    expect(s.stdout()).toBe('HÉLLO 你好');
  });

  test('--trickle sends one byte at a time', async () => {
    const server = await upperServer();
    const s = streams('abcd');
    expect(await run(['--trickle', '20', '127.0.0.1', String(server.port)], s.io)).toBe(0);
    expect(s.stdout()).toBe('ABCD');
    expect(server.pieces.map((p) => p.length)).toEqual([1, 1, 1, 1]);
  });

  test('--hex shows the bytes as hex and text', async () => {
    const server = await upperServer();
    const s = streams('héllo');
    expect(await run(['--hex', '127.0.0.1', String(server.port)], s.io)).toBe(0);
    expect(s.stdout()).toBe(`00000000  48 c3 89 4c 4c 4f${' '.repeat(32)}|H..LLO|\n`);
  });

  test('a refused connection exits 1 with one line', async () => {
    const s = streams('x');
    const port = await closedPort();
    expect(await run(['127.0.0.1', String(port)], s.io)).toBe(1);
    expect(s.stderr()).toBe(`nc: cannot connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)\n`);
  });

  test('-l accepts one connection and relays both ways', async () => {
    const s = streams('from nc\n');
    const done = run(['-l', '127.0.0.1', '0'], s.io);
    const port = await within(
      new Promise<number>((resolve) => {
        const check = () => {
          const match = /listening on 127\.0\.0\.1:(\d+)/.exec(s.stderr());
          if (match) resolve(Number(match[1]));
        };
        s.io.stderr.on('data', check);
        check();
      }),
      () => ({ expected: 'nc -l to say where it listens', hint: '' }),
    );
    const peer = await connect(port);
    await peer.end('from the peer\n');
    expect((await peer.closed()).toString()).toBe('from nc\n');
    expect(await done).toBe(0);
    expect(s.stdout()).toBe('from the peer\n');
  });
});

describe('course nc over UDP', () => {
  async function upperUdp(): Promise<{ port: number; sizes: number[] }> {
    const socket = dgram.createSocket('udp4');
    closeAfterTest(() => socket.close());
    const sizes: number[] = [];
    socket.on('message', (message, from) => {
      sizes.push(message.length);
      socket.send(message.toString('utf8').toUpperCase(), from.port, from.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return { port: socket.address().port, sizes };
  }

  test('sends stdin as a datagram and prints the reply', async () => {
    const server = await upperUdp();
    const s = streams('héllo');
    expect(await run(['-u', '-w', '0.3', '127.0.0.1', String(server.port)], s.io)).toBe(0);
    expect(s.stdout()).toBe('HÉLLO');
  });

  test('--send-empty sends one empty datagram, which printf | nc cannot', async () => {
    const server = await upperUdp();
    const s = streams();
    expect(await run(['-u', '--send-empty', '-w', '0.3', '127.0.0.1', String(server.port)], s.io)).toBe(0);
    expect(server.sizes).toEqual([0]);
  });

  test('a port where nothing listens ("port unreachable") exits 1', async () => {
    const s = streams('x');
    const port = await closedPort();
    expect(await run(['-u', '-w', '0.3', '127.0.0.1', String(port)], s.io)).toBe(1);
    expect(s.stderr()).toContain('ECONNREFUSED');
  });
});

describe('course nc usage', () => {
  test.each([
    [['127.0.0.1'], 'name the HOST and the PORT'],
    [['127.0.0.1', '70000'], 'PORT must be a number from 1 to 65535'],
    [['--send-empty', '127.0.0.1', '9'], '--send-empty is for UDP'],
    [['-u', '--trickle', '5', '127.0.0.1', '9'], '--trickle is for TCP'],
    [['--bogus', '127.0.0.1', '9'], "Unknown option '--bogus'"],
  ])('%j is refused: %s', async (argv, words) => {
    await expect(nc(argv, streams().io)).rejects.toThrow(NcUsageError);
    await expect(nc(argv, streams().io)).rejects.toThrow(words);
  });

  test('hexLines is 16 bytes a line, with the offset', () => {
    expect(hexLines(Buffer.alloc(17, 0x41), 16)).toBe(
      `00000010  ${'41 '.repeat(15)}41  |${'A'.repeat(16)}|\n00000020  41${' '.repeat(45)}  |A|\n`,
    );
  });
});
