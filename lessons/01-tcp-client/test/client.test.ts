import { once } from 'node:events';
import net from 'node:net';
import {
  assertBytes,
  closeAfterTest,
  closedPort,
  hasCommand,
  lessonOf,
  startCommand,
  startProxy,
  startServer,
  unlessTodo,
  WireError,
  within,
} from '@course/helpers';
import { describe, expect, test, vi } from 'vitest';
import {
  describeFailure,
  openConnection,
  RequestError,
  type RequestOptions,
  readReply,
  request,
  sendAndFinish,
} from '#impl/client.ts';

const lesson = lessonOf(import.meta.url);

/** A stack trace of the current call, long enough to reach the lesson's code from inside a spy. */
function callerStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack;
}

/** True when the lesson's own code (exercise/, solution/ or mistakes/, not test/) is on the stack. */
const calledFromLesson = () => new RegExp(`${lesson.dir}/(?!test/)`).test(callerStack());

/** Resolves once `condition()` holds, checked every 5 ms, or after `ms` anyway. */
async function until(condition: () => boolean, ms = 1_500): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/** A server that answers each request, once the client half-closes, with `answer(request)`. */
function replyingServer(answer: (request: Buffer) => string | Buffer = (r) => r.toString().toUpperCase()) {
  return startServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => socket.end(answer(Buffer.concat(chunks))));
  });
}

/** A server that keeps what its first client sends; `first` resolves when that client connects. */
async function listeningServer() {
  let accept: (client: { bytes: Buffer[]; fin: Promise<unknown> }) => void = () => {};
  const first = new Promise<{ bytes: Buffer[]; fin: Promise<unknown> }>((resolve) => {
    accept = resolve;
  });
  const port = await startServer((socket) => {
    const bytes: Buffer[] = [];
    socket.on('data', (chunk) => bytes.push(chunk));
    accept({ bytes, fin: once(socket, 'end') });
  });
  return { port, first };
}

/**
 * A server that writes `pieces` one at a time to the client socket the test hands it with
 * `reading(socket)`, and writes the next only once the client has read the previous one (its
 * bytesRead): each piece is a 'data' event of its own, on any machine. The last piece ends the reply.
 */
async function piecewiseServer(pieces: (string | Buffer)[]) {
  let reading: (client: net.Socket) => void = () => {};
  const client = new Promise<net.Socket>((resolve) => {
    reading = resolve;
  });
  const port = await startServer(async (socket) => {
    socket.setNoDelay(true);
    const reader = await client;
    let written = 0;
    for (const [i, piece] of pieces.entries()) {
      if (socket.destroyed) return;
      const bytes = Buffer.from(piece);
      written += bytes.length;
      if (i === pieces.length - 1) socket.end(bytes);
      else socket.write(bytes);
      await until(() => reader.bytesRead >= written || reader.destroyed);
    }
  });
  return { port, reading };
}

/**
 * A client socket from the learner's openConnection(), destroyed after the test. The test
 * listens for its errors: in steps 1 to 3 the socket is the test's, and request() (step 5)
 * is where 'error' is the client's business.
 */
function open(port: number): net.Socket {
  const socket = openConnection('127.0.0.1', port);
  closeAfterTest(() => socket.destroy());
  if (socket instanceof net.Socket) socket.on('error', () => {});
  return socket;
}

/** Waits for the socket's 'connect' event. */
function connected(socket: net.Socket) {
  return within(
    new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
    () => ({ expected: "the socket to emit 'connect'", hint: 'return net.connect({ host, port })' }),
  );
}

/** A socket from the learner's openConnection(), connected. */
async function connectedSocket(port: number) {
  const socket = open(port);
  await connected(socket);
  return socket;
}

/** The learner's readReply(), bounded: a reply that never settles fails with `hint`. */
function replyOf(socket: net.Socket, maxBytes: number | undefined, hint: string): Promise<string> {
  return within(
    maxBytes === undefined ? readReply(socket) : readReply(socket, maxBytes),
    () => ({
      expected: 'readReply() to settle',
      received: 'nothing: it had neither resolved nor rejected',
      hint,
    }),
    { ms: 2_500 },
  );
}

/** The current test's watch on client sockets (one per test: a spy is not spied on again). */
let socketWatch: Promise<never> | undefined;

/**
 * Watches the client sockets the lesson's code connects during this test. An 'error' one of
 * them emits with no listener (which would be thrown outside the test, and crash a program) is
 * kept instead, and the promise returned rejects with a message that says so.
 */
function watchClientSockets(): Promise<never> {
  if (socketWatch) return socketWatch;
  let report: (error: WireError) => void = () => {};
  const unheard = new Promise<never>((_, reject) => {
    report = reject;
  });
  unheard.catch(() => {}); // raced by each wait; never an unhandled rejection
  const connect = net.Socket.prototype.connect;
  const spy = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (
    this: net.Socket,
    ...args: unknown[]
  ) {
    if (calledFromLesson()) {
      const emit = this.emit;
      this.emit = function (this: net.Socket, event: string | symbol, ...rest: unknown[]) {
        if (event === 'error' && this.listenerCount('error') === 0) {
          const error = rest[0] as Error;
          report(
            new WireError("the client's socket emitted 'error' and nothing listened for it", {
              expected: "request() to listen for 'error' and reject with describeFailure()",
              received: `'error' with no listener: ${error.message}`,
              hint:
                "socket.on('error', (error) => reject(describeFailure(error, where, connected))) in request(), " +
                'from the start: an error nobody listens for is thrown outside request() and crashes the program',
            }),
          );
          return false;
        }
        return Reflect.apply(emit, this, [event, ...rest]);
      } as net.Socket['emit'];
    }
    return Reflect.apply(connect, this, args);
  } as typeof connect);
  closeAfterTest(() => {
    spy.mockRestore();
    socketWatch = undefined;
  });
  socketWatch = unheard;
  return unheard;
}

type Outcome = { reply: string } | { error: unknown };

/**
 * Runs the learner's request() and returns how it settled. Bounded: a request that never
 * settles fails after `ms` with `hint`; a socket 'error' nobody listens for fails at once.
 */
async function outcomeOf(options: RequestOptions, hint: string, ms = 2_500): Promise<Outcome> {
  const unheard = watchClientSockets();
  const started = performance.now();
  const settled = request(options).then(
    (reply): Outcome => ({ reply }),
    (error: unknown): Outcome => ({ error }),
  );
  return within(
    Promise.race([settled, unheard]),
    () => ({
      expected: `request() to settle (its timeoutMs is ${options.timeoutMs ?? 5000} ms)`,
      received: `nothing: ${Math.round(performance.now() - started)} ms after the call, it had neither resolved nor rejected`,
      hint,
    }),
    { ms },
  );
}

/** Fails unless the request resolved with exactly `expected`. */
function expectReply(outcome: Outcome, expected: string, hint?: string): void {
  if ('error' in outcome) {
    throw new WireError('request() rejected instead of resolving with the reply', {
      expected: JSON.stringify(expected),
      received: String(outcome.error),
      hint: unlessTodo(outcome.error, hint),
    });
  }
  assertBytes(Buffer.from(outcome.reply), expected, { what: 'the reply', hint });
}

/**
 * Fails unless the request rejected with a RequestError with `code` and `message`; `resolved`
 * is the hint when it resolved instead.
 */
function expectFailure(
  outcome: Outcome,
  code: string,
  message: string,
  hint: string,
  resolved = "a reply is complete only on 'end': resolve there, and nowhere else",
): void {
  if (!('error' in outcome)) {
    throw new WireError('request() resolved instead of rejecting', {
      expected: `a RequestError: ${message}`,
      received: `the reply ${JSON.stringify(outcome.reply)}`,
      hint: resolved,
    });
  }
  const { error } = outcome;
  if (!(error instanceof RequestError)) {
    throw new WireError('request() rejected with something else than a RequestError', {
      expected: `a RequestError: ${message}`,
      received: String(error),
      hint: unlessTodo(error, hint),
    });
  }
  expect(error.code, hint).toBe(code);
  expect(error.message, hint).toBe(message);
}

/**
 * The timers the lesson's code starts (setTimeout is watched; calls from the tests and the
 * harness do not count) and how many of them are still waiting to fire.
 */
function watchTimers() {
  const waiting = new Set<unknown>();
  const set = globalThis.setTimeout;
  const clear = globalThis.clearTimeout;
  const setSpy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const timer: NodeJS.Timeout = set(
      (...a: unknown[]) => {
        waiting.delete(timer);
        callback(...a);
      },
      ms,
      ...args,
    );
    if (calledFromLesson()) waiting.add(timer);
    return timer;
  }) as typeof setTimeout);
  const clearSpy = vi.spyOn(globalThis, 'clearTimeout').mockImplementation((timer) => {
    waiting.delete(timer);
    clear(timer);
  });
  closeAfterTest(() => {
    setSpy.mockRestore();
    clearSpy.mockRestore();
  });
  return {
    /** Fails unless every timer of the lesson's code is cleared soon after `what`. */
    async expectNoneLeft(what: string) {
      await until(() => waiting.size === 0, 1_000);
      expect(
        waiting.size,
        `${what}: a timer of request() is still waiting. Clear it (clearTimeout) when the request settles, ` +
          'whatever way: a pending timer keeps the program running until it fires',
      ).toBe(0);
    },
  };
}

describe('step 1: connect', () => {
  test('openConnection() returns a socket that connects to the server', async () => {
    const server = await listeningServer();
    const socket = open(server.port);
    expect(socket, 'return the socket from net.connect()').toBeInstanceOf(net.Socket);
    await connected(socket);
    await within(server.first, () => ({ expected: 'the server to see a connection' }));
    expect(socket.remotePort, 'connect to the port you are given: net.connect({ host, port })').toBe(
      server.port,
    );
  });
});

describe('step 2: send and half-close', () => {
  test('the server receives the message as UTF-8, then the end of the stream (FIN)', async () => {
    const server = await listeningServer();
    sendAndFinish(await connectedSocket(server.port), 'héllo 你好');
    const client = await within(server.first, () => ({ expected: 'the server to see a connection' }));
    await within(client.fin, () => ({
      expected: 'the server to read the end of the stream',
      hint: 'use socket.end(message)',
    }));
    assertBytes(Buffer.concat(client.bytes), 'héllo 你好', { what: 'what the server received' });
  });

  test('after the half-close the client can still read the reply', async () => {
    const port = await replyingServer();
    const socket = await connectedSocket(port);
    const reply: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => reply.push(chunk));
    sendAndFinish(socket, 'still listening?');
    await within(once(socket, 'end'), () => ({
      expected: 'the reply and the end of the stream',
      hint: 'end() closes only the sending side',
    }));
    assertBytes(Buffer.concat(reply), 'STILL LISTENING?', { what: 'the reply' });
  });
});

describe('step 3: receive until the server closes', () => {
  test('a reply written in several pieces is collected whole', async () => {
    // Each piece reaches the client before the next is written: three 'data' events, always.
    const server = await piecewiseServer(['one, ', 'two, ', 'three']);
    const socket = await connectedSocket(server.port);
    const reply = replyOf(socket, undefined, "resolve on 'end', once the server has closed its side");
    server.reading(socket);
    assertBytes(Buffer.from(await reply), 'one, two, three', {
      what: 'the reply',
      hint: "a 'data' event holds whatever had arrived, not the whole reply: keep every chunk, and resolve on 'end'",
    });
  });

  test('a reply cut one byte at a time keeps its multi-byte characters', async () => {
    const port = await startServer((socket) => socket.end('héllo 你好 🎉'));
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'reply' });
    const reply = await replyOf(
      await connectedSocket(proxy.port),
      undefined,
      "resolve on 'end', once the server has closed its side",
    );
    assertBytes(Buffer.from(reply), 'héllo 你好 🎉', {
      what: 'the reply',
      hint: 'keep the chunks as Buffers and decode once on "end": é is 2 bytes, 你 3, 🎉 4',
    });
  });

  test('a reply in many pieces is joined once, at the end, not chunk by chunk', async () => {
    const server = await piecewiseServer(Array.from({ length: 8 }, (_, i) => `piece ${i};`));
    const socket = await connectedSocket(server.port);
    let joins = 0;
    const concat = Buffer.concat;
    const spy = vi.spyOn(Buffer, 'concat').mockImplementation((...args: Parameters<typeof concat>) => {
      if (calledFromLesson()) joins += 1;
      return concat(...args);
    });
    closeAfterTest(() => spy.mockRestore());
    const reply = replyOf(socket, undefined, "resolve on 'end', once the server has closed its side");
    server.reading(socket);
    assertBytes(Buffer.from(await reply), Array.from({ length: 8 }, (_, i) => `piece ${i};`).join(''), {
      what: 'the reply',
    });
    expect(
      joins,
      'Buffer.concat() once, on "end": joining each chunk onto what came before copies the whole reply again ' +
        'for every chunk, a cost that grows with the square of its size. Push the chunks into an array',
    ).toBeLessThanOrEqual(1);
  });

  test('a reply longer than maxBytes rejects with EMSGSIZE at once and closes the socket', async () => {
    // 10 000 bytes and the connection left open: the limit must act while the bytes arrive.
    const port = await startServer((socket) => {
      socket.write(Buffer.alloc(10_000, 'x'));
    });
    const socket = await connectedSocket(port);
    const error = await replyOf(
      socket,
      1000,
      "count the bytes on each 'data' event and give up as soon as the count passes maxBytes: " +
        "this server never closes, so a check on 'end' never runs, and memory would grow without bound",
    ).catch((e: unknown) => e);
    expect(error, 'reject with a RequestError').toBeInstanceOf(RequestError);
    expect((error as RequestError).code, "the RequestError's code").toBe('EMSGSIZE');
    expect((error as RequestError).message, 'the message the TODO(3) comment gives').toBe(
      'the reply is longer than 1000 bytes (EMSGSIZE)',
    );
    expect(socket.destroyed, 'destroy the socket: nobody will read the rest').toBe(true);
  });

  test('a reply of exactly maxBytes is not too long', async () => {
    const port = await startServer((socket) => socket.end(Buffer.alloc(1000, 'y')));
    const reply = await replyOf(
      await connectedSocket(port),
      1000,
      "resolve on 'end', once the server has closed its side",
    ).catch((error: unknown) => {
      throw new WireError('readReply(socket, 1000) rejected a reply of 1000 bytes', {
        expected: 'the reply: 1000 bytes is at the limit, not over it',
        received: String(error),
        hint: 'reject only when the count goes over maxBytes (>), not when it reaches it (>=)',
      });
    });
    expect(reply.length, 'the whole reply, 1000 bytes').toBe(1000);
  });
});

describe('step 4: say what went wrong', () => {
  const error = (code?: string) =>
    Object.assign(new Error(code ? `connect ${code}` : 'something failed'), code ? { code } : {});

  test('before connecting: `cannot connect to HOST:PORT: <words> (<CODE>)`', () => {
    const failure = describeFailure(error('ECONNREFUSED'), '127.0.0.1:9000', false);
    expect(failure, 'return a RequestError').toBeInstanceOf(RequestError);
    expect(failure.code, "the RequestError's code is the error's code").toBe('ECONNREFUSED');
    expect(failure.name, 'its name, shown by String(error) and in stack traces').toBe('RequestError');
    expect(failure.message, 'not connected: `cannot connect to WHERE: ` and then describeError(error)').toBe(
      'cannot connect to 127.0.0.1:9000: connection refused (ECONNREFUSED)',
    );
  });

  test('once connected: `connection to HOST:PORT failed: <words> (<CODE>)`', () => {
    const failure = describeFailure(error('ECONNRESET'), '127.0.0.1:9000', true);
    expect(failure, 'return a RequestError').toBeInstanceOf(RequestError);
    expect(failure.code, "the RequestError's code is the error's code").toBe('ECONNRESET');
    expect(failure.message, 'connected: `connection to WHERE failed: ` and then describeError(error)').toBe(
      'connection to 127.0.0.1:9000 failed: connection reset by peer (ECONNRESET)',
    );
  });

  test('an error without a code gets the code EUNKNOWN', () => {
    const failure = describeFailure(error(), '127.0.0.1:9000', true);
    expect(failure.code, "error.code may be undefined: use error.code ?? 'EUNKNOWN'").toBe('EUNKNOWN');
  });
});

describe('step 5: the whole request', () => {
  test('hello → HELLO from an upper-case server', async () => {
    const port = await replyingServer();
    const outcome = await outcomeOf(
      { port, message: 'hello' },
      "send the message with a half-close on 'connect', and let readReply() resolve the request",
    );
    expectReply(outcome, 'HELLO');
  });

  test('a reply cut at random places arrives whole', async () => {
    const text = 'Grüße aus Köln, 你好, 🎉🎉🎉 '.repeat(3);
    const port = await replyingServer(() => text);
    const proxy = await startProxy(port, { cut: { maxPiece: 5 } });
    const outcome = await outcomeOf(
      { port: proxy.port, message: 'go' },
      "let readReply() resolve the request, on 'end'",
    );
    expectReply(outcome, text, 'keep the chunks as Buffers and decode once, on "end"');
  });

  test('a refused connection rejects with ECONNREFUSED and a clear message', async () => {
    const port = await closedPort();
    const outcome = await outcomeOf(
      { port, message: 'anyone?' },
      "listen for 'error' on the socket and reject with describeFailure(error, where, connected)",
    );
    expectFailure(
      outcome,
      'ECONNREFUSED',
      `cannot connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
      "on 'error', reject with describeFailure(error, where, connected): not connected yet, so `cannot connect to`",
    );
  });

  test('a connection reset by the server rejects with ECONNRESET', async () => {
    const port = await startServer((socket) => {
      socket.on('data', () => {});
      socket.on('end', () => socket.resetAndDestroy());
    });
    const outcome = await outcomeOf(
      { port, message: 'boom' },
      "listen for 'error' on the socket and reject with describeFailure(error, where, connected)",
    );
    expectFailure(
      outcome,
      'ECONNRESET',
      `connection to 127.0.0.1:${port} failed: connection reset by peer (ECONNRESET)`,
      "set connected = true on 'connect': the reset came after, so `connection to … failed`",
    );
  });

  test('a reply longer than maxReplyBytes rejects the request with EMSGSIZE', async () => {
    const port = await startServer((socket) => {
      socket.on('data', () => {});
      socket.on('end', () => socket.write(Buffer.alloc(10_000, 'x'))); // and never closes
    });
    const outcome = await outcomeOf(
      { port, message: 'a lot, please', maxReplyBytes: 1000, timeoutMs: 1000 },
      'readReply(socket, maxReplyBytes).then(resolve, reject): its EMSGSIZE rejects the request',
    );
    expectFailure(
      outcome,
      'EMSGSIZE',
      'the reply is longer than 1000 bytes (EMSGSIZE)',
      'pass maxReplyBytes to readReply(), and its rejection to reject: readReply(socket, maxReplyBytes).then(resolve, reject)',
    );
  });

  test('a server that never replies: ETIMEDOUT after timeoutMs', async () => {
    const { port } = await listeningServer();
    const started = performance.now();
    const outcome = await outcomeOf(
      { port, message: 'hello?', timeoutMs: 100 },
      'start one setTimeout(…, timeoutMs) when the request starts; when it fires, destroy the socket and reject with ETIMEDOUT',
    );
    expectFailure(
      outcome,
      'ETIMEDOUT',
      `no complete reply from 127.0.0.1:${port} within 100 ms (ETIMEDOUT)`,
      'the message the TODO(5) comment gives',
    );
    expect(
      performance.now() - started,
      'the request gave up before timeoutMs (100 ms): start the timer with timeoutMs',
    ).toBeGreaterThanOrEqual(95);
  });

  test('a server that trickles a byte every 20 ms still times out, and the client closes its socket', async () => {
    let closedAtServer: Promise<unknown> = new Promise(() => {});
    const port = await startServer((socket) => {
      const drip = setInterval(() => socket.write('.'), 20);
      socket.on('close', () => clearInterval(drip));
      closeAfterTest(() => clearInterval(drip));
      closedAtServer = new Promise((resolve) => socket.once('close', resolve)); // after any EPIPE
    });
    // 600 ms: an idle timer would fire only if the machine stalled the drip that long.
    const outcome = await outcomeOf(
      { port, message: 'slowly', timeoutMs: 600 },
      'one setTimeout(…, timeoutMs) for the whole request, not socket.setTimeout(): that one counts only ' +
        'silence, and this server is never silent for more than 20 ms',
    );
    expectFailure(
      outcome,
      'ETIMEDOUT',
      `no complete reply from 127.0.0.1:${port} within 600 ms (ETIMEDOUT)`,
      'one setTimeout for the whole request, not socket.setTimeout()',
    );
    await within(closedAtServer, () => ({
      expected: 'the client to close its socket when the time is up',
      hint: 'socket.destroy() in the timer',
    }));
  });

  test('the timer is cleared once the request settles: after a reply, a refusal or a reset', async () => {
    const timers = watchTimers();
    const upper = await replyingServer();
    const refused = await closedPort();
    const resetting = await startServer((socket) => {
      socket.on('data', () => {});
      socket.on('end', () => socket.resetAndDestroy());
    });
    const hint = 'clear the timer when the request settles';
    expectReply(await outcomeOf({ port: upper, message: 'ok' }, hint), 'OK');
    await timers.expectNoneLeft('after the reply');
    expect('error' in (await outcomeOf({ port: refused, message: 'no' }, hint)), 'a refusal rejects').toBe(
      true,
    );
    await timers.expectNoneLeft('after ECONNREFUSED');
    expect('error' in (await outcomeOf({ port: resetting, message: 'rst' }, hint)), 'a reset rejects').toBe(
      true,
    );
    await timers.expectNoneLeft('after ECONNRESET');
  });
});

describe('other servers: Python', () => {
  test.skipIf(!hasCommand('python3'))(
    'a Python server that sends its reply one byte at a time (needs python3)',
    async () => {
      const script = [
        'import socket, sys, time',
        'srv = socket.socket()',
        'srv.bind(("127.0.0.1", 0)); srv.listen(1)',
        'print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)',
        'conn, _ = srv.accept()',
        'conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)',
        'request = b""',
        'while chunk := conn.recv(1024): request += chunk',
        // A pause after each byte, so that the client really reads them one by one.
        'for byte in request.decode().upper().encode(): conn.sendall(bytes([byte])); time.sleep(0.002)',
        'conn.close()',
      ].join('\n');
      const server = startCommand('python3', ['-c', script]);
      await server.listening();
      const outcome = await outcomeOf(
        { port: server.port, message: 'héllo 你好 🎉' },
        "let readReply() resolve the request, on 'end'",
        5_000,
      );
      expectReply(outcome, 'HÉLLO 你好 🎉', 'keep the chunks as Buffers and decode once, on "end"');
    },
  );
});
