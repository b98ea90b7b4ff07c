/**
 * Lesson 07's server, step 7: a line too long or too slow closes its connection, after the
 * answers to the lines before it, and the server carries on. Beside server.test.ts, so that the
 * two run side by side: one after the other, they took 9 s.
 */
import net from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import {
  assertBytes,
  closeAfterTest,
  connect,
  exchange,
  reproSetup,
  resetAfter,
  slowReader,
  startProxy,
  trickle,
  vanish,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { LINGER_MS } from '#impl/server.ts';
import { eventually, expectAnswers, serverSides, startLines } from './support.ts';

describe('step 7: a line too long or too slow closes the connection', () => {
  test('the lines before it are answered, then `error: line longer than N bytes`, then the close', async () => {
    const { port, log, guard } = await startLines({ maxLineBytes: 16 });
    const peer = await connect(port);
    await peer.write(`hello\n${'x'.repeat(40)}\nafter\n`);
    const received = await guard(
      peer.closed({
        expected: 'the answers, the error line, then the server closing the connection',
        hint: 'catch the LineTooLongError: answer the lines before it, then end the socket with `error: <message>\\n`',
      }),
    );
    assertBytes(received, '1 hello\nerror: line longer than 16 bytes\n', { what: 'the reply' });
    await log.line(
      /sent a line longer than 16 bytes/,
      'a log line `client IP:PORT sent a line longer than 16 bytes: closing`',
    );
    // The client's FIN came after the error line: the connection is over, refused once.
    await log.line(/^client 127\.0\.0\.1:\d+ closed$/, 'a log line `client IP:PORT closed`');
    expect(
      log.lines.filter((line) => line.includes('sent a line longer')),
      "log lines about the long line: once refused, ignore what the client sends, and its 'end' too",
    ).toHaveLength(1);
  });

  test('a last line, too long, that ends with the FIN is refused too', async () => {
    const { port, guard } = await startLines({ maxLineBytes: 16 });
    // 16 bytes and a \r may still be a line of 16 and its \r\n, until the FIN says otherwise.
    const reply = await guard(
      exchange(port, `${'x'.repeat(16)}\r`, {
        hint: "decoder.end() throws a LineTooLongError too: catch it in the 'end' listener as in 'data'",
      }),
    );
    assertBytes(reply, 'error: line longer than 16 bytes\n', { what: 'the reply to 17 bytes and a FIN' });
  });

  test('a line that never ends is refused once it passes the limit, byte by byte too', async () => {
    const { port, guard } = await startLines({ maxLineBytes: 16 });
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    reproSetup({ trickleMs: 10 }); // by hand: one byte at a time, as the proxy delivers them
    const peer = await connect(proxy.port);
    await peer.write('y'.repeat(20)); // no \n, and no FIN: only the limit can end this
    const received = await guard(
      peer.closed({
        expected: 'the error line, then the server closing the connection',
        hint: 'the decoder throws as soon as it holds more than maxLineBytes + 1 bytes',
      }),
    );
    assertBytes(received, 'error: line longer than 16 bytes\n', { what: 'the reply' });
  });

  test('a line of exactly the limit is fine; one that keeps coming still gets its error line', async () => {
    const { port, guard } = await startLines({ maxLineBytes: 16 });
    const ok = await connect(port);
    await ok.write(`${'z'.repeat(16)}\r\n`);
    await expectAnswers(
      guard,
      ok,
      `1 ${'z'.repeat(16)}\n`,
      'the line ending does not count towards the limit',
    );
    // 1 MiB more after the limit: the server must keep reading (and dropping) it, or the kernel
    // answers the unread bytes with a reset that can wipe out the error line.
    const flood = await connect(port);
    await flood.write(Buffer.alloc(1024 * 1024, 'w')).catch(() => {}); // a reset shows below
    const received = await guard(
      flood.closed({
        expected: 'the error line, then a polite close (FIN), not a reset',
        hint: 'after socket.end(errorLine), keep reading and ignore what arrives: do not destroy() at once',
      }),
    );
    assertBytes(received, 'error: line longer than 16 bytes\n', { what: 'the reply' });
  });

  test('the default limit is 65536 bytes', async () => {
    const { port, guard } = await startLines();
    const longest = 'x'.repeat(65_536);
    const reply = await guard(exchange(port, `${longest}\n${longest}x\n`));
    assertBytes(reply, `1 ${longest}\nerror: line longer than 65536 bytes\n`, { what: 'the reply' });
  });

  test('a line trickled one byte at a time is cut off lineTimeoutMs after its first byte; an idle client is not', async () => {
    const { port, log, guard } = await startLines({ lineTimeoutMs: 600 });
    // A client that sends a line, then says nothing for longer than the timeout: it owes nothing.
    const idle = await connect(port);
    await idle.write('before\n');
    await expectAnswers(guard, idle, '1 before\n');
    const idleSince = performance.now();
    // Slowloris: one byte every 20 ms, never a \n. The 200 bytes would take 4 s, far longer than
    // the 600 ms deadline, which must end it first.
    reproSetup({ trickleMs: 20 });
    const slow = await trickle(port, 'slowloris '.repeat(20), 20);
    const started = performance.now();
    const received = await guard(
      slow.closed({
        // Generous: only a server that never cuts the line off fails, however busy the machine.
        ms: 5_000,
        allowReset: true,
        expected: 'the error line, then the server closing the connection 600 ms after the line started',
        hint:
          'start a timer (setTimeout) at the first byte of a line and clear it when the line is complete. ' +
          'socket.setTimeout() is not enough: it is an idle timer, and every byte restarts it',
      }),
    );
    assertBytes(received, 'error: line not complete after 600 ms\n', {
      what: 'the reply to a line that never ends',
      hint: 'end the socket with `error: line not complete after N ms\\n`, as for a line too long',
    });
    const took = performance.now() - started;
    expect(
      took,
      'ms until the server cut off the trickled line: not before its deadline',
    ).toBeGreaterThanOrEqual(550);
    // The 600 ms deadline comes after about 30 of the 200 bytes. A timer started again at each
    // chunk only fires once the bytes stop coming, 4 s later, after the whole trickle.
    expect(
      slow.trickled?.sent,
      'bytes the trickling client had sent, of 200 (one every 20 ms), when the server cut it off: ' +
        "the deadline runs from a line's first byte, and only the end of the line stops it; " +
        'a timer started again at each chunk never fires while bytes keep coming',
    ).toBeLessThan(150);
    await log.line(
      /^client 127\.0\.0\.1:\d+ too slow: line not complete after 600 ms, closing$/,
      'a log line `client IP:PORT too slow: line not complete after 600 ms, closing`',
    );
    // The idle client has now been quiet for longer than the timeout, and is still served.
    expect(performance.now() - idleSince, 'the idle client waited out the timeout').toBeGreaterThanOrEqual(
      600,
    );
    const idleHint =
      'a connection with no line started has no deadline: start the timer with the first byte of a line, ' +
      'not when the connection opens or when a line ends';
    expect(idle.ending, `the idle client was cut off: ${idleHint}`).toBe('open');
    await idle.write('after\n').catch(() => {}); // a connection closed meanwhile shows below
    await expectAnswers(guard, idle, '1 before\n2 after\n', idleHint);
    assertBytes(await guard(exchange(port, 'others?\n')), '1 others?\n', {
      what: 'the reply to another client',
    });
  });

  test('a slow client whose every line ends in time is not cut off', async () => {
    const { port, guard } = await startLines({ lineTimeoutMs: 600 });
    const started = performance.now();
    // 40 ms from each line's first byte to its \n, far within the deadline; 1200 ms for the 20
    // lines, more than the deadline. Each line comes in three pieces: the deadline starts at the
    // first, and only the \n stops it (a timer started again at the second piece, and never
    // cleared, would cut this client off).
    reproSetup({ trickleMs: 20 });
    const lines = [...'abcdefghijklmnopqrst'].map((c) => c + c);
    const slow = await trickle(port, lines.map((line) => `${line}\n`).join(''), 20);
    await expectAnswers(
      guard,
      slow,
      lines.map((line, i) => `${i + 1} ${line}\n`).join(''),
      'the deadline is per line: clear the timer when a line is complete, and start a new one at the next line',
    );
    expect(performance.now() - started, 'the 20 lines took longer than the deadline').toBeGreaterThan(600);
    expect(slow.ending, 'the connection should still be open: no line was late').toBe('open');
  });

  test('a line cut short by a FIN or a reset leaves no deadline behind', async () => {
    const { port, server, log, guard } = await startLines({ lineTimeoutMs: 150 });
    let serverSide: net.Socket | undefined;
    server.on('connection', (socket: net.Socket) => {
      serverSide = socket;
    });
    // Half a line, then FIN: answered, and the connection closed at once.
    assertBytes(await guard(exchange(port, 'half')), '1 half\n', { what: 'the reply to `half` and a FIN' });
    // Half a line, read by the server (its deadline is running), then a reset.
    const gone = await connect(port);
    await gone.write('half a li');
    await within(
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if ((serverSide?.bytesRead ?? 0) >= 9) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      }),
      () => ({ expected: 'the server to read the 9 bytes sent' }),
      { ms: 10_000 },
    );
    gone.reset();
    // Both connections are gone: twice their deadline later, no timer may have fired.
    await pause(300);
    expect(
      log.lines.filter((line) => line.includes('too slow')),
      "log lines about clients already gone: clearTimeout() the line's deadline on 'end' and on 'close', no timer may outlive its socket",
    ).toEqual([]);
  });

  test('a last line that ends with the FIN has met its deadline, even while its answer waits for a client that does not read', async () => {
    const MIB = 1024 * 1024;
    const DEADLINE = 1_000;
    const { port, server, log, guard } = await startLines({ lineTimeoutMs: DEADLINE, maxLineBytes: 8 * MIB });
    const sides = serverSides(server);
    let firstByte = 0;
    server.on('connection', (socket: net.Socket) =>
      socket.once('data', () => {
        firstByte = performance.now();
      }),
    );
    // An 8 MiB line without \n, then the FIN, from a client that reads nothing yet. The line's
    // deadline starts at its first byte. Its answer is more than the kernel's buffers take, so
    // the server's side stays open, writing, long after the FIN.
    const line = 'x'.repeat(8 * MIB);
    const peer = await slowReader(port);
    peer.socket.end(line);
    await guard(
      eventually(() => sides[0]?.readableEnded === true, 'the server to read the 8 MiB line and the FIN'),
    );
    expect(
      sides[0]?.destroyed,
      'the server should still be writing the answer: the client reads nothing',
    ).toBe(false);
    // Past the deadline of the line (with a margin), the FIN has long since ended it.
    await pause(Math.max(0, firstByte + DEADLINE + 300 - performance.now()));
    const hint =
      "a line the FIN ends is complete: on 'end', clearTimeout() its deadline. The connection may stay open " +
      'for a long while after, writing answers to a client that reads slowly';
    expect(
      log.lines.filter((entry) => entry.includes('too slow')),
      `log lines about a client whose last line ended with its FIN: ${hint}`,
    ).toEqual([]);
    peer.socket.resume();
    const received = await guard(
      peer.closed({
        ms: 10_000,
        expected: 'the answer `1 xxx…` (8 MiB), then the server closing the connection',
        hint,
        repro: 'the test sends 8 MiB and reads nothing for a while; no nc line can replay it',
      }),
    );
    expect(received.length, 'bytes of the answer to the 8 MiB line').toBe(line.length + 3);
    assertBytes(received.subarray(-4), 'xxx\n', { what: 'the end of the answer' });
  });

  test('a client that keeps sending after its error line is let go after LINGER_MS', async () => {
    const { port, log, guard } = await startLines({ maxLineBytes: 16 });
    // A client that keeps its side open (allowHalfOpen) and sends a byte every 50 ms, for ever.
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    closeAfterTest(() => socket.destroy());
    socket.on('error', () => {}); // the server's reset ends it: expected
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let received = '';
    socket.setEncoding('utf8').on('data', (text: string) => {
      received += text;
    });
    // Any other first line (a TODO's, say) fails the test at once, not after LINGER_MS.
    const errorLine = 'error: line longer than 16 bytes\n';
    const otherLine = new Promise<never>((_, reject) =>
      socket.on('data', () => {
        const line = received.slice(0, received.indexOf('\n') + 1);
        if (line && line !== errorLine)
          reject(
            /^TODO\(\d+\)/.test(line)
              ? new Error(line.trim())
              : new Error(`the first line was ${JSON.stringify(line)}, not ${JSON.stringify(errorLine)}`),
          );
      }),
    );
    otherLine.catch(() => {});
    socket.write('x'.repeat(40));
    const sender = setInterval(() => {
      if (!socket.destroyed) socket.write('y');
    }, 50);
    closeAfterTest(() => clearInterval(sender));
    await guard(
      within(
        Promise.race([closed, otherLine]),
        () => ({
          expected: `the server to destroy the connection ${LINGER_MS} ms (LINGER_MS) after its error line, though the client keeps sending`,
          received: `the connection is still open; the client received ${JSON.stringify(received)}`,
          hint: 'after socket.end(errorLine) and socket.resume(), start setTimeout(() => socket.destroy(), LINGER_MS): a client that never stops sending must not hold the connection for ever',
        }),
        { ms: LINGER_MS + 5_000 },
      ),
    );
    clearInterval(sender);
    expect(received, 'what the client received before the server let it go').toBe(errorLine);
    expect(
      log.lines.filter((line) => line.includes('sent a line longer')),
      'log lines about the long line: what the client sends after its error line is dropped unread, not decoded again',
    ).toHaveLength(1);
  });

  test('clients that vanish or reset do not stop the server, and each leaves a log line', async () => {
    const { port, log, guard } = await startLines();
    await vanish(port);
    await resetAfter(port);
    await resetAfter(port, 'half a li');
    const peer = await connect(port);
    await peer.write('still there?\n');
    await expectAnswers(guard, peer, '1 still there?\n');
    await log.line(
      /^client 127\.0\.0\.1:\d+ failed: connection reset by peer \(ECONNRESET\)$/,
      'a log line `client IP:PORT failed: connection reset by peer (ECONNRESET)` (written for you)',
    );
    await log.line(
      /^client 127\.0\.0\.1:\d+ closed$/,
      'a log line `client IP:PORT closed` (written for you)',
    );
  });
});
