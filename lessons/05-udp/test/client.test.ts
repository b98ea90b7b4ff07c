import dgram from 'node:dgram';
import {
  assertBytes,
  closeAfterTest,
  lessonOf,
  startUdpProxy,
  startUdpServer,
  udpPeer,
  within,
} from '@course/helpers';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { encodeMessage, MAX_PAYLOAD, RequestError, request, sendDatagram } from '#impl/client.ts';

/** A UDP server that answers each datagram to its sender in upper case. */
const upperServer = () => startUdpServer((bytes) => bytes.toString('utf8').toUpperCase());

const lesson = lessonOf(import.meta.url);

/** Short waits: each resend costs one of these. */
const QUICK = { timeoutMs: 50 };

/**
 * The client's request, bounded: a client that never gives up (no timer) fails here, clearly,
 * instead of hanging the test run.
 */
function bounded<T>(promise: Promise<T>, expected: string, ms = 1_500): Promise<T> {
  return within(
    promise,
    () => ({
      expected,
      received: 'nothing: request() had neither resolved nor rejected',
      hint: 'a lost datagram is never answered: start a timer when you send, and send again or give up when it fires',
      repro: `${lesson.command('client', ['--port', '9001', '--timeout', '300', 'hello'])}     # nothing listens on 9001: 4 tries, then exit 1`,
    }),
    { ms },
  );
}

/** Runs `request` and returns what it rejected with (fails if it resolves). */
async function rejection(promise: Promise<string>, expected: string): Promise<RequestError> {
  const outcome = await bounded(
    promise.then(
      (reply) => ({ reply }),
      (error: unknown) => ({ error }),
    ),
    expected,
  );
  if (!('error' in outcome))
    throw new Error(`expected a rejection, but request() resolved with ${JSON.stringify(outcome.reply)}`);
  expect(outcome.error, 'reject with a RequestError').toBeInstanceOf(RequestError);
  return outcome.error as RequestError;
}

/**
 * Every UDP socket the client sends from during a test, to check that each is closed once its
 * request has settled. (socket.send is watched on the prototype, whatever the import style.)
 */
function watchSockets() {
  const sockets = new Map<dgram.Socket, { closed: boolean }>();
  const send = dgram.Socket.prototype.send;
  vi.spyOn(dgram.Socket.prototype, 'send').mockImplementation(function (
    this: dgram.Socket,
    ...args: unknown[]
  ) {
    // Throws on a socket closed already: that one is not watched.
    const result = Reflect.apply(send, this, args);
    // The test's own sockets (the proxy's, say) are not the client's business.
    if (!sockets.has(this) && !new Error().stack?.includes('/packages/helpers/')) {
      const entry = { closed: false };
      sockets.set(this, entry);
      this.once('close', () => {
        entry.closed = true;
      });
    }
    return result;
  } as typeof send);
  return {
    /** Checks, once the request has settled, that its sockets are closed. */
    async expectAllClosed() {
      await new Promise((resolve) => setImmediate(resolve)); // 'close' is emitted on the next tick
      expect(sockets.size, 'the client should have sent from a socket').toBeGreaterThan(0);
      const open = [...sockets.values()].filter((s) => !s.closed).length;
      expect(open, 'close the socket when the request settles, whatever happened (try ... finally)').toBe(0);
    },
  };
}

/**
 * The timers the client starts (setTimeout is watched; only calls from the lesson's own code,
 * not from its tests or the harness, count) and how many of them are still waiting to fire.
 */
function watchTimers() {
  const waiting = new Set<unknown>();
  const clientCode = new RegExp(`${lesson.dir}/(?!test/)`);
  const set = globalThis.setTimeout;
  const clear = globalThis.clearTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
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
    if (clientCode.test(new Error().stack ?? '')) waiting.add(timer);
    return timer;
  }) as typeof setTimeout);
  vi.spyOn(globalThis, 'clearTimeout').mockImplementation((timer) => {
    waiting.delete(timer);
    clear(timer);
  });
  return { waiting: () => waiting.size };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('step 4: one message, one datagram', () => {
  test('a message is encoded as UTF-8', () => {
    const bytes = encodeMessage('héllo 你好');
    assertBytes(bytes, 'héllo 你好', { what: 'encodeMessage("héllo 你好")' });
    expect(encodeMessage(new Uint8Array([1, 2, 3]))).toEqual(Buffer.from([1, 2, 3]));
    expect(encodeMessage('').length, 'an empty message is an empty datagram').toBe(0);
  });

  test(`${MAX_PAYLOAD} bytes fit; one more is refused with EMSGSIZE, counting bytes, not characters`, () => {
    expect(encodeMessage('a'.repeat(MAX_PAYLOAD)).length).toBe(MAX_PAYLOAD);
    // é is 2 bytes: 32 754 characters are 65 508 bytes.
    const error = (() => {
      try {
        encodeMessage('é'.repeat(32_754));
      } catch (e) {
        return e;
      }
    })();
    expect(error, 'throw a RequestError when the bytes do not fit').toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('EMSGSIZE');
    expect((error as RequestError).message).toBe(
      'the message is 65508 bytes, more than the 65507 one UDP datagram can carry (EMSGSIZE)',
    );
  });
});

describe('step 5: send a datagram, with a callback', () => {
  test('sendDatagram() delivers exactly the bytes, as one datagram, and resolves', async () => {
    const server = await startUdpServer();
    const socket = dgram.createSocket('udp4');
    closeAfterTest(() => socket.close());
    await sendDatagram(socket, Buffer.from('héllo 你好'), server.port, '127.0.0.1');
    await sendDatagram(socket, Buffer.alloc(0), server.port, '127.0.0.1');
    const [first, second] = await server.datagrams(2, {
      hint: 'socket.send(bytes, port, address, callback)',
    });
    assertBytes(first?.bytes ?? Buffer.alloc(0), 'héllo 你好', { what: 'the first datagram' });
    expect(second?.bytes.length, 'an empty datagram is sent too').toBe(0);
  });

  test('a datagram the kernel refuses (65 508 bytes) rejects with EMSGSIZE: the callback is the only way to know', async () => {
    const server = await startUdpServer();
    const socket = dgram.createSocket('udp4');
    closeAfterTest(() => socket.close());
    const outcome = await within(
      sendDatagram(socket, Buffer.alloc(MAX_PAYLOAD + 1), server.port, '127.0.0.1').then(
        () => 'resolved',
        (error: NodeJS.ErrnoException) => error.code,
      ),
      () => ({
        expected: 'sendDatagram() to settle',
        hint: 'resolve or reject in the callback of socket.send()',
      }),
    );
    expect(
      outcome,
      'send() without a callback loses this error in silence: pass one, and reject with its error',
    ).toBe('EMSGSIZE');
  });
});

describe('step 6: the first try: send, and take the server’s reply', () => {
  test('hello → HELLO', async () => {
    const server = await upperServer();
    expect(await bounded(request({ port: server.port, message: 'hello', ...QUICK }), 'the reply HELLO')).toBe(
      'HELLO',
    );
  });

  test('héllo 你好 → HÉLLO 你好, and an empty message gets an empty reply', async () => {
    const server = await upperServer();
    const replies = await bounded(
      Promise.all([
        request({ port: server.port, message: 'héllo 你好', ...QUICK }),
        request({ port: server.port, message: '', ...QUICK }),
      ]),
      'two replies',
    );
    expect(replies).toEqual(['HÉLLO 你好', '']);
  });

  test('a datagram from anyone but the server is ignored', async () => {
    const stranger = await udpPeer();
    const server = await startUdpServer();
    server.socket.on('message', (bytes, from) => {
      // First a stranger writes to the client's port, then the server answers.
      stranger.send('I am not the server', from.port).then(
        () => server.socket.send(bytes.toString().toUpperCase(), from.port, from.address, () => {}),
        () => {},
      );
    });
    const reply = await bounded(
      request({ port: server.port, message: 'who is there?', ...QUICK }),
      'the reply',
    );
    expect(reply, 'compare the sender (address and port) with the server’s').toBe('WHO IS THERE?');
  });

  test('a reply sent twice is taken once', async () => {
    const server = await startUdpServer((bytes) => [
      bytes.toString().toUpperCase(),
      'A SECOND, DIFFERENT REPLY',
    ]);
    const reply = await bounded(request({ port: server.port, message: 'once', ...QUICK }), 'the reply');
    expect(reply).toBe('ONCE');
  });

  test('no reply: ETIMEDOUT after timeoutMs, with a clear message', async () => {
    const server = await startUdpServer(); // receives, never answers
    const started = performance.now();
    const error = await rejection(
      request({ port: server.port, message: 'anyone?', timeoutMs: 80, retries: 0 }),
      'request() to give up after one attempt',
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toBe(
      `no reply from 127.0.0.1:${server.port} after 1 attempt, 80 ms each (ETIMEDOUT)`,
    );
  });

  test('the socket is closed and no timer is left, whether the request succeeds, times out or is refused', async () => {
    const server = await upperServer();
    const silent = await startUdpServer();
    const sockets = watchSockets();
    const timers = watchTimers();
    expect(await bounded(request({ port: server.port, message: 'ok', timeoutMs: 500 }), 'the reply')).toBe(
      'OK',
    );
    expect(timers.waiting(), 'clear the timer once the reply is in (clearTimeout)').toBe(0);
    await rejection(request({ port: silent.port, message: 'lost', timeoutMs: 30, retries: 0 }), 'a time-out');
    const tooBig = await rejection(
      request({ port: server.port, message: 'x'.repeat(MAX_PAYLOAD + 1), ...QUICK }),
      'EMSGSIZE',
    );
    expect(tooBig.code).toBe('EMSGSIZE');
    expect(
      silent.received.filter((d) => d.bytes.length > 1000),
      'nothing sent when too big',
    ).toHaveLength(0);
    await sockets.expectAllClosed();
  });
});

describe('step 7: send again when no reply comes', () => {
  test('the first two requests are dropped: the third try gets the reply', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, {
      rules: [{ action: 'drop', direction: 'request', first: 2 }],
    });
    const reply = await bounded(
      request({ port: proxy.port, message: 'third time lucky', ...QUICK }),
      'the reply, after two resends',
    );
    expect(reply).toBe('THIRD TIME LUCKY');
    expect(proxy.count('request'), 'one datagram per try').toBeGreaterThanOrEqual(3);
  });

  test('the first reply is dropped: sending again gets another', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, {
      rules: [{ action: 'drop', direction: 'reply', first: 1 }],
    });
    const reply = await bounded(
      request({ port: proxy.port, message: 'again', ...QUICK }),
      'the reply, after a resend',
    );
    expect(reply).toBe('AGAIN');
    expect(server.received.length, 'the server saw the request twice').toBeGreaterThanOrEqual(2);
  });

  test('every reply duplicated: the reply is taken once', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, { rules: [{ action: 'duplicate', direction: 'reply' }] });
    const reply = await bounded(request({ port: proxy.port, message: 'echo', ...QUICK }), 'the reply');
    expect(reply).toBe('ECHO');
  });

  test('everything dropped: after 1 + retries tries, ETIMEDOUT, and the socket is closed', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, { rules: [{ action: 'drop', direction: 'request' }] });
    const sockets = watchSockets();
    const started = performance.now();
    const error = await rejection(
      request({ port: proxy.port, message: 'hello?', timeoutMs: 40, retries: 2 }),
      'request() to give up after 3 attempts',
    );
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toBe(
      `no reply from 127.0.0.1:${proxy.port} after 3 attempts, 40 ms each (ETIMEDOUT)`,
    );
    expect(proxy.count('request'), 'the first try and 2 resends: 3 datagrams').toBe(3);
    expect(performance.now() - started, 'wait timeoutMs after each try').toBeGreaterThanOrEqual(115);
    await sockets.expectAllClosed();
  });

  test('a lossy network at random (seeded): every request still gets its own reply', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, {
      random: { drop: 0.2, duplicate: 0.2, reorder: 0.2 },
      holdMs: 10,
    });
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
    const replies = await bounded(
      Promise.all(
        words.map((word) => request({ port: proxy.port, message: word, timeoutMs: 40, retries: 10 })),
      ),
      'five replies',
    );
    expect(replies).toEqual(words.map((w) => w.toUpperCase()));
  });
});
