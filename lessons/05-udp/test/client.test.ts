import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import {
  assertBytes,
  closeAfterTest,
  lessonOf,
  startUdpProxy,
  startUdpServer,
  udpPeer,
  unlessTodo,
  WireError,
  within,
} from '@course/helpers';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { encodeMessage, MAX_PAYLOAD, RequestError, request, sendDatagram } from '#impl/client.ts';

/** A UDP server that answers each datagram to its sender in upper case. */
const upperServer = () => startUdpServer((bytes) => bytes.toString('utf8').toUpperCase());

const lesson = lessonOf(import.meta.url);

const hasIPv6Loopback = Object.values(networkInterfaces()).some((list) =>
  list?.some((i) => i.address === '::1'),
);

/** Whether this machine routes 127.0.0.2 to loopback (Linux does; macOS only once configured). */
const canBind127_0_0_2 = await new Promise<boolean>((resolve) => {
  const socket = dgram.createSocket('udp4');
  socket.once('error', () => resolve(false));
  socket.bind({ address: '127.0.0.2', port: 0 }, () => socket.close(() => resolve(true)));
});

/** Short waits where datagrams are lost: each resend costs one of these. */
const QUICK = { timeoutMs: 100 };

/** Where nothing is lost: a first try that fails means a reply that went astray, not a slow machine. */
const NO_LOSS = { timeoutMs: 1_000 };

/**
 * The client's request, bounded: a client that never gives up (no timer) fails here, clearly,
 * instead of hanging the test run.
 */
function bounded<T>(promise: Promise<T>, expected: string, ms = 2_500): Promise<T> {
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

/**
 * Runs `request` and checks it resolves with `expected` (bounded; a rejection is shown with `hint`).
 */
async function expectReply(promise: Promise<string>, expected: string, hint: string): Promise<void> {
  const outcome = await bounded(
    promise.then(
      (reply) => ({ reply }),
      (error: unknown) => ({ error }),
    ),
    `the reply ${JSON.stringify(expected)}`,
  );
  if ('error' in outcome) {
    throw new WireError('request() rejected instead of resolving with the reply', {
      expected: JSON.stringify(expected),
      received: String(outcome.error),
      hint: unlessTodo(outcome.error, hint),
    });
  }
  assertBytes(Buffer.from(outcome.reply), expected, { what: 'the reply', hint });
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

/** A stack frame in the lesson's own code (exercise/, solution/, …), not in its tests. */
const LESSON_CODE = /[\\/]lessons[\\/]05-udp[\\/](?!test[\\/])/;

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
    // Only the client's sockets, those sent from by the lesson's code: the test's own (the
    // proxy's, say) are not its business, wherever the harness's code is loaded from.
    if (!sockets.has(this) && LESSON_CODE.test(new Error().stack ?? '')) {
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

/** Resolves once `condition()` holds, checked every 5 ms, or after `ms` anyway. */
async function until(condition: () => boolean, ms = 1_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('step 4: one message, one datagram', () => {
  test('a message is encoded as UTF-8', () => {
    const bytes = encodeMessage('héllo 你好');
    assertBytes(bytes, 'héllo 你好', { what: 'encodeMessage("héllo 你好")' });
    assertBytes(encodeMessage(new Uint8Array([1, 2, 3])), new Uint8Array([1, 2, 3]), {
      what: 'encodeMessage(new Uint8Array([1, 2, 3]))',
      hint: 'bytes are sent as they are: Buffer.from(message)',
    });
    expect(encodeMessage('').length, 'an empty message is an empty datagram').toBe(0);
  });

  test(`${MAX_PAYLOAD} bytes fit; one more is refused with EMSGSIZE, counting bytes, not characters`, () => {
    expect(
      (() => {
        try {
          return encodeMessage('a'.repeat(MAX_PAYLOAD)).length;
        } catch (e) {
          return String(e);
        }
      })(),
      `${MAX_PAYLOAD} bytes fit in one datagram: refuse only more (>)`,
    ).toBe(MAX_PAYLOAD);
    // é is 2 bytes: 32 754 characters are 65 508 bytes.
    const error = (() => {
      try {
        encodeMessage('é'.repeat(32_754));
      } catch (e) {
        return e;
      }
    })();
    expect(
      error,
      'throw a RequestError when the bytes do not fit: count bytes (Buffer.from(message).length), not characters',
    ).toBeInstanceOf(RequestError);
    expect((error as RequestError).name, "the RequestError's name, which a stack trace shows first").toBe(
      'RequestError',
    );
    expect((error as RequestError).code, "the RequestError's code").toBe('EMSGSIZE');
    expect((error as RequestError).message, 'the message the TODO(4) comment gives').toBe(
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
    await expectReply(
      request({ port: server.port, message: 'hello', ...NO_LOSS }),
      'HELLO',
      "listen for 'message' before sending, and resolve with the server's reply decoded as UTF-8",
    );
  });

  test('héllo 你好 → HÉLLO 你好, and an empty message gets an empty reply', async () => {
    const server = await upperServer();
    const replies = await bounded(
      Promise.all([
        request({ port: server.port, message: 'héllo 你好', ...NO_LOSS }),
        request({ port: server.port, message: '', ...NO_LOSS }),
      ]),
      'two replies',
    );
    expect(replies, "each request resolves with its own reply, decoded as UTF-8; an empty one is ''").toEqual(
      ['HÉLLO 你好', ''],
    );
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
    await expectReply(
      request({ port: server.port, message: 'who is there?', ...NO_LOSS }),
      'WHO IS THERE?',
      'compare the sender (address and port) with the server’s: a stranger wrote first',
    );
  });

  test.skipIf(!canBind127_0_0_2)(
    "a datagram from the server's port on another address is ignored: compare the address too (needs 127.0.0.2)",
    async () => {
      const server = await startUdpServer();
      // All of 127.0.0.0/8 is loopback on Linux: an impostor can hold the server's port number
      // on 127.0.0.2, and its datagrams then differ from the server's by the address alone.
      const impostor = dgram.createSocket('udp4');
      closeAfterTest(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
      await new Promise<void>((resolve, reject) => {
        impostor.once('error', reject);
        impostor.bind({ address: '127.0.0.2', port: server.port }, () => resolve());
      });
      server.socket.on('message', (bytes, from) => {
        // First the impostor writes to the client's port, then the server answers.
        impostor.send('I AM NOT THE SERVER', from.port, from.address, () =>
          server.socket.send(bytes.toString().toUpperCase(), from.port, from.address, () => {}),
        );
      });
      await expectReply(
        request({ port: server.port, message: 'same port?', ...NO_LOSS }),
        'SAME PORT?',
        "compare both: sender.address === server.address && sender.port === port. The impostor wrote from the server's port, on 127.0.0.2",
      );
    },
  );

  test.skipIf(!hasIPv6Loopback)(
    'an IPv6 server (::1) is asked from a udp6 socket (needs IPv6 loopback)',
    async () => {
      const server = await udpPeer('::1');
      server.socket.on('message', (bytes, from) => {
        server.socket.send(bytes.toString().toUpperCase(), from.port, from.address, () => {});
      });
      await expectReply(
        request({ host: '::1', port: server.port, message: 'over ipv6', ...NO_LOSS }),
        'OVER IPV6',
        "create the socket with the server's family: dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4')",
      );
    },
  );

  test('a host name that cannot be looked up rejects with a RequestError that names it', async () => {
    // Longer than the 255 characters a host name may have: refused before any DNS query is sent.
    const host = 'x'.repeat(300);
    const error = await rejection(request({ host, port: 9, message: 'hello', ...QUICK }), 'a lookup failure');
    expect(error.code, "the lookup's own code").toBe('EINVAL');
    expect(error.message, 'resolveServer() words it: `cannot resolve HOST: ...`').toMatch(
      new RegExp(`^cannot resolve ${host}: .+ \\(EINVAL\\)$`),
    );
  });

  test('a reply sent twice is taken once', async () => {
    const server = await startUdpServer((bytes) => [
      bytes.toString().toUpperCase(),
      'A SECOND, DIFFERENT REPLY',
    ]);
    await expectReply(
      request({ port: server.port, message: 'once', ...NO_LOSS }),
      'ONCE',
      'the first reply settles the request: a promise settles once, later datagrams change nothing',
    );
  });

  test('a send the kernel refuses rejects at once with its error, not ETIMEDOUT', async () => {
    // A broadcast address, and the socket has no SO_BROADCAST: the kernel refuses the datagram
    // (EACCES; ENETUNREACH on a machine with no route for it). The only word of it is send()'s.
    const error = await rejection(
      request({ host: '255.255.255.255', port: 9, message: 'to everyone?', timeoutMs: 1_000, retries: 0 }),
      'request() to reject with the error of the send',
    );
    expect(
      error.code,
      'pass the rejection of sendDatagram() to failed(): sendDatagram(...).catch(failed). ' +
        'Otherwise the error is lost and the request waits for a reply to a datagram that never left',
    ).not.toBe('ETIMEDOUT');
    expect(error.message, 'failed() words it: `request to HOST:PORT failed: ...`').toMatch(
      /^request to 255\.255\.255\.255:9 failed: /,
    );
    expect(error.code, "failed() keeps the send's own code (EACCES; ENETUNREACH with no route)").toMatch(
      /^(EACCES|ENETUNREACH)$/,
    );
  });
});

describe('step 7: send again when no reply comes', () => {
  test('no reply: ETIMEDOUT after timeoutMs, with a clear message', async () => {
    const server = await startUdpServer(); // receives, never answers
    const started = performance.now();
    const error = await rejection(
      request({ port: server.port, message: 'anyone?', timeoutMs: 80, retries: 0 }),
      'request() to give up after one attempt',
    );
    expect(error.code, "the RequestError's code").toBe('ETIMEDOUT');
    expect(error.message, 'the message the TODO(7) comment gives').toBe(
      `no reply from 127.0.0.1:${server.port} after 1 attempt, 80 ms each (ETIMEDOUT)`,
    );
    expect(
      performance.now() - started,
      'the request gave up before timeoutMs (80 ms): start the timer with timeoutMs',
    ).toBeGreaterThanOrEqual(75);
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
    expect(tooBig.code, 'a message too big is refused by encodeMessage() (step 4), before any socket').toBe(
      'EMSGSIZE',
    );
    expect(
      silent.received.filter((d) => d.bytes.length > 1000),
      'nothing sent when too big',
    ).toHaveLength(0);
    await sockets.expectAllClosed();
  });

  test('the first two requests are dropped: the third try gets the reply', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, {
      rules: [{ action: 'drop', direction: 'request', first: 2 }],
    });
    await expectReply(
      request({ port: proxy.port, message: 'third time lucky', ...QUICK }),
      'THIRD TIME LUCKY',
      'when the timer fires with no reply, send the same bytes again and start a new timer: 1 + retries tries in all',
    );
    expect(proxy.count('request'), 'one datagram per try').toBeGreaterThanOrEqual(3);
  });

  test('the first reply is dropped: sending again gets another', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, {
      rules: [{ action: 'drop', direction: 'reply', first: 1 }],
    });
    await expectReply(
      request({ port: proxy.port, message: 'again', ...QUICK }),
      'AGAIN',
      'a lost reply looks like a lost request: when the timer fires, send again',
    );
    expect(server.received.length, 'the server saw the request twice').toBeGreaterThanOrEqual(2);
  });

  test('every reply duplicated: the reply is taken once', async () => {
    const server = await upperServer();
    const proxy = await startUdpProxy(server.port, { rules: [{ action: 'duplicate', direction: 'reply' }] });
    await expectReply(
      request({ port: proxy.port, message: 'echo', ...QUICK }),
      'ECHO',
      'the first copy of the reply settles the request; the second changes nothing',
    );
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
    expect(error.code, "the RequestError's code").toBe('ETIMEDOUT');
    expect(error.message, 'count the attempts: `after 3 attempts`').toBe(
      `no reply from 127.0.0.1:${proxy.port} after 3 attempts, 40 ms each (ETIMEDOUT)`,
    );
    // The last try may still be on its way to the proxy when the request gives up.
    await until(() => proxy.count('request') >= 3);
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
    expect(replies, 'each request resolves with the reply to its own message').toEqual(
      words.map((w) => w.toUpperCase()),
    );
  });
});
