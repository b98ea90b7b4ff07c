import { assertBytes, connect, exchange, lessonOf, reproLines, reproSetup, trickle } from '@course/helpers';
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
    expect(server.host, 'the default --host').toBe('127.0.0.1');
    expect(bad.code, '--max-line 0 is bad usage: exit 2').toBe(2);
    expect(bad.stderr, 'one clear line on stderr').toBe(
      "server.ts: --max-line must be a whole number from 1 to 16777216, not '0' (see server.ts --help)\n",
    );

    reproSetup({ serverArgs: ['--max-line', '8', '--timeout', '100'] });
    // A program that crashes (an exception thrown in a listener, which nothing catches) shows as
    // clients cut off: say so, with what the program printed.
    const alive = async <T>(run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (error) {
        const exited = await server.exit(1_000).then(
          () => true,
          () => false,
        );
        if (!exited) throw error;
        throw server.failure(
          'the server program exited while the test was talking to it',
          'the server to answer every client and keep running',
          'an exception thrown in a listener ends the program, every client with it: see its stderr. ' +
            "A LineTooLongError from push() or end() must be caught in the 'data' and 'end' listeners (step 7)",
        );
      }
    };
    await alive(async () => {
      const [short, limited, slow] = await Promise.all([
        exchange(server.port, 'hello\nbyebye\n'),
        exchange(server.port, 'hello\nbyebye\nagain,bye\n'),
        // Half a line, one byte every 20 ms, then nothing: --timeout 100 ends it.
        trickle(server.port, 'slow', 20).then((peer) =>
          peer.closed({
            allowReset: true,
            hint: 'pass --timeout to createLineServer() as lineTimeoutMs',
            repro: reproLines(Buffer.from('slow'), server.port, { trickleMs: 20, halfClose: false }),
          }),
        ),
      ]);
      assertBytes(short, '1 hello\n2 byebye\n', { what: 'the reply to two short lines' });
      assertBytes(limited, '1 hello\n2 byebye\nerror: line longer than 8 bytes\n', {
        what: 'the reply with --max-line 8 (`again,bye` is 9 bytes)',
      });
      assertBytes(slow, 'error: line not complete after 100 ms\n', {
        what: 'the reply to half a line with --timeout 100',
      });
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
    expect(
      performance.now() - started,
      'ms from SIGINT to exit: close the connections, then exit within a second',
    ).toBeLessThan(1_000);
    await idle.closed({ allowReset: true });
  });
});
