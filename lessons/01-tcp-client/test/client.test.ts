import { once } from 'node:events';
import net from 'node:net';
import {
  assertBytes,
  closeAfterTest,
  closedPort,
  hasCommand,
  startCommand,
  startProxy,
  startServer,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import {
  describeFailure,
  openConnection,
  RequestError,
  readReply,
  request,
  sendAndFinish,
} from '#impl/client.ts';

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

/** A client socket from the learner's openConnection(), destroyed after the test. */
function open(port: number): net.Socket {
  const socket = openConnection('127.0.0.1', port);
  closeAfterTest(() => socket.destroy());
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

describe('step 1: connect', () => {
  test('openConnection() returns a socket that connects to the server', async () => {
    const server = await listeningServer();
    const socket = open(server.port);
    expect(socket, 'return the socket from net.connect()').toBeInstanceOf(net.Socket);
    await connected(socket);
    await within(server.first, () => ({ expected: 'the server to see a connection' }));
    expect(socket.remotePort).toBe(server.port);
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
    const port = await startServer((socket) => {
      socket.write('one, ');
      socket.write('two, ');
      setImmediate(() => socket.end('three'));
    });
    expect(await readReply(await connectedSocket(port))).toBe('one, two, three');
  });

  test('a reply cut one byte at a time keeps its multi-byte characters', async () => {
    const port = await startServer((socket) => socket.end('héllo 你好 🎉'));
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'reply' });
    const reply = await readReply(await connectedSocket(proxy.port));
    assertBytes(Buffer.from(reply), 'héllo 你好 🎉', {
      what: 'the reply',
      hint: 'keep the chunks as Buffers and decode once on "end": é is 2 bytes, 你 3, 🎉 4',
    });
  });

  test('a reply longer than maxBytes rejects with EMSGSIZE and closes the socket', async () => {
    const port = await startServer((socket) => socket.end(Buffer.alloc(10_000, 'x')));
    const socket = await connectedSocket(port);
    const error = await readReply(socket, 1000).catch((e: unknown) => e);
    expect(error, 'reject with a RequestError').toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('EMSGSIZE');
    expect((error as RequestError).message).toBe('the reply is longer than 1000 bytes (EMSGSIZE)');
    expect(socket.destroyed, 'destroy the socket: nobody will read the rest').toBe(true);
  });
});

describe('step 4: say what went wrong', () => {
  const error = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

  test('before connecting: `cannot connect to HOST:PORT: <words> (<CODE>)`', () => {
    const failure = describeFailure(error('ECONNREFUSED'), '127.0.0.1:9000', false);
    expect(failure).toBeInstanceOf(RequestError);
    expect(failure.code).toBe('ECONNREFUSED');
    expect(failure.message).toBe('cannot connect to 127.0.0.1:9000: connection refused (ECONNREFUSED)');
  });

  test('once connected: `connection to HOST:PORT failed: <words> (<CODE>)`', () => {
    const failure = describeFailure(error('ECONNRESET'), '127.0.0.1:9000', true);
    expect(failure.code).toBe('ECONNRESET');
    expect(failure.message).toBe(
      'connection to 127.0.0.1:9000 failed: connection reset by peer (ECONNRESET)',
    );
  });
});

describe('step 5: the whole request', () => {
  test('hello → HELLO from an upper-case server', async () => {
    const port = await replyingServer();
    expect(await request({ port, message: 'hello' })).toBe('HELLO');
  });

  test('a reply cut at random places arrives whole', async () => {
    const text = 'Grüße aus Köln, 你好, 🎉🎉🎉 '.repeat(3);
    const port = await replyingServer(() => text);
    const proxy = await startProxy(port, { cut: { maxPiece: 5 } });
    expect(await request({ port: proxy.port, message: 'go' })).toBe(text);
  });

  test('a refused connection rejects with ECONNREFUSED and a clear message', async () => {
    const port = await closedPort();
    const error = await request({ port, message: 'anyone?' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('ECONNREFUSED');
    expect((error as RequestError).message).toBe(
      `cannot connect to 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
    );
  });

  test('a connection reset by the server rejects with ECONNRESET', async () => {
    const port = await startServer((socket) => {
      socket.on('data', () => {});
      socket.on('end', () => socket.resetAndDestroy());
    });
    const error = await request({ port, message: 'boom' }).catch((e: unknown) => e);
    expect((error as RequestError).code).toBe('ECONNRESET');
    expect((error as RequestError).message).toBe(
      `connection to 127.0.0.1:${port} failed: connection reset by peer (ECONNRESET)`,
    );
  });

  test('a server that never replies: ETIMEDOUT after timeoutMs', async () => {
    const { port } = await listeningServer();
    const started = performance.now();
    const error = await request({ port, message: 'hello?', timeoutMs: 100 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect((error as RequestError).code).toBe('ETIMEDOUT');
    expect((error as RequestError).message).toBe(
      `no complete reply from 127.0.0.1:${port} within 100 ms (ETIMEDOUT)`,
    );
  });

  test('a server that trickles a byte every 20 ms still times out, and the client closes its socket', async () => {
    let closedAtServer: Promise<unknown> = new Promise(() => {});
    const port = await startServer((socket) => {
      const drip = setInterval(() => socket.write('.'), 20);
      socket.on('close', () => clearInterval(drip));
      closeAfterTest(() => clearInterval(drip));
      closedAtServer = new Promise((resolve) => socket.once('close', resolve)); // after any EPIPE
    });
    const started = performance.now();
    const error = await request({ port, message: 'slowly', timeoutMs: 120 }).catch((e: unknown) => e);
    expect(
      (error as RequestError).code,
      'one setTimeout for the whole request, not socket.setTimeout()',
    ).toBe('ETIMEDOUT');
    expect(performance.now() - started).toBeLessThan(1_000);
    await within(closedAtServer, () => ({
      expected: 'the client to close its socket when the time is up',
      hint: 'socket.destroy() in the timer',
    }));
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
      const reply = await request({ port: server.port, message: 'héllo 你好 🎉' });
      assertBytes(Buffer.from(reply), 'HÉLLO 你好 🎉', { what: 'the reply' });
    },
  );
});
