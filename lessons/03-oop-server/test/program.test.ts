import net from 'node:net';
import { connect, LIVENESS_MS, lessonOf, listen, ncLine, runCourseLine } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { PAGE } from '#impl/server.ts';

// The real program, run as a learner runs it: `npx tsx lessons/03-oop-server/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

describe('the program: server.ts', () => {
  test('prints `listening on HOST:PORT`, serves the page, answers 408 after --timeout, stops on Ctrl-C', async () => {
    // 2 s: the fetch below must get its whole request in before that, on a busy machine too.
    const server = await lesson.startServer('server', ['--timeout', '2000']);
    expect(server.host, 'the default --host is 127.0.0.1').toBe('127.0.0.1');
    // Half a head and no more: 2 s after connecting (--timeout 2000), it gets 408.
    const slow = await connect(server.port);
    await slow.write('GET / HT');
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status, 'GET / from the real program').toBe(200);
    expect(await response.text(), 'the page from the real program').toBe(PAGE);
    await server.waitForLine(/^127\.0\.0\.1:\d+ GET \/ 200$/, 'a log line `127.0.0.1:PORT GET / 200`');
    // The 408 is due 2 s after connecting, later on a busy machine: wait for it as for anything
    // that always comes.
    const timedOut = await slow.closed({
      ms: 2_000 + LIVENESS_MS,
      allowReset: true,
      hint: '--timeout MS is the deadline for the request head: pass it to the server as requestTimeoutMs',
    });
    expect(
      timedOut.toString('latin1'),
      'half a head, then nothing: after --timeout ms the program answers `HTTP/1.1 408 Request Timeout`',
    ).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    await server.waitForLine(
      /^client 127\.0\.0\.1:\d+ too slow: request head not complete after 2000 ms, answering 408 and closing$/,
      'a log line `client 127.0.0.1:PORT too slow: request head not complete after 2000 ms, answering 408 and closing`',
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

  test('exits 1 with one clear line when the port is taken or --host is not on this machine, 2 on a bad flag', async () => {
    const taken = await listen(net.createServer());
    const [busy, bad, elsewhere] = await Promise.all([
      lesson.run('server', ['--port', String(taken)]),
      lesson.run('server', ['--prot', '9000']),
      // 192.0.2.1 is kept for documentation (RFC 5737): no machine has it.
      lesson.run('server', ['--host', '192.0.2.1']),
    ]);
    expect([elsewhere.code, elsewhere.stderr], '--host is the address to listen on: start({ host })').toEqual(
      [1, 'cannot listen on 192.0.2.1:0: address not available on this machine (EADDRNOTAVAIL)\n'],
    );
    expect(busy.code, 'a taken port is a network failure: exit code 1').toBe(1);
    expect(busy.stderr, 'one clear line on stderr, from the rejection of start()').toBe(
      `cannot listen on 127.0.0.1:${taken}: address already in use (EADDRINUSE)\n`,
    );
    expect(bad.code, 'an unknown flag is bad usage: exit code 2').toBe(2);
    expect(bad.stderr, 'one clear line on stderr').toBe(
      "server.ts: unknown option '--prot' (see server.ts --help)\n",
    );
  });

  test("the course's nc gets the page, as the Play section shows", async () => {
    const server = await lesson.startServer('server');
    const request = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const stdout = (await runCourseLine(ncLine(request, server.port, { halfClose: false }))).toString();
    expect(stdout, "course nc's output: the status line, then the page").toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout, "course nc's output ends with the page").toContain('</html>');
  });

  test('SIGTERM stops it like Ctrl-C, saying so, with exit 0', async () => {
    const server = await lesson.startServer('server');
    const result = await server.stop('SIGTERM');
    expect(
      result.code,
      'on SIGTERM (what `kill` and service managers send) the program stops and exits 0',
    ).toBe(0);
    expect(result.stdout, 'the line it prints on the signal').toContain(
      'server.ts: SIGTERM, closing 0 connection(s) and stopping\n',
    );
  });

  test('--backlog 0 is bad usage: exit 2 with one line', async () => {
    const result = await lesson.run('server', ['--backlog', '0']);
    expect(result.stderr, 'one clear line on stderr').toBe(
      "server.ts: --backlog must be a whole number of at least 1, not '0' (see server.ts --help)\n",
    );
    expect(result.code, 'bad usage: exit code 2').toBe(2);
  });

  test('--help lists every option with its value and what it does, and exits 0', async () => {
    const help = await lesson.run('server', ['--help']);
    expect(help.code, `--help exits 0; stderr: ${help.stderr}`).toBe(0);
    const lines = help.stdout.split('\n');
    expect(lines[0], 'the first line of --help').toBe('usage: server.ts [options]');
    expect(lines[2], 'the summary').toBe(
      'Serves a small HTML page over HTTP/1.1: open http://HOST:PORT/ in a browser.',
    );
    const row = (flag: string) => lines.find((line) => line.trimStart().startsWith(`${flag} `))?.trim() ?? '';
    const rows: [string, RegExp][] = [
      ['--host', /^--host HOST +address to listen on \(default 127\.0\.0\.1\)$/],
      ['--port', /^--port PORT +port to listen on \(default 0: any free port\)$/],
      ['--backlog', /^--backlog N +connections waiting to be accepted \(default 511\)$/],
      [
        '--timeout',
        /^--timeout MS +a client's request head must be complete within MS ms of connecting, or it gets 408 \(default 10000\)$/,
      ],
    ];
    for (const [flag, pattern] of rows) expect(row(flag), `the ${flag} row`).toMatch(pattern);
  });
});
