import { EventEmitter } from 'node:events';
import net from 'node:net';
import { describe, expect, test } from 'vitest';
import {
  assertBytes,
  asText,
  closeAfterTest,
  closedPort,
  connect,
  exchange,
  halfClose,
  hasCommand,
  lessonOf,
  listen,
  ncLine,
  reproSetup,
  resetAfter,
  runCommand,
  runCourseLine,
  slowReader,
  startCommand,
  startProxy,
  startServer,
  trickle,
  vanish,
  WireError,
  within,
} from '../src/index.ts';

/** An in-process server that records what each connection received and how it ended. */
async function recordingServer(reply?: (request: Buffer) => string | Buffer, greeting?: string) {
  const connections: { chunks: Buffer[]; ending?: string }[] = [];
  const ended = new EventEmitter();
  const port = await startServer((socket) => {
    const entry: (typeof connections)[number] = { chunks: [] };
    connections.push(entry);
    if (greeting) socket.write(greeting);
    socket.on('data', (chunk) => entry.chunks.push(chunk));
    socket.on('end', () => {
      entry.ending ??= 'end';
      if (reply) socket.end(reply(Buffer.concat(entry.chunks)));
      else socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      entry.ending ??= error.code;
    });
    socket.on('close', () => ended.emit('close'));
  });
  /** Waits until `n` connections have closed; returns how each ended. */
  const endings = (n: number) =>
    within(
      new Promise<(string | undefined)[]>((resolve) => {
        const check = () => {
          if (connections.filter((c) => c.ending).length >= n) {
            ended.off('close', check);
            resolve(connections.map((c) => c.ending));
          }
        };
        ended.on('close', check);
        check();
      }),
      () => ({ expected: `${n} connection(s) to end at the server` }),
    );
  return { port, connections, endings };
}

const upper = (request: Buffer) => request.toString('utf8').toUpperCase();

describe('servers, peers and bounded waits', () => {
  test('exchange sends, half-closes and collects the reply until close', async () => {
    const { port } = await recordingServer(upper);
    expect((await exchange(port, 'héllo 你好')).toString()).toBe('HÉLLO 你好');
  });

  test('lines() waits for complete lines only', async () => {
    const port = await startServer((socket) => {
      socket.write('one\r\ntw');
      socket.on('data', () => socket.write('o\nthree'));
    });
    const peer = await connect(port);
    await peer.write('go');
    expect(await peer.lines(2)).toEqual(['one', 'two']);
  });

  test('a wait that ends explains what was expected, what arrived, a hint and an nc line', async () => {
    const port = await startServer((socket) => socket.write('HEL')); // never closes
    const peer = await connect(port);
    await peer.write('hello');
    const error = await peer.closed({ ms: 100, hint: 'did you call socket.end()?' }).catch((e) => e);
    expect(error).toBeInstanceOf(WireError);
    expect(error.message).toContain('expected: the other side to close the connection');
    expect(error.message).toContain('text: "HEL"');
    expect(error.message).toContain('hex:  48 45 4c  (3 bytes)');
    expect(error.message).toContain('hint: did you call socket.end()?');
    // Outside a lesson with a server program, the replay goes to the test's own port.
    expect(error.message).toContain(`npx course nc --send 'hello' 127.0.0.1 ${port}`);
  });

  test('a connection that ends early fails the wait at once, saying so', async () => {
    const port = await startServer((socket) => socket.end('bye\n'));
    const peer = await connect(port);
    const started = performance.now();
    const error = await peer.lines(2, { ms: 2_000 }).catch((e) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.message).toContain('the connection ended (the other side sent FIN) before that arrived');
    expect(error.message).toContain('2 complete line(s)');
  });

  test('assertBytes shows both sides as text and hex', () => {
    const error = (() => {
      try {
        assertBytes(Buffer.from('HELLO\r\n'), 'HELLO\n', { what: 'the reply', hint: 'no \\r' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toContain('the reply is not what was expected');
    expect(error?.message).toContain('hex:  48 45 4c 4c 4f 0a  (6 bytes)');
    expect(error?.message).toContain('hex:  48 45 4c 4c 4f 0d 0a  (7 bytes)');
  });

  test("assertBytes fails with the starter's own TODO line when that is what arrived", () => {
    const error = (() => {
      try {
        assertBytes(Buffer.from('TODO(1): say hello — see README step 1\nmore\n'), 'hello\n', {
          what: 'the greeting',
        });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toBe('TODO(1): say hello — see README step 1');
  });

  test('within() clears its timer when the promise wins', async () => {
    expect(await within(Promise.resolve(7), () => ({ expected: 'seven' }), { ms: 50 })).toBe(7);
  });

  test('closedPort() refuses connections', async () => {
    const port = await closedPort();
    const error = await connect(port).catch((e) => e);
    expect(error.code).toBe('ECONNREFUSED');
  });
});

describe('cleanup when a test ends', () => {
  let server: net.Server | undefined;
  let peer: Awaited<ReturnType<typeof connect>> | undefined;

  test('opens a server and a connection and leaves them open', async () => {
    server = net.createServer((socket) => socket.on('error', () => {}));
    const port = await listen(server);
    peer = await connect(port);
    expect(server.listening).toBe(true);
  });

  test('finds both closed', () => {
    expect(server?.listening).toBe(false);
    expect(peer?.socket.destroyed).toBe(true);
  });
});

describe('the chunking proxy', () => {
  test('bytes: the server reads the request one byte at a time, in order', async () => {
    const { port, connections } = await recordingServer(upper);
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    expect((await exchange(proxy.port, 'hello')).toString()).toBe('HELLO');
    expect(connections[0]?.chunks.map(String)).toEqual(['h', 'e', 'l', 'l', 'o']);
  });

  test('bytes: the client reads the reply one byte at a time, multi-byte characters split', async () => {
    const { port } = await recordingServer(() => 'é!');
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'reply' });
    const peer = await halfClose(proxy.port, 'x');
    await peer.closed();
    expect(peer.chunks.map((c) => c.toString('hex'))).toEqual(['c3', 'a9', '21']);
  });

  test('random: pieces of at most maxPiece bytes, the same cuts for the same seed', async () => {
    const { port, connections } = await recordingServer(upper);
    const text = 'the quick brown fox jumps over the lazy dog';
    const cutsOf = async (seed: number) => {
      const proxy = await startProxy(port, { cut: { seed, maxPiece: 5 }, direction: 'request' });
      await exchange(proxy.port, text);
      return proxy.events.filter((e) => e.from === 'client' && e.kind === 'data').map((e) => e.bytes.length);
    };
    const first = await cutsOf(42);
    expect(first.every((n) => n >= 1 && n <= 5)).toBe(true);
    expect(first.reduce((a, b) => a + b)).toBe(text.length);
    expect(await cutsOf(42)).toEqual(first);
    expect(Buffer.concat(connections[0]?.chunks ?? []).toString()).toBe(text);
  });

  test('random without a seed takes COURSE_SEED, to replay a failure', async () => {
    const { port } = await recordingServer(upper);
    const saved = process.env.COURSE_SEED;
    process.env.COURSE_SEED = '1234';
    closeAfterTest(() => {
      process.env.COURSE_SEED = saved;
    });
    expect((await startProxy(port, { cut: {} })).seed).toBe(1234);
  });

  test('coalesce: three writes reach the server as one read, at the FIN', async () => {
    const { port, connections } = await recordingServer(upper);
    const proxy = await startProxy(port, { cut: 'coalesce', direction: 'request' });
    const peer = await connect(proxy.port);
    for (const line of ['hello\n', 'byebye\n', 'again,bye\n']) await peer.write(line);
    await peer.end();
    expect((await peer.closed()).toString()).toBe('HELLO\nBYEBYE\nAGAIN,BYE\n');
    expect(connections[0]?.chunks.map(String)).toEqual(['hello\nbyebye\nagain,bye\n']);
    expect(proxy.events.map((e) => `${e.from}:${e.kind}`)).toContain('client:fin');
  });

  test('a reset on one side is passed on as a reset', async () => {
    const { port, endings } = await recordingServer(undefined, 'hi');
    const proxy = await startProxy(port, { cut: 'bytes' });
    await resetAfter(proxy.port, '', { afterBytes: 2 });
    expect(await endings(1)).toEqual(['ECONNRESET']);
  });
});

describe('adversarial clients', () => {
  test('vanish: the server sees an end', async () => {
    const { port, endings } = await recordingServer();
    await vanish(port);
    expect(await endings(1)).toEqual(['end']);
  });

  test('resetAfter: the server sees ECONNRESET, or an end when the reset follows unread data', async () => {
    const { port, endings } = await recordingServer(undefined, 'hi');
    await resetAfter(port);
    expect(await endings(1)).toEqual(['ECONNRESET']);
    await resetAfter(port, 'half a requ', { afterBytes: 2 });
    expect(['ECONNRESET', 'end']).toContain((await endings(2))[1]);
  });

  test('slowReader: the server write() returns false once the buffers are full', async () => {
    let sawBackpressure: (value: number) => void = () => {};
    const backpressure = new Promise<number>((resolve) => {
      sawBackpressure = resolve;
    });
    const port = await startServer((socket) => {
      const block = Buffer.alloc(64 * 1024);
      let written = 0;
      const pump = () => {
        while (written < 256 * 1024 * 1024) {
          written += block.length;
          if (!socket.write(block)) return sawBackpressure(written);
        }
      };
      pump();
    });
    await slowReader(port);
    const written = await within(backpressure, () => ({ expected: 'write() to return false' }));
    expect(written).toBeLessThan(256 * 1024 * 1024);
  });

  test('trickle: bytes arrive one at a time, the trickle stops when the server closes', async () => {
    const arrivals: Buffer[] = [];
    let gotThree: () => void = () => {};
    const three = new Promise<void>((resolve) => {
      gotThree = resolve;
    });
    const port = await startServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        arrivals.push(chunk);
        if (arrivals.length === 3) {
          gotThree();
          socket.destroy();
        }
      });
    });
    const peer = await trickle(port, 'abcdefgh', 5);
    await within(three, () => ({ expected: 'three separate one-byte chunks' }));
    await peer.closed({ allowReset: true });
    expect(Buffer.concat(arrivals).toString()).toBe('abc');
    expect(arrivals.every((chunk) => chunk.length === 1)).toBe(true);
  });
});

describe('lines for learners', () => {
  test('the labels of an explanation follow COURSE_LANG; the bytes and the line stay as they are', () => {
    const explain = () =>
      new WireError('no reply', {
        expected: 'HELLO',
        received: Buffer.from('he'),
        hint: 'write the reply',
        repro: "npx course nc --send 'hi' 127.0.0.1 9000",
      }).message;
    const before = process.env.COURSE_LANG;
    try {
      process.env.COURSE_LANG = 'zh-CN';
      const zh = explain();
      for (const label of [
        '期望: HELLO',
        '实际收到:',
        '文本:',
        '十六进制: 68 65  (2 字节)',
        '提示: write the reply',
      ])
        expect(zh).toContain(label);
      expect(zh).toContain("自己试一试:\n    npx course nc --send 'hi' 127.0.0.1 9000");
      // The harness's own sentences come from packages/helpers/test.zh-CN.json, holes filled in.
      const waited = new WireError('gave up after waiting 1500 ms', {
        expected: 'a reply, then the server closing the connection',
      }).message;
      expect(waited).toContain('等了 1500 ms 后放弃');
      expect(waited).toContain('期望: 一个回复，然后服务端关闭连接');
      process.env.COURSE_LANG = 'en';
      expect(explain()).toContain(
        '  expected: HELLO\n  received:\n    text: "he"\n    hex:  68 65  (2 bytes)',
      );
    } finally {
      if (before === undefined) delete process.env.COURSE_LANG;
      else process.env.COURSE_LANG = before;
    }
  });

  test('asText cuts a long text between characters, never inside one', () => {
    const text = asText(Buffer.from(`${'a'.repeat(95)}你好`));
    expect(text).toBe(`"${'a'.repeat(95)}" … (6 more bytes)`);
    expect(asText(Buffer.from('héllo'))).toBe('"héllo"');
  });

  test('ncLine is a course nc line, the same in bash, zsh and PowerShell', () => {
    expect(ncLine('hi', 9000)).toBe("npx course nc --send 'hi' 127.0.0.1 9000");
    expect(ncLine("it's\r\n", 9000, { trickleMs: 20, halfClose: false })).toBe(
      "npx course nc --trickle 20 --keep-open --send 'it\\x27s\\r\\n' 127.0.0.1 9000",
    );
  });

  const payloads: [string, Buffer][] = [
    ['a short line', Buffer.from('hello\n')],
    ['quotes, percent, dollar and backslash', Buffer.from(`it's 100% $HOME \\o/ "x"`)],
    ['control and invalid bytes', Buffer.from([0, 1, 0xff, 0x41, 0x0d, 0x0a])],
    ['512 KiB of one letter', Buffer.from(`${'a'.repeat(512 * 1024)}\n`)],
    [
      'repeated UTF-8 lines with quotes and invisible characters',
      Buffer.from(`${'héllo 你好 "$`!\\\'\u0080\r\n'.repeat(3000)}`),
    ],
    ['random bytes', Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919 + (i >> 3)) % 256))],
  ];

  test('ncLine replays the exchange as printed, in a line of at most 300 characters', async () => {
    // All at once: each line starts a node of its own.
    await Promise.all(
      payloads.map(async ([what, bytes]) => {
        const server = await recordingServer(upper);
        const line = ncLine(bytes, server.port);
        expect(line.length, what).toBeLessThanOrEqual(300);
        const out = await runCourseLine(line);
        await server.endings(1);
        expect(Buffer.concat(server.connections[0]?.chunks ?? []).equals(bytes), `${what}: ${line}`).toBe(
          true,
        );
        expect(out.toString(), what).toBe(upper(bytes));
      }),
    );
    const server = await recordingServer(upper);
    const line = ncLine('héllo\n', server.port, { trickleMs: 5 });
    expect((await runCourseLine(line)).toString()).toBe('HÉLLO\n');
    const chunks = server.connections[0]?.chunks ?? [];
    expect(chunks.length, 'a trickle arrives in many pieces').toBeGreaterThan(3);
  });

  // portable: skipped where there is no sh
  test.skipIf(!hasCommand('sh'))(
    'a line pasted into a shell works as printed (needs sh)',
    async () => {
      const server = await recordingServer(upper);
      const line = ncLine("it's 100% $HOME", server.port);
      const out = await runCommand('sh', ['-c', line], 60_000); // portable: skipped without sh
      expect(out.toString()).toBe("IT'S 100% $HOME");
    },
    90_000,
  );

  test("reproSetup carries the test's trickle and note into every repro line", async () => {
    const server = await recordingServer(upper);
    reproSetup({ trickleMs: 20, note: 'this test cuts the bytes one at a time' });
    const peer = await connect(server.port);
    await peer.end('hi');
    expect(peer.repro).toMatch(
      /^npx course nc --trickle 20 --send 'hi' 127\.0\.0\.1 \d+\n# note: this test cuts/,
    );
    const slow = await trickle(server.port, 'abc', 5);
    expect(slow.repro).toContain('--trickle 5');
  });
});

describe('lesson programs as child processes', () => {
  const lesson = lessonOf(new URL('./fixture-lesson/lesson.json', import.meta.url).href);

  test('startServer waits for `listening on` and learns the port; SIGINT exits 0', async () => {
    const server = await lesson.startServer('server');
    expect(server.port).toBeGreaterThan(0);
    expect((await exchange(server.port, 'echo')).toString()).toBe('echo');
    const result = await server.stop('SIGINT');
    expect(result.code).toBe(0);
  });

  test('a program that dies at start fails the wait at once with its exit code and stderr', async () => {
    const error = await lesson.startServer('server', ['--crash']).catch((e) => e);
    expect(error.message).toContain('the program exited (exit code 3) first');
    expect(error.message).toContain('boom: this program fails on purpose');
    expect(error.message).toMatch(/npx tsx \S+server\.ts --crash --port 9000/);
  });

  test("a program stopped by a starter's TODO(n) is sent to step n, not given the test's own hint", async () => {
    const program = startCommand(process.execPath, [
      '-e',
      "console.error('TODO(3): frame the reply — see README step 3'); process.exit(1)",
    ]);
    const error = await program.listening().catch((e) => e);
    expect(error.message).toContain('the program stopped at TODO(3) in your code: finish step 3 first');
    expect(error.message).not.toContain('print it with console.log');
  });

  test('kill() returns when the program has exited but its output is still open', async () => {
    // It exits at once; the child it leaves holds its stdout open, so 'close' waits for the kill.
    const program = startCommand(process.execPath, [
      '-e',
      "require('node:child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'inherit' }); setTimeout(() => process.exit(0), 100)",
    ]);
    await new Promise((resolve) => program.process.once('exit', resolve));
    expect(program.exited, 'no close yet: the child holds the pipe').toBe(false);
    await within(program.kill(), () => ({ expected: 'kill() to return', received: 'still waiting' }));
    expect(program.exited).toBe(true);
  });

  test('a first line other than `listening on` is reported', async () => {
    const error = await lesson.startServer('server', ['--chatty']).catch((e) => e);
    expect(error.message).toContain('the first line was "hello there"');
  });

  test('run() returns the exit code and output; usage errors exit 2 with one line', async () => {
    const result = await lesson.run('server', ['--port', 'banana']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "server.ts: --port must be a whole number from 0 to 65535, not 'banana' (see server.ts --help)\n",
    );
    const help = await lesson.run('server', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: server.ts [options]');
  });
});
