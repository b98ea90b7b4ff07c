import {
  assertBytes,
  connect,
  hasCommand,
  LogLines,
  reproLines,
  runCommand,
  startProxy,
  trickle,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import {
  formatResponse,
  type HttpResponse,
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
    const raw = formatResponse(
      { status: 200, headers: { 'Content-Type': HTML }, body: PAGE, sendBody: false },
      NOW,
    );
    const response = parseResponse(raw);
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(PAGE)));
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
    expect(parseResponse(formatResponse(textResponse(431), NOW)).statusLine).toBe(
      'HTTP/1.1 431 Request Header Fields Too Large',
    );
    expect(parseResponse(formatResponse(textResponse(408), NOW)).statusLine).toBe(
      'HTTP/1.1 408 Request Timeout',
    );
  });
});

describe('step 5: respondTo() chooses the response', () => {
  test('GET / gets the page as text/html; charset=utf-8', () => {
    const response = respondTo(GET);
    expect(response.status).toBe(200);
    expect(header(response, 'Content-Type')).toBe(HTML);
    expect(response.body).toBe(PAGE);
    expect(response.sendBody).toBe(true);
  });

  test('any other path gets 404 (a query string does not change the path)', () => {
    expect(respondTo('GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n').status).toBe(404);
    expect(respondTo('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n').status).toBe(404);
    expect(respondTo('GET /?lang=en HTTP/1.1\r\nHost: x\r\n\r\n').status, 'the path of /?lang=en is /').toBe(
      200,
    );
  });

  test('HEAD is GET without the body', () => {
    const head = respondTo('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(head.status).toBe(200);
    expect(head.body, 'keep the body: formatResponse() counts it for Content-Length').toBe(PAGE);
    expect(head.sendBody).toBe(false);
    const missing = respondTo('HEAD /nope HTTP/1.1\r\n\r\n');
    expect([missing.status, missing.sendBody]).toEqual([404, false]);
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
      'GET /\x1b[2J HTTP/1.1\r\n\r\n', // a control character in the target
      '\r\n\r\n',
    ];
    for (const head of bad) expect(respondTo(head).status, JSON.stringify(head)).toBe(400);
    expect(respondTo('GET / HTTP/1.0\nHost: x\n\n').status, 'bare \\n line endings, HTTP/1.0').toBe(200);
  });
});

describe('step 6: the WebServer answers real HTTP clients', () => {
  test("Node's fetch() gets the page, 404, HEAD and 405 right", async () => {
    const { url } = await startWeb();
    const [page, favicon, head, post] = await Promise.all([
      fetch(`${url}/`),
      fetch(`${url}/favicon.ico`),
      fetch(`${url}/`, { method: 'HEAD' }),
      fetch(`${url}/`, { method: 'POST', body: 'x=1' }),
    ]);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe(HTML);
    expect(page.headers.get('content-length')).toBe(String(Buffer.byteLength(PAGE)));
    expect(page.headers.get('connection')).toBe('close');
    expect(await page.text()).toBe(PAGE);
    expect(favicon.status).toBe(404);
    await favicon.arrayBuffer();
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(PAGE)));
    expect(await head.text()).toBe('');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.arrayBuffer();
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

  test('the head may arrive one byte at a time', async () => {
    const { port } = await startWeb();
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    const hint = 'one "data" event is not the whole head: keep the chunks until the empty line arrives';
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
    const request =
      'GET /?from=test HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: lesson-03\r\nAccept: text/html\r\n' +
      'Accept-Language: en\r\n\r\n';
    expectResponse(parseResponse(await httpExchange(proxy.port, request)), {
      statusLine: 'HTTP/1.1 200 OK',
      body: PAGE,
    });
  });

  test('not HTTP gets 400; a client that half-closes before the empty line gets 400', async () => {
    const { port } = await startWeb();
    const [garbage, unfinished] = await Promise.all([
      httpExchange(port, 'hello\r\n\r\n'),
      httpExchange(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n', {
        finish: true,
        hint: "answer 400 in the 'end' handler when a head was started but never finished",
      }),
    ]);
    expectResponse(parseResponse(garbage), { statusLine: 'HTTP/1.1 400 Bad Request' });
    expectResponse(parseResponse(unfinished), { statusLine: 'HTTP/1.1 400 Bad Request' });
  });

  test('a head of exactly 8 KiB is served; longer ones get 431, without waiting for their end', async () => {
    const { port } = await startWeb();
    /** A GET / whose head (its empty line included) is `size` bytes long. */
    const headOf = (size: number) => {
      const start = 'GET / HTTP/1.1\r\nX-Pad: ';
      return `${start}${'a'.repeat(size - start.length - 4)}\r\n\r\n`;
    };
    expect(Buffer.byteLength(headOf(MAX_HEAD_BYTES))).toBe(8192);
    const [exact, over, endless] = await Promise.all([
      httpExchange(port, headOf(MAX_HEAD_BYTES)),
      httpExchange(port, headOf(MAX_HEAD_BYTES + 1)),
      // No empty line, and no FIN: the server must not wait for more.
      httpExchange(port, `GET / HTTP/1.1\r\nX-Pad: ${'a'.repeat(9000)}`, {
        hint: 'past MAX_HEAD_BYTES without a complete head, answer 431 at once',
      }),
    ]);
    expectResponse(parseResponse(exact, 'the response to an 8192-byte head'), {
      statusLine: 'HTTP/1.1 200 OK',
    });
    const tooLarge = 'HTTP/1.1 431 Request Header Fields Too Large';
    expectResponse(parseResponse(over, 'the response to an 8193-byte head'), { statusLine: tooLarge });
    expectResponse(parseResponse(endless, 'the response to a head that never ends'), {
      statusLine: tooLarge,
    });
  });

  test('a head trickled one byte at a time gets 408 Request Timeout at the deadline; others are served', async () => {
    const { port, log } = await startWeb({ requestTimeoutMs: 150 });
    // Slowloris: the start of a valid GET, one byte every 10 ms for 2 s, never its empty line.
    const slowloris = await trickle(
      port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(160)}`,
      10,
    );
    const client = slowloris.socket.localPort;
    const raw = await slowloris.closed({
      allowReset: true,
      ms: 800,
      expected: '408 Request Timeout, then the server closing the connection',
      hint:
        'the head must be complete within requestTimeoutMs of connecting: socket.setTimeout() is not ' +
        'enough, as every byte restarts it. Override requestTimedOut() to answer 408 with socket.end()',
    });
    expectResponse(parseResponse(raw, 'the answer to a head trickled too slowly'), {
      statusLine: 'HTTP/1.1 408 Request Timeout',
      headers: { 'Content-Type': TEXT, Connection: 'close' },
      body: '408 Request Timeout\n',
    });
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
    const { port } = await startWeb({ requestTimeoutMs: 300 });
    // 18 bytes, one every 5 ms: complete after about 90 ms.
    const request = 'GET / HTTP/1.1\r\n\r\n';
    const slow = await trickle(port, request, 5);
    const raw = await slow.closed({
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
    const { web, port } = await startWeb();
    // Browsers open connections before they need them; this one never sends a byte.
    const idle = await connect(port);
    const halfway = await connect(port);
    await halfway.write('GET / HT');
    await within(web.stop(), () => ({ expected: 'stop() to resolve with two clients connected' }), {
      ms: 500,
    });
    await Promise.all([
      idle.closed({ allowReset: true, ms: 200 }),
      halfway.closed({ allowReset: true, ms: 200 }),
    ]);
  });
});
