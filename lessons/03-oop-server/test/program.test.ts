import net from 'node:net';
import { connect, lessonOf, listen } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { PAGE } from '#impl/server.ts';

// The real program, run as a learner runs it: `npx tsx lessons/03-oop-server/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

describe('the program: server.ts', () => {
  test('prints `listening on HOST:PORT`, serves the page, answers 408 after --timeout, stops on Ctrl-C', async () => {
    const server = await lesson.startServer('server', ['--timeout', '200']);
    expect(server.host).toBe('127.0.0.1');
    // Half a head and no more: 200 ms after connecting (--timeout 200), it gets 408.
    const slow = await connect(server.port);
    await slow.write('GET / HT');
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(PAGE);
    await server.waitForLine(/^127\.0\.0\.1:\d+ GET \/ 200$/, 'a log line `127.0.0.1:PORT GET / 200`');
    const timedOut = await slow.closed({
      allowReset: true,
      hint: '--timeout MS is the deadline for the request head: pass it to the server as requestTimeoutMs',
    });
    expect(timedOut.toString('latin1')).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    await server.waitForLine(
      /^client 127\.0\.0\.1:\d+ too slow: request head not complete after 200 ms, answering 408 and closing$/,
      'a log line `client 127.0.0.1:PORT too slow: request head not complete after 200 ms, answering 408 and closing`',
    );
    // Connected and never used, as browsers do: Ctrl-C must close it too.
    const idle = await connect(server.port);
    const started = performance.now();
    const result = await server.stop('SIGINT');
    expect(result.code, 'on SIGINT the program calls stop() and exits 0 once it resolves').toBe(0);
    expect(performance.now() - started).toBeLessThan(1_000);
    await idle.closed({ allowReset: true });
  });

  test('exits 1 with one clear line when the port is taken, 2 on a bad flag', async () => {
    const taken = await listen(net.createServer());
    const [busy, bad] = await Promise.all([
      lesson.run('server', ['--port', String(taken)]),
      lesson.run('server', ['--prot', '9000']),
    ]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe(`cannot listen on 127.0.0.1:${taken}: address already in use (EADDRINUSE)\n`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("server.ts: unknown option '--prot' (see server.ts --help)\n");
  });
});
