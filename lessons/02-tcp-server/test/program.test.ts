import net from 'node:net';
import { assertBytes, connect, exchange, lessonOf, listen, type ProgramResult } from '@course/helpers';
import { describe, expect, test } from 'vitest';

// The real program, run as a learner runs it: `npx tsx lessons/02-tcp-server/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

/** How a program ended, with the end of its stderr (a stack trace, say), for a failure message. */
function exitedWith({ code, signal, stderr }: ProgramResult): string {
  const how = signal ? `It was killed by ${signal}` : `It exited ${code}`;
  const tail = stderr.length > 1_500 ? `…${stderr.slice(-1_500)}` : stderr;
  return tail.trim() === '' ? `${how}, with nothing on stderr.` : `${how}; its stderr:\n${tail.trimEnd()}`;
}

describe('the program: server.ts', () => {
  test('prints `listening on HOST:PORT`, serves, logs, and exits 0 on Ctrl-C with a client connected', async () => {
    // The robustness flags are accepted (their effects are tested in server.test.ts).
    const server = await lesson.startServer('server', ['--timeout', '5000', '--max-connections', '100']);
    expect(server.host).toBe('127.0.0.1');
    assertBytes(await exchange(server.port, 'héllo'), 'HÉLLO', { what: 'the reply' });
    const idle = await connect(server.port); // stays connected: the server must still stop
    await server.waitForLine(/^client connected from 127\.0\.0\.1:\d+$/, 'a `client connected from` line');
    const started = performance.now();
    const result = await server.stop('SIGINT');
    expect(
      result.code,
      'on SIGINT the server should close its connections and exit 0 ' +
        `(a crash, say an 'error' event with no listener, exits 1). ${exitedWith(result)}`,
    ).toBe(0);
    expect(
      performance.now() - started,
      'on SIGINT the server should exit within a second, even with a client still connected',
    ).toBeLessThan(1_000);
    await idle.closed({ allowReset: true });
  });

  test('exits 1 with one clear line when the port is taken, 2 on a bad flag', async () => {
    const taken = await listen(net.createServer());
    const [busy, bad] = await Promise.all([
      lesson.run('server', ['--port', String(taken)]),
      lesson.run('server', ['--prot', '9000']),
    ]);
    expect(
      busy.stderr,
      'on a taken port: one clear line from your listen() rejection (steps 2 and 3), no stack trace',
    ).toBe(`cannot listen on 127.0.0.1:${taken}: address already in use (EADDRINUSE)\n`);
    expect(busy.code, `on a taken port the program exits 1. ${exitedWith(busy)}`).toBe(1);
    expect(bad.stderr, 'an unknown flag: one line naming it').toBe(
      "server.ts: unknown option '--prot' (see server.ts --help)\n",
    );
    expect(bad.code, `an unknown flag exits 2. ${exitedWith(bad)}`).toBe(2);
  });
});
