import net from 'node:net';
import { connect, lessonOf, listen } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { PAGE } from '#impl/server.ts';

// The real program, run as a learner runs it: `npx tsx lessons/03-oop-server/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

describe('the program: server.ts', () => {
  test('prints `listening on HOST:PORT`, serves the page, answers 408 after --timeout, stops on Ctrl-C', async () => {
    const server = await lesson.startServer('server', ['--timeout', '200']);
    expect(server.host, 'the default --host is 127.0.0.1').toBe('127.0.0.1');
    // Half a head and no more: 200 ms after connecting (--timeout 200), it gets 408.
    const slow = await connect(server.port);
    await slow.write('GET / HT');
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status, 'GET / from the real program').toBe(200);
    expect(await response.text(), 'the page from the real program').toBe(PAGE);
    await server.waitForLine(/^127\.0\.0\.1:\d+ GET \/ 200$/, 'a log line `127.0.0.1:PORT GET / 200`');
    const timedOut = await slow.closed({
      allowReset: true,
      hint: '--timeout MS is the deadline for the request head: pass it to the server as requestTimeoutMs',
    });
    expect(
      timedOut.toString('latin1'),
      'half a head, then nothing: after --timeout ms the program answers `HTTP/1.1 408 Request Timeout`',
    ).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    await server.waitForLine(
      /^client 127\.0\.0\.1:\d+ too slow: request head not complete after 200 ms, answering 408 and closing$/,
      'a log line `client 127.0.0.1:PORT too slow: request head not complete after 200 ms, answering 408 and closing`',
    );
    // Connected and never used, as browsers do: Ctrl-C must close it too.
    const idle = await connect(server.port);
    const started = performance.now();
    const result = await server.stop('SIGINT');
    expect(
      result.code,
      'on SIGINT the program calls stop() and exits 0 once it resolves (1 if stop() takes over a second)',
    ).toBe(0);
    // The program itself exits 1 if stop() takes over a second; this bound only catches a hang,
    // with room for a busy machine.
    expect(performance.now() - started, 'the program should exit soon after Ctrl-C').toBeLessThan(5_000);
    await idle.closed({ allowReset: true });
  });

  test('exits 1 with one clear line when the port is taken, 2 on a bad flag', async () => {
    const taken = await listen(net.createServer());
    const [busy, bad] = await Promise.all([
      lesson.run('server', ['--port', String(taken)]),
      lesson.run('server', ['--prot', '9000']),
    ]);
    expect(busy.code, 'a taken port is a network failure: exit code 1').toBe(1);
    expect(busy.stderr, 'one clear line on stderr, from the rejection of start()').toBe(
      `cannot listen on 127.0.0.1:${taken}: address already in use (EADDRINUSE)\n`,
    );
    expect(bad.code, 'an unknown flag is bad usage: exit code 2').toBe(2);
    expect(bad.stderr, 'one clear line on stderr').toBe(
      "server.ts: unknown option '--prot' (see server.ts --help)\n",
    );
  });
});
