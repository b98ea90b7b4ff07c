import net from 'node:net';
import {
  assertBytes,
  closeAfterTest,
  connect,
  exchange,
  LogLines,
  listen,
  Peer,
  reproSetup,
  resetAfter,
  trickle,
  within,
} from '@course/helpers';
import { describe, expect, onTestFinished, test } from 'vitest';
import { TcpServer, type TcpServerOptions } from '#impl/tcp-server.ts';
import { closeServerAfterTest } from './support.ts';

/** Starts `server` with its own start() on 127.0.0.1, any free port; closed after the test whatever its stop() does. */
async function started<T extends TcpServer>(server: T): Promise<number> {
  closeServerAfterTest(server.server);
  reproSetup({ note: subclassNote(server.constructor.name) });
  const address = await server.start();
  return address.port;
}

/** What the repro lines of these tests can and cannot show: they run server.ts, not the test's subclass. */
function subclassNote(name: string): string {
  return (
    `this test runs ${name}, a small subclass of your TcpServer written in test/tcp-server.test.ts, ` +
    'not server.ts: your WebServer goes through the same accept() and stop(), but answers in HTTP'
  );
}

/**
 * Watches, for the rest of the test, every setTimeout() of `ms` milliseconds: the returned set
 * holds those not cleared yet (a test that uses it waits less than `ms`, so none fires).
 */
function timersOf(ms: number): Set<NodeJS.Timeout> {
  const live = new Set<NodeJS.Timeout>();
  const { setTimeout: set, clearTimeout: clear } = globalThis;
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) => {
    const timer = set(() => callback(...args), delay);
    if (delay === ms) live.add(timer);
    return timer;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((timer?: NodeJS.Timeout) => {
    if (timer) live.delete(timer);
    clear(timer);
  }) as typeof clearTimeout;
  onTestFinished(() => {
    globalThis.setTimeout = set;
    globalThis.clearTimeout = clear;
  });
  return live;
}

/** Answers every client with one line naming it, and closes: the smallest protocol. */
class Greeter extends TcpServer {
  protected override handleConnection(socket: net.Socket, peer: string): void {
    socket.end(`hello ${peer}\n`);
    socket.once('close', () => this.log(`closed ${peer}`));
  }
}

/**
 * Its request is one line: once the line is in, it calls requestComplete() and answers
 * `got LINE`, and keeps the connection open (until the client closes it).
 */
class OneLine extends TcpServer {
  protected override handleConnection(socket: net.Socket, _peer: string): void {
    let line = '';
    socket.on('data', (chunk: Buffer) => {
      if (line.includes('\n')) return;
      line += chunk.toString('latin1');
      if (!line.includes('\n')) return;
      this.requestComplete(socket);
      socket.write(`got ${line.split('\n')[0]}\n`);
    });
  }
}

/**
 * Answers `hello` once the client has sent anything, and closes its side, without calling
 * requestComplete(): the base class must see by itself that the answer went out.
 */
class Careless extends TcpServer {
  protected override handleConnection(socket: net.Socket, peer: string): void {
    this.log(`open ${peer}`);
    socket.once('data', () => socket.end('hello\n'));
  }
}

/**
 * Sends a large answer at once, more than the kernel's buffers hold, so that most of it waits in
 * Node's buffer until the client reads: a client that never reads keeps it there for ever.
 */
class Flood extends TcpServer {
  /** The server's side of the last connection. */
  socket: net.Socket | undefined;
  protected override handleConnection(socket: net.Socket, peer: string): void {
    this.socket = socket;
    socket.write(Buffer.alloc(FLOOD_BYTES, 0x61));
    this.log(`open ${peer}`);
  }
}

/** 48 MiB: more than loopback's buffers take for a client that has never read (a few MiB here). */
const FLOOD_BYTES = 48 * 1024 * 1024;

/** Echoes every byte until the client half-closes. */
class Echo extends TcpServer {
  protected override handleConnection(socket: net.Socket, _peer: string): void {
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('end', () => socket.end());
  }
}

/** Never says anything: its clients stay connected, idle, until someone closes them. */
class Quiet extends TcpServer {
  protected override handleConnection(socket: net.Socket, peer: string): void {
    this.log(`open ${peer}`);
    // Registered after the base class's own 'close' listener, so it runs after that one.
    socket.once('close', () => this.log(`closed ${peer}`));
  }
}

/** A Quiet server whose log the test can wait on. */
function quiet(options: TcpServerOptions = {}) {
  const log = new LogLines();
  return { server: new Quiet({ log: log.add, ...options }), log };
}

/** Connects, and waits until the server has accepted the connection (its `open` line). */
async function connectAccepted(port: number, log: LogLines): Promise<Peer> {
  const peer = await connect(port);
  await log.line(
    new RegExp(`^open 127\\.0\\.0\\.1:${peer.socket.localPort}$`),
    'the handler to be called for this client (handleConnection)',
  );
  return peer;
}

describe('step 1: start() listens and resolves to the bound address', () => {
  test('start() resolves with 127.0.0.1 and the real port, and clients can connect', async () => {
    const server = new TcpServer();
    closeServerAfterTest(server.server);
    const errorListeners = server.server.listenerCount('error');
    const address = await server.start();
    expect(address.address, 'start() resolves with this.server.address(): host 127.0.0.1 by default').toBe(
      '127.0.0.1',
    );
    expect(
      address.port,
      'with port 0, resolve with this.server.address(): it has the real port',
    ).toBeGreaterThan(0);
    expect(server.server.listening, 'resolve in the callback of this.server.listen(), once it listens').toBe(
      true,
    );
    expect(
      server.server.listenerCount('error'),
      "once listening, remove the 'error' listener that rejects (this.server.off('error', reject)): each start() would add one more",
    ).toBe(errorListeners);
    await connect(address.port);
  });

  test('start() rejects with EADDRINUSE when the port is taken', async () => {
    const taken = await listen(net.createServer());
    const server = new TcpServer();
    closeServerAfterTest(server.server);
    const error = await server.start({ port: taken }).catch((e: unknown) => e);
    expect(
      error,
      "start() should reject when the server emits 'error': this.server.once('error', reject) before listen()",
    ).toBeInstanceOf(Error);
    expect(
      (error as NodeJS.ErrnoException | undefined)?.code,
      "reject with the server's own 'error' (its code is EADDRINUSE), not an error of your own",
    ).toBe('EADDRINUSE');
  });
});

describe('step 2: every connection is tracked and handed to handleConnection()', () => {
  test('a subclass that overrides handleConnection() answers each client, with its address', async () => {
    const port = await started(new Greeter());
    const peers = await Promise.all([connect(port), connect(port)]);
    for (const peer of peers) {
      const reply = await peer.closed({
        hint: 'accept() should call this.handleConnection(socket, peer), which a subclass overrides',
      });
      assertBytes(reply, `hello 127.0.0.1:${peer.socket.localPort}\n`, {
        what: "the Greeter subclass's reply",
      });
    }
  });

  test('the base TcpServer, not overridden, closes each connection at once, politely', async () => {
    const port = await started(new TcpServer());
    const peer = await connect(port);
    assertBytes(
      await peer.closed({ hint: 'handleConnection() of TcpServer itself ends the socket (given code)' }),
      '',
      {
        what: 'what the base TcpServer sends before its FIN',
      },
    );
  });

  test('a failure of the listening socket after start() is logged as one line, and does not crash the server', async () => {
    const log = new LogLines();
    const server = new TcpServer({ log: log.add });
    // Before start() nothing is listening: an 'error' then is start()'s to report, not a log line.
    server.server.emit('error', Object.assign(new Error('too early'), { code: 'EMFILE' }));
    const port = await started(server);
    server.server.emit('error', Object.assign(new Error('accept failed'), { code: 'EMFILE' }));
    await log.line(/^server error: /, "a log line `server error: ...` (the constructor's given listener)");
    expect(
      log.lines.filter((line) => line.startsWith('server error: ')),
      'one line, for the error after start()',
    ).toHaveLength(1);
    expect(
      log.lines.some((line) => line.includes('too early')),
      'nothing logged for an error before start()',
    ).toBe(false);
    await connect(port); // still accepting
  });

  test('openConnections counts the connections that are open right now', async () => {
    const { server, log } = quiet();
    const port = await started(server);
    const [first] = await Promise.all([connectAccepted(port, log), connectAccepted(port, log)]);
    expect(server.openConnections, 'add each socket to this.connections').toBe(2);
    first?.socket.destroy();
    await log.line(/^closed /, 'the first connection to close on the server');
    expect(server.openConnections, "delete a socket from this.connections when it emits 'close'").toBe(1);
  });

  test('a client that resets is logged, and the server keeps serving', async () => {
    const log = new LogLines();
    const port = await started(new Echo({ log: log.add }));
    await resetAfter(port);
    await log.line(
      /^client \S+ failed: .*ECONNRESET/,
      'a log line `client IP:PORT failed: connection reset by peer (ECONNRESET)`',
      { hint: "listen for 'error' on every socket: without a listener, a reset crashes the process" },
    );
    assertBytes(await exchange(port, 'still there?'), 'still there?', { what: 'the echo after a reset' });
  });

  test('a handler that throws costs one connection, not the server', async () => {
    const log = new LogLines();
    let calls = 0;
    class Fragile extends Echo {
      protected override handleConnection(socket: net.Socket, peer: string): void {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        super.handleConnection(socket, peer);
      }
    }
    const port = await started(new Fragile({ log: log.add }));
    const first = await connect(port);
    await first.closed({
      allowReset: true,
      hint: 'catch what the handler throws, log it, destroy the socket',
    });
    await log.line(
      /^client 127\.0\.0\.1:\d+: handler failed: boom$/,
      'a log line `client IP:PORT: handler failed: boom`',
    );
    assertBytes(await exchange(port, 'next'), 'next', { what: 'the echo to the next client' });
  });

  test('a request trickled one byte at a time is cut off at the deadline (requestTimeoutMs), like a silent one', async () => {
    const log = new LogLines();
    const port = await started(new OneLine({ log: log.add, requestTimeoutMs: 600 }));
    // server.ts with --timeout 600 has the same deadline: it answers the trickle 408.
    reproSetup({ serverArgs: ['--timeout', '600'] });
    // Slowloris: a byte every 10 ms for 20 s, far past the wait, and the line never ends. Each
    // byte is activity: an idle timer of 600 ms fires only if the machine stalls that long.
    const [trickler, silent] = await Promise.all([trickle(port, 'x'.repeat(2_000), 10), connect(port)]);
    const clients = [trickler.socket.localPort, silent.socket.localPort];
    const hint =
      'start a setTimeout(..., this.requestTimeoutMs) when the connection opens, and call ' +
      'this.requestTimedOut(socket, peer) when it fires. socket.setTimeout() is not enough: it is an ' +
      'idle timer, and every byte the client trickles in restarts it';
    // 600 ms is the deadline; the wait is far longer, so that only a server that never cuts
    // them off fails, however busy the machine.
    await Promise.all([
      trickler.closed({ allowReset: true, ms: 5_000, hint }),
      silent.closed({ allowReset: true, ms: 5_000, hint }),
    ]);
    for (const client of clients) {
      await log.line(
        new RegExp(`^client 127\\.0\\.0\\.1:${client} too slow: request not complete after 600 ms, closing$`),
        `a log line \`client 127.0.0.1:${client} too slow: request not complete after 600 ms, closing\``,
        { hint: 'the default requestTimedOut() logs it; call it when the deadline fires' },
      );
    }
    assertBytes(await exchange(port, 'next\n'), 'got next\n', { what: 'the answer to the next client' });
  });

  test('a slow client whose request is complete in time is served, and the deadline is cleared', async () => {
    const log = new LogLines();
    const port = await started(new OneLine({ log: log.add, requestTimeoutMs: 600 }));
    // Slow, but its line (3 bytes, one every 10 ms: about 30 ms) is complete long before the
    // 600 ms deadline, even on a busy machine.
    const slow = await trickle(port, 'hi\n', 10);
    const client = slow.socket.localPort;
    // The clock: connected just after `slow`, so its deadline fires just after slow's would.
    const clock = await connect(port);
    const [line] = await slow.lines(1, { hint: 'bytes that arrive before the deadline are served normally' });
    expect(line, 'the OneLine subclass answers `got <line>`').toBe('got hi');
    await clock.closed({ allowReset: true, ms: 5_000, hint: 'a silent client is cut off at the deadline' });
    expect(
      slow.ending,
      'a client whose request is complete must not be cut off: requestComplete(socket) clears its deadline',
    ).toBe('open');
    expect(
      log.lines.filter((l) => l.includes(`:${client} `)),
      'no `too slow` line for a client whose request was complete: requestComplete() clears the deadline',
    ).toEqual([]);
  });

  test('after the answer, a client that never closes its side is destroyed after closeGraceMs', async () => {
    const log = new LogLines();
    const port = await started(new Greeter({ log: log.add, closeGraceMs: 50 }));
    // allowHalfOpen: this client reads the answer and the server's FIN, and keeps its side open.
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    closeAfterTest(() => socket.destroy());
    const peer = new Peer(socket, port);
    await peer.closed({ hint: "the Greeter answers and ends at once: wait for the client's FIN" });
    await log.line(/^closed /, 'the server to close the connection soon after closeGraceMs (50 ms)', {
      ms: 3_000,
      hint:
        "once the server's side is closed and flushed ('finish'), give the client this.closeGraceMs to " +
        'close its own, then socket.destroy() it: otherwise it holds the socket forever',
    });
  });

  test('closeGraceMs is the time the client has: with 10 s, a client that keeps its side open is not cut off after 1 s', async () => {
    const log = new LogLines();
    const port = await started(new Greeter({ log: log.add, closeGraceMs: 10_000 }));
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    closeAfterTest(() => socket.destroy());
    const peer = new Peer(socket, port);
    await peer.closed({ hint: "the Greeter answers and ends at once: wait for the client's FIN" });
    // Far shorter than the 10 s granted: only a server that ignores the option (its 250 ms
    // default) has closed the connection by then.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(
      log.lines.filter((line) => line.startsWith('closed ')),
      'the connection was closed long before closeGraceMs (10 s): use this.closeGraceMs (options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS)',
    ).toEqual([]);
  });

  test('once the server has answered, the deadline no longer applies', async () => {
    const log = new LogLines();
    const port = await started(new Careless({ log: log.add, requestTimeoutMs: 100, closeGraceMs: 5_000 }));
    // Answered at once, and it keeps its side open (allowHalfOpen) within the 5 s grace.
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    closeAfterTest(() => socket.destroy());
    const answered = new Peer(socket, port);
    await log.line(/^open /, 'the handler to be called for this client');
    await answered.write('hi');
    await answered.closed({ hint: 'the Careless subclass answers `hello` and ends its side at once' });
    const client = socket.localPort;
    // The clock: connected after, silent, so its deadline fires after the first one's would.
    const clock = await connect(port);
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${clock.socket.localPort} too slow: `),
      'the silent client to be cut off at the deadline (100 ms)',
      { ms: 5_000 },
    );
    expect(
      log.lines.filter((l) => l.startsWith(`client 127.0.0.1:${client} too slow`)),
      'when the deadline fires, do nothing if socket.writableEnded (the server has answered and ' +
        'closed its side) or socket.destroyed: requestTimedOut() is for a client still owing its request',
    ).toEqual([]);
    expect(
      socket.destroyed,
      'the answered client stays until closeGraceMs (5 s here), not the deadline',
    ).toBe(false);
  });

  test('a connection that closes takes its deadline with it: no timer outlives its socket', async () => {
    const { server, log } = quiet({ requestTimeoutMs: 60_000 });
    const port = await started(server);
    const deadlines = timersOf(60_000);
    const peers = await Promise.all(Array.from({ length: 10 }, () => connectAccepted(port, log)));
    const clients = peers.map((peer) => peer.socket.localPort);
    for (const peer of peers) peer.socket.destroy();
    for (const client of clients) {
      await log.line(
        new RegExp(`^closed 127\\.0\\.0\\.1:${client}$`),
        "the server to see each connection's 'close'",
      );
    }
    expect(
      deadlines.size,
      `${deadlines.size} deadline timer(s) still run after their connections closed, each due in 60 s: ` +
        "on 'close', call this.requestComplete(socket), which clears it (clearTimeout)",
    ).toBe(0);
  });
});

describe('step 3: stop() closes every connection, idle ones too', () => {
  const hint =
    'server.close() only stops accepting: its callback waits for every client to leave. End (or destroy) each open connection too';

  test('stop() resolves promptly while idle clients are connected, and closes them all', async () => {
    const { server, log } = quiet();
    const port = await started(server);
    const peers = await Promise.all([1, 2, 3].map(() => connectAccepted(port, log)));
    await within(
      server.stop(),
      () => ({ expected: 'stop() to resolve with three idle clients connected', hint }),
      {
        ms: 3_000,
      },
    );
    expect(
      server.openConnections,
      "stop() resolved while connections were still open: resolve only once the server's close " +
        "callback has run AND every socket has emitted 'close' (await Promise.all of both)",
    ).toBe(0);
    for (const peer of peers) await peer.closed({ allowReset: true, ms: 3_000 });
    expect(
      server.server.listening,
      'after stop() the server no longer accepts: call this.server.close()',
    ).toBe(false);
    const refused = await connect(port, undefined, { ms: 3_000 }).catch((e: NodeJS.ErrnoException) => e);
    expect(
      (refused as NodeJS.ErrnoException).code,
      'after stop(), a new connection is refused: this.server.close() stops accepting',
    ).toBe('ECONNREFUSED');
  });

  test('a client that ignores the FIN is destroyed after closeGraceMs', async () => {
    const { server, log } = quiet({ closeGraceMs: 50 });
    const port = await started(server);
    // allowHalfOpen: this client does not close its side when the server's FIN arrives.
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    closeAfterTest(() => socket.destroy());
    const peer = new Peer(socket, port);
    await log.line(/^open /, 'the handler to be called for this client');
    await within(
      server.stop(),
      () => ({
        expected: 'stop() to resolve soon after closeGraceMs (50 ms)',
        hint: 'a client may never close its side: destroy the socket if it is still open after this.closeGraceMs',
      }),
      { ms: 3_000 },
    );
    expect(peer.ending, 'the client should have received the polite FIN (socket.end()) first').not.toBe(
      'open',
    );
  });

  test('a client that never reads, with an answer still queued, is destroyed after closeGraceMs', async () => {
    const log = new LogLines();
    const server = new Flood({ log: log.add, closeGraceMs: 50 });
    const port = await started(server);
    const peer = await connect(port);
    peer.socket.pause(); // it never reads: the answer cannot leave, so 'finish' never comes
    await log.line(/^open /, 'the handler to be called for this client');
    expect(
      server.socket?.writableLength,
      'the test needs part of its answer to wait in the server (a Node buffer, no reader)',
    ).toBeGreaterThan(0);
    await within(
      server.stop(),
      () => ({
        expected: 'stop() to resolve soon after closeGraceMs (50 ms)',
        received: `${server.openConnections} connection(s) still open`,
        hint:
          "socket.end() waits until what is queued has left, and this client never reads: 'finish' never " +
          'comes, so the grace timer of accept() never starts. stop() needs its own: ' +
          'setTimeout(() => socket.destroy(), this.closeGraceMs) for each socket, cleared on its close',
      }),
      { ms: 3_000 },
    );
  });

  test('stop() before start() resolves; two stop() calls both resolve; the server can start again', async () => {
    const { server, log } = quiet();
    closeServerAfterTest(server.server);
    await within(server.stop(), () => ({ expected: 'stop() to resolve on a server that never started' }), {
      ms: 3_000,
    });
    const { port } = await server.start();
    await connectAccepted(port, log);
    await within(
      Promise.all([server.stop(), server.stop()]),
      () => ({ expected: 'both stop() calls to resolve', hint }),
      {
        ms: 3_000,
      },
    );
    const again = await server.start();
    await connectAccepted(again.port, log);
  });
});
