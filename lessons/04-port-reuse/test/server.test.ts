import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertBytes,
  closeAfterTest,
  connect,
  exchange,
  hasCommand,
  LogLines,
  lessonOf,
  listen,
  reproSetup,
  resetAfter,
  runCommand,
  vanish,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import {
  createHelloServer,
  listenOnce,
  listenWithRetries,
  PortInUseError,
  type RetryOptions,
  restart,
} from '#impl/server.ts';
import { closeServerAfterTest, type Settled, settle, timeWaitSockets, watchAttempts } from './helpers.ts';

const HOST = '127.0.0.1';
const NO_LISTENERS = { error: 0, listening: 0 };
const LEAK_HINT =
  "remove both of your listeners (server.off) whichever event comes: a leftover 'listening' listener fires when a later attempt succeeds, a leftover 'error' listener swallows every later error";

/** The expected line for `port`. */
const hello = (port: number) => `hello from port ${port}\n`;
const inUse = (port: number) => `port ${port} on ${HOST} is already in use (EADDRINUSE)`;

/** The learner's hello server on a free port, closed after the test, with its log lines. */
async function startHello(options: { lingerMs?: number } = {}) {
  const log = new LogLines();
  const server = createHelloServer({ log: log.add, ...options });
  const port = await listen(server);
  return { server, port, log };
}

/** A port that some other server holds for the whole test. */
async function busyPort(): Promise<{ port: number; blocker: net.Server }> {
  const blocker = net.createServer((socket) => socket.destroy());
  return { port: await listen(blocker), blocker };
}

/** A new hello server, watched (see watchAttempts) and closed after the test. */
function watchedServer(options: { slowMs?: number } = {}) {
  const server = createHelloServer();
  closeServerAfterTest(server);
  return { server, attempts: watchAttempts(server, options) };
}

/** What a promise resolved with; a rejection fails the test with that very error (a TODO's, say). */
function resolvedValue<T>(result: Settled<T>): T {
  if (result.ok) return result.value;
  throw result.error;
}

/** What a promise rejected with; resolving, or a TODO's error, fails the test at once. */
function rejectionOf<T>(result: Settled<T>, what: string): unknown {
  if (result.ok)
    throw new Error(`${what} should reject, but it resolved with ${JSON.stringify(result.value)}`);
  if (result.error instanceof Error && /^TODO\(\d+\)/.test(result.error.message)) throw result.error;
  return result.error;
}

/** Connects, checks the one hello line and that the server closed first, returns the client's port. */
async function expectHello(port: number, hint?: string): Promise<number> {
  const peer = await connect(port);
  const clientPort = peer.socket.localPort as number;
  const received = await peer.closed({
    expected: `the line ${JSON.stringify(hello(port))}, then the server closing the connection`,
    hint: hint ?? 'socket.end(line) writes the line (hello from port P, then \\n) and then closes',
  });
  assertBytes(received, hello(port), { what: 'the greeting', hint });
  expect(peer.ending, 'the server should close first (its FIN), right after the line').toBe('fin');
  return clientPort;
}

describe('step 1: say hello and close first', () => {
  test('every connection gets `hello from port P`, then the server closes it, and logs both', async () => {
    const { port, log } = await startHello();
    const clientPort = await expectHello(port);
    expect(await log.line(/^client connected from /, 'a log line `client connected from IP:PORT`')).toBe(
      `client connected from ${HOST}:${clientPort}`,
    );
    expect(await log.line(/^client \S+ closed$/, 'a log line `client IP:PORT closed`')).toBe(
      `client ${HOST}:${clientPort} closed`,
    );
  });

  test('a client that talks, vanishes or resets does not stop the server, and its error is logged', async () => {
    const { port, log } = await startHello();
    assertBytes(await exchange(port, 'hi there'), hello(port), {
      what: 'the reply to a client that sent something',
      hint: 'read what the client sends (socket.resume()), so that its FIN is seen and the socket closes',
    });
    await vanish(port);
    await resetAfter(port);
    await resetAfter(port, 'something', { afterBytes: 1 });
    await expectHello(port, 'listen for "error" on every socket: a reset must not crash the server');
    await log.line(
      /^client 127\.0\.0\.1:\d+ failed: .+ \([A-Z]+\)$/,
      'a log line `client 127.0.0.1:PORT failed: connection reset by peer (ECONNRESET)` for a reset ' +
        'client (listen for "error" and log describeError(error))',
    );
  });

  test('a client that sends something and half-closes is read to its end: the server closes at once, not after lingerMs', async () => {
    const { port, log } = await startHello({ lingerMs: 60_000 });
    await expectHello(port); // first the hello (test 1): a server without it fails here, at once
    reproSetup({
      note: 'nc prints the line and returns; the server should log `client ... closed` at once, not 5 s later',
    });
    const peer = await connect(port);
    const clientPort = peer.socket.localPort;
    await peer.end('some bytes the server has no use for');
    await peer.closed({ expected: 'the line, then the server closing the connection' });
    await log.line(
      new RegExp(`^client ${HOST}:${clientPort} closed$`),
      `a log line \`client ${HOST}:${clientPort} closed\`, as soon as the client has half-closed`,
      {
        ms: 3_000,
        hint:
          "read what the client sends (socket.resume()): until its bytes are read, Node does not see the client's " +
          'FIN, and the connection stays open until lingerMs (here 60 s) cuts it off',
        repro: peer.repro,
      },
    );
  });

  test('a client that keeps its side open is cut off after lingerMs', async () => {
    const { port, log } = await startHello({ lingerMs: 200 });
    await expectHello(port); // first the hello (test 1): a server without it fails here, at once
    // This client reads the line and the server's FIN, but never closes its own side.
    const lingering = net.connect({ host: HOST, port, allowHalfOpen: true });
    closeAfterTest(() => lingering.destroy());
    lingering.on('error', () => {});
    lingering.resume();
    await within(new Promise((resolve) => lingering.once('connect', resolve)), () => ({
      expected: `a connection to ${HOST}:${port}`,
    }));
    const clientPort = lingering.localPort;
    await log.line(
      new RegExp(`^client ${HOST}:${clientPort} closed$`),
      `a log line \`client ${HOST}:${clientPort} closed\`: lingerMs is 200 ms`,
      {
        ms: 3_000,
        hint:
          'a client that never closes its side would keep the connection for ever: ' +
          'destroy the socket lingerMs after the hello (a setTimeout, cleared on close)',
      },
    );
  });

  test('a client that keeps sending, and never closes, is cut off after lingerMs all the same', async () => {
    // 1 s, 50 times the drip below: an idle timer fires only in a gap that long, and a test
    // process starved for a third of a second on a busy machine must not look like one.
    const { port, log } = await startHello({ lingerMs: 1_000 });
    await expectHello(port); // first the hello (test 1): a server without it fails here, at once
    // It reads the line and the server's FIN, keeps its own side open, and sends a byte every
    // 20 ms for as long as it can: an idle timer (socket.setTimeout) would never fire.
    const chatty = net.connect({ host: HOST, port, allowHalfOpen: true });
    closeAfterTest(() => chatty.destroy());
    chatty.on('error', () => {});
    chatty.resume();
    await within(new Promise((resolve) => chatty.once('connect', resolve)), () => ({
      expected: `a connection to ${HOST}:${port}`,
    }));
    const drip = setInterval(() => chatty.writable && chatty.write('x'), 20);
    chatty.once('close', () => clearInterval(drip));
    closeAfterTest(() => clearInterval(drip));
    const clientPort = chatty.localPort;
    await log.line(
      new RegExp(`^client ${HOST}:${clientPort} closed$`),
      `a log line \`client ${HOST}:${clientPort} closed\` about 1 s after the hello, though the client keeps sending`,
      {
        ms: 5_000,
        hint:
          'socket.setTimeout() is an idle timer: every byte the client sends restarts it. ' +
          'Linger with a deadline: setTimeout(() => socket.destroy(), lingerMs), cleared on close',
      },
    );
  });
});

describe('step 2: one clear error for a busy port', () => {
  test('listenOnce() resolves with the real address and leaves no listener behind', async () => {
    const { server, attempts } = watchedServer();
    const address = resolvedValue(
      await settle(listenOnce(server, { host: HOST, port: 0 }), 'listenOnce() to resolve'),
    );
    expect(address.address, 'resolve with server.address()').toBe(HOST);
    expect(address.port, 'resolve with server.address(): it holds the real port').toBeGreaterThan(0);
    expect(attempts.listeners(), LEAK_HINT).toEqual(NO_LISTENERS);
    await expectHello(address.port);
  });

  test('a busy port rejects with a PortInUseError: `port P on 127.0.0.1 is already in use (EADDRINUSE)`', async () => {
    const { port } = await busyPort();
    const { server, attempts } = watchedServer();
    const result = await settle(listenOnce(server, { host: HOST, port }), 'listenOnce() to reject', {
      hint: "server.listen() does not throw when the port is taken: the server emits 'error'. Listen for it and reject",
    });
    const error = rejectionOf(result, 'listenOnce() on a busy port') as PortInUseError;
    expect(error, 'reject with new PortInUseError(host, port, error)').toBeInstanceOf(PortInUseError);
    expect(error.message, 'the one clear line').toBe(inUse(port));
    expect(error.code, "a PortInUseError's code").toBe('EADDRINUSE');
    expect(error.name, 'its name, shown by String(error) and in stack traces').toBe('PortInUseError');
    expect(
      [error.host, error.port],
      'new PortInUseError(host, port, error): the host and port tried',
    ).toEqual([HOST, port]);
    const cause = error.cause as NodeJS.ErrnoException & { address?: string; port?: number };
    expect(cause, "pass Node's own error as the cause").toBeInstanceOf(Error);
    expect(
      [cause.code, cause.syscall, cause.address, cause.port],
      "the cause is Node's own error, as the server emitted it",
    ).toEqual(['EADDRINUSE', 'listen', HOST, port]);
    expect(attempts.listeners(), LEAK_HINT).toEqual(NO_LISTENERS);
    expect(server.listening, 'a failed attempt leaves the server not listening').toBe(false);
  });

  test("another failure (a bad port) rejects with Node's own error, and leaves no listener behind", async () => {
    const { server, attempts } = watchedServer();
    const result = await settle(listenOnce(server, { host: HOST, port: 70_000 }), 'listenOnce() to reject', {
      hint: 'server.listen() throws at once on bad arguments: catch it, remove your listeners, reject',
    });
    const error = rejectionOf(result, 'listenOnce() on port 70000') as NodeJS.ErrnoException;
    expect(error, 'only EADDRINUSE becomes a PortInUseError').not.toBeInstanceOf(PortInUseError);
    expect(error.code, "reject with Node's own error, as it is").toBe('ERR_SOCKET_BAD_PORT');
    expect(attempts.listeners(), LEAK_HINT).toEqual(NO_LISTENERS);
  });

  test("an address not on this machine (its 'error' is EADDRNOTAVAIL) rejects with Node's own error, not a PortInUseError", async () => {
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no machine: bind() fails at once, no packet is sent.
    const { server, attempts } = watchedServer();
    const result = await settle(
      listenOnce(server, { host: '192.0.2.1', port: 0 }),
      'listenOnce() to reject',
      {
        hint: "the server emits 'error' for this one, as for a busy port: reject with it",
      },
    );
    const error = rejectionOf(result, 'listenOnce() on 192.0.2.1') as NodeJS.ErrnoException;
    expect(error, 'only EADDRINUSE becomes a PortInUseError').not.toBeInstanceOf(PortInUseError);
    expect([error.code, error.syscall], "reject with Node's own error, as it is").toEqual([
      'EADDRNOTAVAIL',
      'listen',
    ]);
    expect(attempts.listeners(), LEAK_HINT).toEqual(NO_LISTENERS);
  });
});

describe('step 3: retry while the port is busy', () => {
  test('waits for a busy port to free up, telling onRetry of each failed attempt, then listens', async () => {
    const { port, blocker } = await busyPort();
    const { server, attempts } = watchedServer();
    const told: [string, number, number][] = [];
    const onRetry: RetryOptions['onRetry'] = (error, attempt, delayMs) => {
      told.push([error.message, attempt, delayMs]);
      if (attempt === 2) blocker.close(); // the port frees up during the second pause
    };
    const result = await settle(
      listenWithRetries(server, { host: HOST, port }, { retries: 20, retryDelayMs: 10, onRetry }),
      'listenWithRetries() to listen once the port is free',
    );
    expect(resolvedValue(result).port, 'listen on the port asked for, once it is free').toBe(port);
    expect(told, 'onRetry(error, attempt, delayMs) after each failed attempt').toEqual([
      [inUse(port), 1, 10],
      [inUse(port), 2, 10],
    ]);
    expect(attempts.calls, 'three attempts: busy, busy, free').toBe(3);
    expect(attempts.listeners(), LEAK_HINT).toEqual(NO_LISTENERS);
    await expectHello(port);
  });

  test('gives up after 1 + retries attempts with the PortInUseError; by default it tries once', async () => {
    const { port } = await busyPort();
    const twice = watchedServer();
    const once = watchedServer();
    let told = 0;
    const [retried, single] = await Promise.all([
      settle(
        listenWithRetries(
          twice.server,
          { host: HOST, port },
          { retries: 2, retryDelayMs: 5, onRetry: () => told++ },
        ),
        'listenWithRetries() to give up',
      ),
      settle(listenWithRetries(once.server, { host: HOST, port }), 'listenWithRetries() to give up at once'),
    ]);
    for (const result of [retried, single]) {
      const error = rejectionOf(result, 'listenWithRetries() on a port that stays busy') as Error;
      expect(error, 'once the retries are used up, throw the last PortInUseError').toBeInstanceOf(
        PortInUseError,
      );
      expect(error.message, 'the one clear line').toBe(inUse(port));
    }
    expect([twice.attempts.calls, told], 'retries: 2 means three attempts and two retries').toEqual([3, 2]);
    expect(once.attempts.calls, 'no retries by default: one attempt').toBe(1);
    expect(twice.attempts.listeners(), LEAK_HINT).toEqual(NO_LISTENERS);
  });

  test('waits retryDelayMs after each failed attempt before trying again', async () => {
    const { port } = await busyPort();
    const { server, attempts } = watchedServer();
    const result = await settle(
      listenWithRetries(server, { host: HOST, port }, { retries: 2, retryDelayMs: 100 }),
      'listenWithRetries() to give up after three attempts',
      { ms: 3_000 },
    );
    expect(rejectionOf(result, 'listenWithRetries() on a port that stays busy')).toBeInstanceOf(
      PortInUseError,
    );
    expect(attempts.calls, 'retries: 2 means three attempts').toBe(3);
    const gaps = attempts.times.slice(1).map((time, i) => Math.round(time - (attempts.times[i] as number)));
    // A timer never fires early (but for rounding to the millisecond); a busy machine only makes gaps longer.
    expect(
      gaps.filter((gap) => gap < 99),
      `the listen() calls came ${gaps.join(' ms and ')} ms apart: after a failed attempt, ` +
        'await sleep(retryDelayMs) (from node:timers/promises) before the next one. Without the pause, ' +
        'every retry is used up in a few milliseconds, long before the port can free up',
    ).toEqual([]);
  });

  test('waits for each attempt to fail before listening again, even when attempts are slow', async () => {
    const { port } = await busyPort();
    // Each attempt takes 15 ms to fail, as when a host name must be looked up; no pause between.
    const { server, attempts } = watchedServer({ slowMs: 15 });
    const result = await settle(
      listenWithRetries(server, { host: HOST, port }, { retries: 3, retryDelayMs: 0 }),
      'listenWithRetries() to give up',
    );
    expect(
      attempts.overlaps.join('\n'),
      "wait for the attempt's own 'error' (or 'listening'), not for a timer, before calling listen() again",
    ).toBe('');
    expect(rejectionOf(result, 'listenWithRetries() on a port that stays busy')).toBeInstanceOf(
      PortInUseError,
    );
    expect(attempts.calls, 'retries: 3 means four attempts').toBe(4);
  });

  test('a free port is taken at once, however long the retry delay', async () => {
    const { server } = watchedServer();
    const result = await settle(
      listenWithRetries(server, { host: HOST, port: 0 }, { retries: 3, retryDelayMs: 2_000 }),
      'listenWithRetries() to resolve as soon as the server listens',
      { ms: 300, hint: "the delay is for after a failure: resolve on the attempt's 'listening' event" },
    );
    expect(resolvedValue(result).port, 'resolve with server.address()').toBeGreaterThan(0);
  });

  test('an error other than EADDRINUSE is not retried', async () => {
    const { server, attempts } = watchedServer();
    const result = await settle(
      listenWithRetries(server, { host: HOST, port: 70_000 }, { retries: 3, retryDelayMs: 2_000 }),
      'listenWithRetries() to reject at once',
      { ms: 300, hint: 'only a PortInUseError is worth another try: throw anything else at once' },
    );
    const error = rejectionOf(result, 'listenWithRetries() on port 70000') as NodeJS.ErrnoException;
    expect(error.code, 'reject with the error of the attempt, as it is').toBe('ERR_SOCKET_BAD_PORT');
    expect(attempts.calls, 'one attempt only: retrying cannot fix a bad port').toBe(1);
  });
});

describe('step 4: restart on the same port, TIME_WAIT and all', () => {
  test('restart() listens again on the same port at once while the old connections are in TIME_WAIT, and the new server accepts', async () => {
    const { server: old, port, log: oldLog } = await startHello();
    // Five connections, each closed by the server first: the server's side of each is now in TIME_WAIT.
    const clientPorts = await Promise.all(Array.from({ length: 5 }, () => expectHello(port)));
    for (const clientPort of clientPorts) {
      await oldLog.line(new RegExp(`^client ${HOST}:${clientPort} closed$`), `client ${clientPort} closed`);
    }
    const waiting = await timeWaitSockets(port); // undefined where `ss` is missing
    if (waiting) expect(waiting.length, `ss shows TIME-WAIT on port ${port}`).toBeGreaterThanOrEqual(5);

    const nextLog = new LogLines();
    const next = createHelloServer({ log: nextLog.add });
    closeServerAfterTest(next);
    const result = await settle(restart(old, next), 'restart() to resolve', {
      hint: "do not wait for the old server's 'close' event: it waits for every connection",
    });
    expect(
      resolvedValue(result),
      "resolve with the new server's address: the old host and port",
    ).toMatchObject({
      address: HOST,
      port,
    });
    expect([old.listening, next.listening], 'old stopped, next listening').toEqual([false, true]);

    const clientPort = await expectHello(port);
    await nextLog.line(/^client connected from /, 'the NEW server to log the connection');
    expect(nextLog.lines[0], 'the new server is the one that answers').toBe(
      `client connected from ${HOST}:${clientPort}`,
    );
  });

  test('a connection still open on the old server does not hold up the restart', async () => {
    const { server: old, port } = await startHello();
    // This client reads the line and the server's FIN, but keeps its own side open.
    const lingering = net.connect({ host: HOST, port, allowHalfOpen: true });
    closeAfterTest(() => lingering.destroy());
    lingering.on('error', () => {});
    lingering.resume();
    await within(new Promise((resolve) => lingering.once('end', resolve)), () => ({
      expected: 'the old server to send its line and close its side',
    }));
    const next = createHelloServer();
    closeServerAfterTest(next);
    const result = await settle(restart(old, next), 'restart() to resolve at once', {
      ms: 300,
      hint: "close() releases the port at once; its 'close' event waits for open connections: do not await it",
    });
    expect(resolvedValue(result).port, 'the new server listens on the old one’s port').toBe(port);
    await expectHello(port);
  });

  test('restart() of a server that is not listening on a TCP port rejects with a clear error, and touches neither server', async () => {
    const stopped = createHelloServer();
    const onPipe = createHelloServer();
    closeServerAfterTest(onPipe);
    const dir = mkdtempSync(join(tmpdir(), 'lesson04-'));
    closeAfterTest(() => rmSync(dir, { recursive: true, force: true }));
    const pipe = join(dir, 'hello.sock');
    await new Promise<void>((resolve) => onPipe.listen(pipe, resolve));
    for (const [old, what] of [
      [stopped, 'a server that is not listening (address() is null)'],
      [onPipe, 'a server on a Unix socket (address() is a path)'],
    ] as const) {
      const next = createHelloServer();
      closeServerAfterTest(next);
      const result = await settle(restart(old, next), `restart() of ${what} to reject`);
      expect(result.ok ? 'it resolved' : String(result.error), `restart() of ${what}`).toBe(
        'Error: restart(): the old server is not listening on a TCP port',
      );
      expect(next.listening, `after restart() of ${what}: next is not listening`).toBe(false);
    }
    expect(onPipe.listening, 'the server on a Unix socket is left as it was: listening').toBe(true);
  });
});

describe('what Node does, as this lesson says', () => {
  test('a second live listener on the port gets EADDRINUSE (code, syscall listen, address, port), exclusive or not', async () => {
    const { port } = await busyPort();
    const errors = await Promise.all(
      [false, true].map((exclusive) => {
        const server = net.createServer();
        closeServerAfterTest(server);
        return within(
          new Promise<NodeJS.ErrnoException>((resolve) => {
            server.once('error', resolve);
            server.listen({ host: HOST, port, exclusive });
          }),
          () => ({ expected: "an 'error' event from the second listener" }),
        );
      }),
    );
    for (const error of errors) {
      expect({ ...error }, 'what this lesson says Node reports (if not, your platform differs)').toEqual({
        code: 'EADDRINUSE',
        errno: error.errno,
        syscall: 'listen',
        address: HOST,
        port,
      });
    }
  });

  test.skipIf(process.platform !== 'linux')(
    'UDP: with reuseAddr two sockets bind one port, and the last one bound gets the datagrams (Linux)',
    async () => {
      const open = (name: string, got: string[]) => {
        const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
        closeAfterTest(() => socket.close());
        socket.on('message', (message) => got.push(`${name}: ${message}`));
        return socket;
      };
      const got: string[] = [];
      const first = open('first', got);
      const second = open('second', got);
      await new Promise<void>((resolve) => first.bind(0, HOST, resolve));
      const { port } = first.address();
      await new Promise<void>((resolve) => second.bind(port, HOST, resolve));
      const sender = dgram.createSocket('udp4');
      closeAfterTest(() => sender.close());
      for (const text of ['one', 'two', 'three']) sender.send(text, port, HOST);
      await within(
        new Promise<void>((resolve) => {
          const check = () => got.length === 3 && resolve();
          first.on('message', check);
          second.on('message', check);
        }),
        () => ({ expected: 'three datagrams', received: JSON.stringify(got) }),
      );
      expect(got, 'on Linux the last socket bound gets the unicast datagrams').toEqual([
        'second: one',
        'second: two',
        'second: three',
      ]);
    },
  );
});

describe('Python, side by side', () => {
  test.skipIf(!hasCommand('python3'))(
    'reuse_demo.py: OSError 98 without SO_REUSEADDR, a clean restart with it (needs python3)',
    async () => {
      const script = join(lessonOf(import.meta.url).dir, 'python', 'reuse_demo.py');
      const lines = (await runCommand('python3', [script])).toString('utf8').trimEnd().split('\n');
      expect(lines, 'reuse_demo.py prints one line per case').toHaveLength(3);
      const [without, withReuse, onlyNew] = lines as [string, string, string];
      expect(without).toMatch(
        /^restart without SO_REUSEADDR: +port \d+ -> OSError: \[Errno \d+\] Address already in use$/,
      );
      expect(withReuse).toMatch(/^restart with SO_REUSEADDR: +port \d+ -> bound and listening again$/);
      if (process.platform === 'linux') {
        expect(without).toContain('[Errno 98]');
        expect(onlyNew).toMatch(/^SO_REUSEADDR on the new server only: +port \d+ -> OSError: \[Errno 98\]/);
      }
    },
  );
});
