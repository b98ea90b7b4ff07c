import net from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import {
  assertBytes,
  closeAfterTest,
  connect,
  hasCommand,
  LogLines,
  Peer,
  reproLines,
  reproSetup,
  runCommand,
  startProxy,
  trickle,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import {
  formatResponse,
  type HttpResponse,
  headEnd,
  MAX_HEAD_BYTES,
  PAGE,
  respondTo,
  textResponse,
  WebServer,
} from '#impl/server.ts';
import { closeServerAfterTest, expectResponse, GET, httpExchange, parseResponse } from './support.ts';

const HTML = 'text/html; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';
/** Thu, 02 Jan 2025 03:04:05 GMT */
const NOW = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));

/** The learner's WebServer on a free port, with its log lines collected. */
async function startWeb(options: { requestTimeoutMs?: number } = {}) {
  const log = new LogLines();
  const web = new WebServer({ log: log.add, ...options });
  closeServerAfterTest(web.server);
  const { port } = await web.start();
  return { web, port, log, url: `http://127.0.0.1:${port}` };
}

/** The value of a header of a response object, whatever the case of its name. */
function header(response: HttpResponse, name: string): string | undefined {
  const key = Object.keys(response.headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : response.headers[key];
}

describe('step 4: formatResponse() writes a response as bytes', () => {
  test('status line, headers, an empty line and the body; Content-Length counts bytes', () => {
    const body = 'héllo 你好\n'; // 9 characters, 14 bytes
    const raw = formatResponse({ status: 200, headers: { 'Content-Type': TEXT }, body, sendBody: true }, NOW);
    expectResponse(parseResponse(raw), {
      statusLine: 'HTTP/1.1 200 OK',
      headers: { 'Content-Type': TEXT, Connection: 'close', Date: 'Thu, 02 Jan 2025 03:04:05 GMT' },
      body,
    });
  });

  test('without the body (HEAD): the same head, Content-Length of the body not sent', () => {
    expect(
      Buffer.byteLength(PAGE),
      'PAGE, as given: its "—" and "你好" take more bytes than characters, so Content-Length must count bytes',
    ).toBeGreaterThan(PAGE.length);
    const raw = formatResponse(
      { status: 200, headers: { 'Content-Type': HTML }, body: PAGE, sendBody: false },
      NOW,
    );
    const response = parseResponse(raw);
    expect(
      response.headers.get('content-length'),
      "a response to HEAD has the same Content-Length as GET's: count the body's bytes even when sendBody is false",
    ).toBe(String(Buffer.byteLength(PAGE)));
    assertBytes(response.body, '', {
      what: 'the body of a response to HEAD',
      hint: 'sendBody: false sends no body',
    });
  });

  test('every status has its reason phrase, and the extra headers come through', () => {
    const raw = formatResponse(textResponse(405, { Allow: 'GET, HEAD' }), NOW);
    expectResponse(parseResponse(raw), {
      statusLine: 'HTTP/1.1 405 Method Not Allowed',
      headers: { Allow: 'GET, HEAD', 'Content-Type': TEXT, Connection: 'close' },
      body: '405 Method Not Allowed\n',
    });
    const reasons: Record<number, string> = {
      400: 'Bad Request',
      404: 'Not Found',
      408: 'Request Timeout',
      431: 'Request Header Fields Too Large',
    };
    for (const [status, reason] of Object.entries(reasons)) {
      expect(
        parseResponse(formatResponse(textResponse(Number(status)), NOW)).statusLine,
        'the status line is `HTTP/1.1 <status> <STATUS_TEXT[status]>`',
      ).toBe(`HTTP/1.1 ${status} ${reason}`);
    }
  });
});

describe('step 5: respondTo() chooses the response', () => {
  test('GET / gets the page as text/html; charset=utf-8', () => {
    const response = respondTo(GET);
    expect(response.status, 'GET / is answered 200').toBe(200);
    expect(header(response, 'Content-Type'), 'the page is HTML in UTF-8').toBe(HTML);
    expect(response.body, 'the body of GET / is PAGE').toBe(PAGE);
    expect(response.sendBody, 'a response to GET sends its body (sendBody: true)').toBe(true);
  });

  test('any other path gets 404 (a query string does not change the path)', () => {
    for (const path of ['/favicon.ico', '/index.html']) {
      expect(
        respondTo(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`).status,
        `GET ${path}: only / is the page`,
      ).toBe(404);
    }
    expect(respondTo('GET /?lang=en HTTP/1.1\r\nHost: x\r\n\r\n').status, 'the path of /?lang=en is /').toBe(
      200,
    );
  });

  test('HEAD is GET without the body', () => {
    const head = respondTo('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(head.status, 'HEAD / is answered like GET /: 200').toBe(200);
    expect(head.body, 'keep the body: formatResponse() counts it for Content-Length').toBe(PAGE);
    expect(head.sendBody, 'for HEAD, return the same response with sendBody: false').toBe(false);
    const missing = respondTo('HEAD /nope HTTP/1.1\r\n\r\n');
    expect(
      { status: missing.status, sendBody: missing.sendBody },
      'HEAD /nope is answered like GET /nope (404), without its body (sendBody: false)',
    ).toEqual({ status: 404, sendBody: false });
  });

  test('other methods get 405 with Allow: GET, HEAD', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const response = respondTo(`${method} / HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(response.status, method).toBe(405);
      expect(header(response, 'Allow'), method).toBe('GET, HEAD');
    }
  });

  test('what is not HTTP/1.x gets 400; lines may end in a bare \\n', () => {
    const bad = [
      'hello\r\n\r\n',
      'GET /\r\n\r\n',
      'GET / HTTP/2\r\n\r\n',
      'GET  / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nno colon here\r\n\r\n',
      'POST / HTTP/1.1\r\nno colon here\r\n\r\n', // 400 before 405: check the head first
      'GET /\x1b[2J HTTP/1.1\r\n\r\n', // a control character in the target
      ' GET / HTTP/1.1\r\n\r\n', // something before the method: the whole line must match
      'GET / HTTP/1.1\r\nBad Header: x\r\n\r\n', // a space in a header name: the name starts the line
      'GET / HTTP/1.1 junk\r\n\r\n', // after the version, nothing: the whole line must match
      'GET / HTTP/1.1\r\nno colon here', // a head given without its blank line: every line is checked
      '\r\n\r\n',
    ];
    for (const head of bad) {
      expect(
        respondTo(head).status,
        `${JSON.stringify(head)} is not an HTTP/1.x head: check the request line with REQUEST_LINE and each header line with HEADER_LINE, before the method`,
      ).toBe(400);
    }
    expect(respondTo('GET / HTTP/1.0\nHost: x\n\n').status, 'bare \\n line endings, HTTP/1.0').toBe(200);
  });

  test('headEnd() finds the blank line, CRLF or bare LF, whichever comes first', () => {
    const cases: [string, number][] = [
      ['GET / HTTP/1.1\r\nHost: x\r\n', -1],
      ['GET / HTTP/1.1\r\n\r\n', 18],
      ['GET / HTTP/1.1\n\n', 16],
      ['GET / HTTP/1.1\nA: b\n\nX\r\n\r\n', 21],
      ['GET / HTTP/1.1\r\n\r\nX\n\n', 18],
    ];
    for (const [bytes, end] of cases) {
      expect(
        headEnd(Buffer.from(bytes)),
        `headEnd(${JSON.stringify(bytes)}): the index just past the blank line`,
      ).toBe(end);
    }
  });
});

describe('step 6: the WebServer answers real HTTP clients', () => {
  test("Node's fetch() gets the page, 404, HEAD and 405 right", async () => {
    const { url, log } = await startWeb();
    const [page, favicon, head, post] = await Promise.all([
      fetch(`${url}/`),
      fetch(`${url}/favicon.ico`),
      fetch(`${url}/`, { method: 'HEAD' }),
      fetch(`${url}/`, { method: 'POST', body: 'x=1' }),
    ]);
    const hint = 'answer socket.end(formatResponse(respondTo(head))) once the head is in';
    expect(page.status, `GET /: ${hint}`).toBe(200);
    expect(page.headers.get('content-type'), 'GET /: Content-Type').toBe(HTML);
    expect(page.headers.get('content-length'), 'GET /: Content-Length, in bytes').toBe(
      String(Buffer.byteLength(PAGE)),
    );
    expect(page.headers.get('connection'), 'GET /: Connection').toBe('close');
    expect(await page.text(), 'GET /: the body').toBe(PAGE);
    expect(favicon.status, `GET /favicon.ico: ${hint}`).toBe(404);
    await favicon.arrayBuffer();
    expect(head.status, `HEAD /: ${hint}`).toBe(200);
    expect(head.headers.get('content-length'), 'HEAD /: the Content-Length of the page').toBe(
      String(Buffer.byteLength(PAGE)),
    );
    expect(await head.text(), 'HEAD /: no body').toBe('');
    expect(post.status, `POST /: ${hint}`).toBe(405);
    expect(post.headers.get('allow'), 'POST /: the Allow header').toBe('GET, HEAD');
    await post.arrayBuffer();
    for (const request of ['GET / 200', 'GET /favicon.ico 404', 'HEAD / 200', 'POST / 405']) {
      await log.line(
        new RegExp(`^127\\.0\\.0\\.1:\\d+ ${request.replace(/[/.]/g, '\\$&')}$`),
        `a log line \`127.0.0.1:PORT ${request}\`: the request line without its version, then the status`,
      );
    }
  });

  test.skipIf(!hasCommand('curl'))('curl -i shows a correct response (needs curl)', async () => {
    const { url } = await startWeb();
    const stdout = await runCommand('curl', ['-sS', '-i', `${url}/`]);
    expectResponse(
      parseResponse(stdout, "curl's output"),
      { statusLine: 'HTTP/1.1 200 OK', headers: { 'Content-Type': HTML, Connection: 'close' }, body: PAGE },
      "curl's output",
    );
  });

  test('a head with bare \\n line endings, as `nc` sends what you type, gets the page and is logged like any other', async () => {
    const { port, log } = await startWeb();
    const raw = await httpExchange(port, 'GET / HTTP/1.1\nHost: 127.0.0.1\n\n');
    expectResponse(parseResponse(raw, 'the answer to a bare-LF head'), {
      statusLine: 'HTTP/1.1 200 OK',
      headers: { 'Content-Type': HTML, Connection: 'close' },
      body: PAGE,
    });
    await log.line(
      /^127\.0\.0\.1:\d+ GET \/ 200$/,
      'a log line `127.0.0.1:PORT GET / 200`: the request line without its version',
    );
  });

  test('the head may arrive one byte at a time', async () => {
    const { port } = await startWeb();
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    const hint = 'one "data" event is not the whole head: keep the chunks until the empty line arrives';
    // By hand, the same cut: one byte every 10 ms (all at once, loopback would hide the bug).
    reproSetup({ trickleMs: 10 });
    const raw = await httpExchange(proxy.port, GET, { hint });
    expectResponse(parseResponse(raw), {
      statusLine: 'HTTP/1.1 200 OK',
      body: PAGE,
      hint,
      repro: reproLines(Buffer.from(GET), port),
    });
  });

  test('a head cut at random places, with more headers, gets the page', async () => {
    const { port } = await startWeb();
    const proxy = await startProxy(port, { cut: { maxPiece: 6 }, direction: 'request' });
    reproSetup({ trickleMs: 10 });
    const request =
      'GET /?from=test HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: lesson-03\r\nAccept: text/html\r\n' +
      'Accept-Language: en\r\n\r\n';
    expectResponse(parseResponse(await httpExchange(proxy.port, request)), {
      statusLine: 'HTTP/1.1 200 OK',
      body: PAGE,
    });
  });

  test('not HTTP gets 400; a client that half-closes before the empty line gets 400', async () => {
    const { port, log } = await startWeb();
    const finOnly = await connect(port); // connects and leaves without a byte: nothing to answer
    const cutShort = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    const [garbage, unfinished] = await Promise.all([
      httpExchange(port, 'hello\r\n\r\n'),
      httpExchange(port, cutShort, {
        finish: true,
        hint: "answer 400 in the 'end' handler when a head was started but never finished",
      }),
    ]);
    expectResponse(parseResponse(garbage, 'the answer to `hello`'), {
      statusLine: 'HTTP/1.1 400 Bad Request',
      repro: reproLines(Buffer.from('hello\r\n\r\n'), port),
    });
    expectResponse(
      parseResponse(unfinished, 'the answer to a head cut short by FIN', {
        nothingHint:
          "the client sent FIN ('end') after some bytes but before the empty line: answer " +
          "socket.end(formatResponse(textResponse(400))) inside the 'end' handler, before Node closes your side",
        repro: reproLines(Buffer.from(cutShort), port),
      }),
      { statusLine: 'HTTP/1.1 400 Bad Request', repro: reproLines(Buffer.from(cutShort), port) },
    );
    await finOnly.end();
    assertBytes(await finOnly.closed({ allowReset: true }), '', {
      what: 'the answer to a client that sent nothing and half-closed',
      hint: "in 'end', answer 400 only when some bytes arrived: a client that sent nothing made no request",
    });
    await log.line(/^127\.0\.0\.1:\d+ \(not HTTP\) 400$/, 'a log line `127.0.0.1:PORT (not HTTP) 400`');
    await log.line(
      /^127\.0\.0\.1:\d+ \(incomplete head\) 400$/,
      'a log line `127.0.0.1:PORT (incomplete head) 400` for the head cut short by FIN',
    );
  });

  test('a head of exactly 8 KiB is served; longer ones get 431, without waiting for their end', async () => {
    const { port, log } = await startWeb();
    /** A GET / whose head (its empty line included) is `size` bytes long. */
    const headOf = (size: number) => {
      const start = 'GET / HTTP/1.1\r\nX-Pad: ';
      return `${start}${'a'.repeat(size - start.length - 4)}\r\n\r\n`;
    };
    expect(Buffer.byteLength(headOf(MAX_HEAD_BYTES))).toBe(8192);
    // 8192 bytes and no empty line yet: not over the limit, so the server waits; then FIN.
    const padStart = 'GET / HTTP/1.1\r\nX-Pad: ';
    const unfinished = `${padStart}${'a'.repeat(MAX_HEAD_BYTES - padStart.length)}`;
    expect(Buffer.byteLength(unfinished)).toBe(8192);
    const [exact, over, endless, cut] = await Promise.all([
      httpExchange(port, headOf(MAX_HEAD_BYTES)),
      httpExchange(port, headOf(MAX_HEAD_BYTES + 1)),
      // No empty line, and no FIN: the server must not wait for more.
      httpExchange(port, `GET / HTTP/1.1\r\nX-Pad: ${'a'.repeat(9000)}`, {
        hint: 'past MAX_HEAD_BYTES without a complete head, answer 431 at once',
      }),
      httpExchange(port, unfinished, { finish: true }),
    ]);
    expectResponse(parseResponse(exact, 'the response to an 8192-byte head'), {
      statusLine: 'HTTP/1.1 200 OK',
    });
    const tooLarge = 'HTTP/1.1 431 Request Header Fields Too Large';
    expectResponse(parseResponse(over, 'the response to an 8193-byte head'), { statusLine: tooLarge });
    expectResponse(parseResponse(endless, 'the response to a head that never ends'), {
      statusLine: tooLarge,
    });
    expectResponse(parseResponse(cut, 'the response to 8192 bytes of head, then FIN'), {
      statusLine: 'HTTP/1.1 400 Bad Request',
      hint: '431 is for a head OVER 8 KiB (received > MAX_HEAD_BYTES): 8192 bytes may still end in an empty line, so wait; the FIN then makes it an incomplete head, 400',
    });
    await log.line(
      /^127\.0\.0\.1:\d+ \(head over 8 KiB\) 431$/,
      'a log line `127.0.0.1:PORT (head over 8 KiB) 431`',
    );
    // The same 8192 bytes in two chunks, its empty line cut in two: the search for it starts a few
    // bytes back in the first chunk, and counts from there (received - tail.length), not past it.
    const twoChunks = await connect(port);
    const whole = headOf(MAX_HEAD_BYTES);
    await twoChunks.write(whole.slice(0, -2));
    await pause(50); // two reads, not one
    await twoChunks.write(whole.slice(-2));
    const hint =
      "the head's end is at (where the searched window starts in the stream) + (its place in the window); the window starts tail.length bytes before what was received";
    const reply = await twoChunks.closed({
      expected: 'a response to an 8192-byte head sent in two chunks',
      hint,
    });
    expectResponse(parseResponse(reply, 'the response to an 8192-byte head in two chunks'), {
      statusLine: 'HTTP/1.1 200 OK',
      hint,
    });
  });

  test('a head trickled one byte at a time gets 408 Request Timeout at the deadline; others are served', async () => {
    const { port, log } = await startWeb({ requestTimeoutMs: 150 });
    reproSetup({ serverArgs: ['--timeout', '150'] }); // server.ts has the same deadline with --timeout
    // Slowloris: the start of a valid GET, one byte every 10 ms for 2 s, never its empty line.
    const slowloris = await trickle(
      port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(160)}`,
      10,
    );
    const client = slowloris.socket.localPort;
    // The deadline is 150 ms; the wait is far longer, so that only a server that never answers
    // fails, however busy the machine.
    const raw = await slowloris.closed({
      allowReset: true,
      ms: 5_000,
      expected: '408 Request Timeout, then the server closing the connection',
      hint:
        'the head must be complete within requestTimeoutMs of connecting: socket.setTimeout() is not ' +
        'enough, as every byte restarts it. Override requestTimedOut() to answer 408 with socket.end()',
    });
    const nothing =
      'override requestTimedOut(socket, peer): log it, then socket.end(formatResponse(textResponse(408))). ' +
      "The base class's version destroys the socket without a word";
    const repro = slowloris.repro;
    expectResponse(
      parseResponse(raw, 'the answer to a head trickled too slowly', { nothingHint: nothing, repro }),
      {
        statusLine: 'HTTP/1.1 408 Request Timeout',
        repro,
        headers: { 'Content-Type': TEXT, Connection: 'close' },
        body: '408 Request Timeout\n',
      },
    );
    await log.line(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${client} too slow: request head not complete after 150 ms, answering 408 and closing$`,
      ),
      `a log line \`client 127.0.0.1:${client} too slow: request head not complete after 150 ms, answering 408 and closing\``,
    );
    expectResponse(parseResponse(await httpExchange(port, GET)), {
      statusLine: 'HTTP/1.1 200 OK',
      body: PAGE,
    });
  });

  test('a head sent slowly, in many pieces, but complete before the deadline, gets the page', async () => {
    // 18 bytes, one every 5 ms: complete after about 90 ms, a twentieth of the 2 s deadline, so
    // that even a very busy machine sends it in time.
    const { port } = await startWeb({ requestTimeoutMs: 2_000 });
    reproSetup({ serverArgs: ['--timeout', '2000'] });
    const request = 'GET / HTTP/1.1\r\n\r\n';
    const slow = await trickle(port, request, 5);
    const raw = await slow.closed({
      ms: 5_000,
      hint: 'a head complete before the deadline is answered normally: call requestComplete(socket) then',
    });
    expectResponse(parseResponse(raw, 'the answer to a slow head'), {
      statusLine: 'HTTP/1.1 200 OK',
      body: PAGE,
    });
  });

  test('twenty clients at once each get the page, and each request is logged', async () => {
    const { port, log } = await startWeb();
    const peers = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
    const first = peers[0]?.socket.localPort;
    // Every client sends half of its head, then the rest: all twenty are mid-request together.
    await Promise.all(peers.map((peer) => peer.write(GET.slice(0, 20))));
    await Promise.all(peers.map((peer) => peer.write(GET.slice(20))));
    const responses = await Promise.all(peers.map((peer) => peer.closed()));
    responses.forEach((raw, i) => {
      expectResponse(parseResponse(raw, `client ${i}'s response`), {
        statusLine: 'HTTP/1.1 200 OK',
        body: PAGE,
      });
    });
    await log.line(
      new RegExp(`^127\\.0\\.0\\.1:${first} GET / 200$`),
      `a log line \`127.0.0.1:${first} GET / 200\``,
    );
  });

  test('stop() closes a browser-like idle connection and a half-sent head at once', async () => {
    const { web, port, log } = await startWeb();
    // Browsers open connections before they need them; this one never sends a byte.
    const idle = await connect(port);
    // The server's side of the next connection, to know when its first bytes have been read.
    const firstBytesRead = new Promise<void>((resolve) =>
      web.server.once('connection', (socket: net.Socket) => socket.once('data', () => resolve())),
    );
    const halfway = await connect(port);
    await halfway.write('GET / HT');
    await within(firstBytesRead, () => ({ expected: 'the server to read the first bytes of the head' }));
    // stop() never waits for anyone's goodwill: any bound would do, this one is generous.
    await within(web.stop(), () => ({ expected: 'stop() to resolve with two clients connected' }), {
      ms: 3_000,
    });
    const [, unanswered] = await Promise.all([
      idle.closed({ allowReset: true, ms: 3_000 }),
      halfway.closed({ allowReset: true, ms: 3_000 }),
    ]);
    expect(
      log.lines.filter((line) => / failed: | 400$/.test(line)),
      "stop() ended the half-sent head's connection: its 'end' then comes with your side closed " +
        '(socket.writableEnded), and no 400 can be written any more',
    ).toEqual([]);
    assertBytes(unanswered, '', {
      what: 'what stop() sent to a client in the middle of its head',
      hint: 'stop() closes with a plain FIN: no answer to a head that is not complete',
    });
  });

  test('each client is answered once, whatever it sends after its head', async () => {
    const { web, port, log } = await startWeb({ requestTimeoutMs: 5_000 });
    const closedOnServer = new Promise<void>((resolve) =>
      web.server.once('connection', (socket: net.Socket) => socket.once('close', () => resolve())),
    );
    // allowHalfOpen: the client reads the answer and the server's FIN, and then sends more, as
    // a client that pipelines a second request does, before it closes its own side.
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    closeAfterTest(() => socket.destroy());
    const client = new Peer(socket, port);
    await within(new Promise((resolve) => socket.once('connect', resolve)), () => ({
      expected: 'a connection to the server',
    }));
    const me = `127.0.0.1:${socket.localPort}`;
    await client.write(GET);
    const first = await client.closed({
      hint: 'once the head is complete, answer with socket.end(response)',
    });
    expectResponse(parseResponse(first, 'the answer to the first request'), {
      statusLine: 'HTTP/1.1 200 OK',
    });
    await client.write(GET);
    await client.end();
    await within(closedOnServer, () => ({
      expected: 'the server to close the connection once the client closed its side',
      received: `log lines: ${JSON.stringify(log.lines)}`,
    }));
    const mine = log.lines.filter((line) => line.startsWith(`${me} `));
    const failed = log.lines.filter((line) => line.includes(' failed: '));
    expect(
      { requests: mine, errors: failed },
      "answer each client once: once socket.writableEnded is true, ignore what arrives in 'data' " +
        '(a second answer is a write after end: ERR_STREAM_WRITE_AFTER_END)',
    ).toEqual({ requests: [`${me} GET / 200`], errors: [] });
  });
});
