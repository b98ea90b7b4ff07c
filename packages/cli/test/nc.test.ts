/** `course nc`, in-process with its stdin and stdout as streams, against real peers on loopback. */
import dgram from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { closeAfterTest, closedPort, connect, startServer, within } from '@course/helpers';
import { escapeBytes, unescapeBytes } from '@course/program';
import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
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
  test('sends stdin, half-closes at its end (like netcat -N) and prints the reply', async () => {
    const server = await upperServer();
    const s = streams('héllo 你好');
    expect(await run(['127.0.0.1', String(server.port)], s.io)).toBe(0);
    expect(s.stdout()).toBe('HÉLLO 你好');
  });

  test('--trickle sends one byte at a time', async () => {
    const server = await upperServer();
    const s = streams('abcd');
    // What nc hands its socket, write by write. What the server reads is no proof: on a busy
    // machine, two bytes sent 20 ms apart can wait in its buffer and come in one read.
    const sent: number[] = [];
    const write = net.Socket.prototype.write;
    const writes = vi.spyOn(net.Socket.prototype, 'write').mockImplementation(function (
      this: net.Socket,
      ...args: Parameters<net.Socket['write']>
    ) {
      if (this.remotePort === server.port) sent.push(Buffer.byteLength(args[0] as Buffer));
      return write.apply(this, args);
    });
    closeAfterTest(() => writes.mockRestore());
    const started = performance.now();
    expect(await run(['--trickle', '20', '127.0.0.1', String(server.port)], s.io)).toBe(0);
    const took = performance.now() - started;
    expect(s.stdout()).toBe('ABCD');
    expect(sent, 'the bytes of each write to the socket').toEqual([1, 1, 1, 1]);
    // Three waits of 20 ms between the four bytes (a timer never fires early; 5 ms for the clock's
    // rounding).
    expect(took, 'ms from start to end').toBeGreaterThanOrEqual(55);
  });

  test('--send sends its text, escapes turned into bytes, instead of stdin', async () => {
    const server = await upperServer();
    const s = streams('not this', true); // stdin stays open: --send must not wait for it
    expect(await run(['--send', 'h\\xc3\\xa9llo\\r\\n\\x27', '127.0.0.1', String(server.port)], s.io)).toBe(
      0,
    );
    expect(s.stdout()).toBe("HÉLLO\r\n'");
  });

  test('--file sends the file', async () => {
    const server = await upperServer();
    const file = join(tmpdir(), `nc-test-${process.pid}.txt`);
    writeFileSync(file, 'a'.repeat(100_000));
    closeAfterTest(() => rmSync(file, { force: true }));
    const s = streams();
    expect(await run(['--file', file, '127.0.0.1', String(server.port)], s.io)).toBe(0);
    expect(s.stdout()).toBe('A'.repeat(100_000));
  });

  test('--keep-open sends without half-closing, and ends when the peer closes', async () => {
    let ended = false;
    const port = await startServer((socket: net.Socket) => {
      socket.on('end', () => {
        ended = true;
      });
      socket.once('data', (chunk: Buffer) => socket.end(`got ${chunk}`));
    });
    const s = streams();
    expect(await run(['--keep-open', '--send', 'ping', '127.0.0.1', String(port)], s.io)).toBe(0);
    expect(s.stdout()).toBe('got ping');
    expect(ended, 'the server saw no FIN from nc before its own close').toBe(false);
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

  test('--send-empty sends one empty datagram, which no pipe into netcat can', async () => {
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
    [['--send', 'a\\q', '127.0.0.1', '9'], "--send: unknown escape '\\q' at character 2"],
    [['--send', 'a', '--file', 'b', '127.0.0.1', '9'], 'give one'],
    [['--file', '/no/such/file', '127.0.0.1', '9'], '--file /no/such/file: no such file or directory'],
  ])('%j is refused: %s', async (argv, words) => {
    await expect(nc(argv, streams().io)).rejects.toThrow(NcUsageError);
    await expect(nc(argv, streams().io)).rejects.toThrow(words);
  });

  test('escapeBytes writes one quote-free argument that unescapeBytes turns back into the bytes', () => {
    expect(escapeBytes(Buffer.from("it's\tdone\r\n\\ é"))).toBe('it\\x27s\\tdone\\r\\n\\\\ é');
    expect(escapeBytes(Buffer.from([0xff, 0x41, 0x00]))).toBe('\\xffA\\0');
    expect(escapeBytes(Buffer.from('\u202eevil\u0085'))).toBe('\\xe2\\x80\\xaeevil\\xc2\\x85');
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        // Any text: code points from the whole of Unicode but the surrogates.
        fc
          .array(fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })), {
            maxLength: 32,
          })
          .map((points) => String.fromCodePoint(...points)),
        (bytes, text) => {
          for (const b of [Buffer.from(bytes), Buffer.from(text)]) {
            const escaped = escapeBytes(b);
            expect(escaped).not.toMatch(/['\n\r]/);
            expect(unescapeBytes(escaped).equals(b)).toBe(true);
          }
        },
      ),
    );
  });

  test('hexLines is 16 bytes a line, with the offset', () => {
    expect(hexLines(Buffer.alloc(17, 0x41), 16)).toBe(
      `00000010  ${'41 '.repeat(15)}41  |${'A'.repeat(16)}|\n00000020  41${' '.repeat(45)}  |A|\n`,
    );
  });
});
