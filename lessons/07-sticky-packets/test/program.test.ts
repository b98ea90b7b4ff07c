import { assertBytes, connect, exchange, lessonOf, trickle } from '@course/helpers';
import { describe, expect, test } from 'vitest';

// The real program, run as a learner runs it: `npx tsx lessons/07-sticky-packets/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

describe('the program: server.ts', () => {
  test('answers lines, honours --max-line and --timeout, logs, exits 2 on a bad value and 0 on Ctrl-C', async () => {
    // Both programs at once: each start costs a few hundred milliseconds.
    const [server, bad] = await Promise.all([
      lesson.startServer('server', ['--max-line', '8', '--timeout', '100']),
      lesson.run('server', ['--max-line', '0']),
    ]);
    expect(server.host).toBe('127.0.0.1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "server.ts: --max-line must be a whole number from 1 to 16777216, not '0' (see server.ts --help)\n",
    );

    const [short, limited, slow] = await Promise.all([
      exchange(server.port, 'hello\nbyebye\n'),
      exchange(server.port, 'hello\nbyebye\nagain,bye\n'),
      // Half a line, one byte every 20 ms, then nothing: --timeout 100 ends it.
      trickle(server.port, 'slow', 20).then((peer) =>
        peer.closed({ allowReset: true, hint: 'pass --timeout to createLineServer() as lineTimeoutMs' }),
      ),
    ]);
    assertBytes(short, '1 hello\n2 byebye\n', { what: 'the reply to two short lines' });
    assertBytes(limited, '1 hello\n2 byebye\nerror: line longer than 8 bytes\n', {
      what: 'the reply with --max-line 8 (`again,bye` is 9 bytes)',
    });
    assertBytes(slow, 'error: line not complete after 100 ms\n', {
      what: 'the reply to half a line with --timeout 100',
    });
    await server.waitForLine(
      /^client 127\.0\.0\.1:\d+ sent a line longer than 8 bytes: closing$/,
      'a log line `client IP:PORT sent a line longer than 8 bytes: closing`',
    );
    await server.waitForLine(
      /^client 127\.0\.0\.1:\d+ too slow: line not complete after 100 ms, closing$/,
      'a log line `client IP:PORT too slow: line not complete after 100 ms, closing`',
    );

    const idle = await connect(server.port); // stays connected: the server must still stop
    await server.waitForLine(/^client connected from 127\.0\.0\.1:\d+$/, 'a `client connected from` line');
    const started = performance.now();
    const result = await server.stop('SIGINT');
    expect(result.code, 'on SIGINT the server should close its connections and exit 0').toBe(0);
    expect(performance.now() - started).toBeLessThan(1_000);
    await idle.closed({ allowReset: true });
  });
});
