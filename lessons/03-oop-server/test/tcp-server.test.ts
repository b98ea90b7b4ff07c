import net from 'node:net';
import {
  assertBytes,
  closeAfterTest,
  connect,
  exchange,
  LogLines,
  listen,
  Peer,
  resetAfter,
  trickle,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { TcpServer, type TcpServerOptions } from '#impl/tcp-server.ts';
import { closeServerAfterTest } from './support.ts';

/** Starts `server` with its own start() on 127.0.0.1, any free port; closed after the test whatever its stop() does. */
async function started<T extends TcpServer>(server: T): Promise<number> {
  closeServerAfterTest(server.server);
  const address = await server.start();
  return address.port;
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
    const address = await server.start();
    expect(address.address).toBe('127.0.0.1');
    expect(
      address.port,
      'with port 0, resolve with this.server.address(): it has the real port',
    ).toBeGreaterThan(0);
    expect(server.server.listening).toBe(true);
    await connect(address.port);
  });

  test('start() rejects with EADDRINUSE when the port is taken', async () => {
    const taken = await listen(net.createServer());
    const server = new TcpServer();
    closeServerAfterTest(server.server);
    const error = await server.start({ port: taken }).catch((e: unknown) => e);
    expect(error, "start() should reject when the server emits 'error'").toBeInstanceOf(Error);
    expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
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
    const port = await started(new OneLine({ log: log.add, requestTimeoutMs: 150 }));
    // Slowloris: a byte every 10 ms for 2 s, and the line never ends. Each byte is activity.
    const [trickler, silent] = await Promise.all([trickle(port, 'x'.repeat(200), 10), connect(port)]);
    const clients = [trickler.socket.localPort, silent.socket.localPort];
    const hint =
      'start a setTimeout(..., this.requestTimeoutMs) when the connection opens, and call ' +
      'this.requestTimedOut(socket, peer) when it fires. socket.setTimeout() is not enough: it is an ' +
      'idle timer, and every byte the client trickles in restarts it';
    await Promise.all([
      trickler.closed({ allowReset: true, ms: 800, hint }),
      silent.closed({ allowReset: true, ms: 800, hint }),
    ]);
    for (const client of clients) {
      await log.line(
        new RegExp(`^client 127\\.0\\.0\\.1:${client} too slow: request not complete after 150 ms, closing$`),
        `a log line \`client 127.0.0.1:${client} too slow: request not complete after 150 ms, closing\``,
        { hint: 'the default requestTimedOut() logs it; call it when the deadline fires' },
      );
    }
    assertBytes(await exchange(port, 'next\n'), 'got next\n', { what: 'the answer to the next client' });
  });

  test('a slow client whose request is complete in time is served, and the deadline is cleared', async () => {
    const log = new LogLines();
    const port = await started(new OneLine({ log: log.add, requestTimeoutMs: 200 }));
    // Slow, but its line (3 bytes, one every 10 ms) is complete long before the deadline.
    const slow = await trickle(port, 'hi\n', 10);
    const client = slow.socket.localPort;
    // The clock: connected just after `slow`, so its deadline fires just after slow's would.
    const clock = await connect(port);
    const [line] = await slow.lines(1, { hint: 'bytes that arrive before the deadline are served normally' });
    expect(line).toBe('got hi');
    await clock.closed({ allowReset: true, ms: 1_000, hint: 'a silent client is cut off at the deadline' });
    expect(
      slow.ending,
      'a client whose request is complete must not be cut off: requestComplete(socket) clears its deadline',
    ).toBe('open');
    expect(log.lines.filter((l) => l.includes(`:${client} `))).toEqual([]);
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
      ms: 500,
      hint:
        "once the server's side is closed and flushed ('finish'), give the client this.closeGraceMs to " +
        'close its own, then socket.destroy() it: otherwise it holds the socket forever',
    });
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
        ms: 500,
      },
    );
    for (const peer of peers) await peer.closed({ allowReset: true, ms: 200 });
    expect(server.openConnections).toBe(0);
    expect(server.server.listening, 'after stop() the server no longer accepts').toBe(false);
    const refused = await connect(port, undefined, { ms: 300 }).catch((e: NodeJS.ErrnoException) => e);
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
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
      { ms: 500 },
    );
    expect(peer.ending, 'the client should have received the polite FIN (socket.end()) first').not.toBe(
      'open',
    );
  });

  test('stop() before start() resolves; two stop() calls both resolve; the server can start again', async () => {
    const { server, log } = quiet();
    closeServerAfterTest(server.server);
    await within(server.stop(), () => ({ expected: 'stop() to resolve on a server that never started' }), {
      ms: 300,
    });
    const { port } = await server.start();
    await connectAccepted(port, log);
    await within(
      Promise.all([server.stop(), server.stop()]),
      () => ({ expected: 'both stop() calls to resolve', hint }),
      {
        ms: 500,
      },
    );
    const again = await server.start();
    await connectAccepted(again.port, log);
  });
});
