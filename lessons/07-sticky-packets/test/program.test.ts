import { assertBytes, connect, exchange, lessonOf, reproLines, reproSetup, trickle } from '@course/helpers';
import { describe, expect, test } from 'vitest';

// The real program, run as a learner runs it: `npx tsx lessons/07-sticky-packets/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

describe('the program: server.ts', () => {
  test('answers lines, honours --max-line, --timeout, --budget and --max-connections, documents them in --help, logs, exits 2 on a bad value and 0 on Ctrl-C', async () => {
    // Both programs at once: each start costs a few hundred milliseconds.
    const [server, bad, help, noBudget, noConnections] = await Promise.all([
      lesson.startServer('server', [
        '--max-line',
        '8',
        '--timeout',
        '100',
        '--budget',
        '4096',
        '--max-connections',
        '4',
      ]),
      lesson.run('server', ['--max-line', '0']),
      lesson.run('server', ['--help']),
      lesson.run('server', ['--budget', '0']),
      lesson.run('server', ['--max-connections', '0']),
    ]);
    for (const [flag, result] of [
      ['budget', noBudget],
      ['max-connections', noConnections],
    ] as const) {
      expect(result.code, `--${flag} 0 is bad usage: exit 2`).toBe(2);
      expect(result.stderr, `--${flag} 0: one clear line on stderr`).toBe(
        `server.ts: --${flag} must be a whole number of at least 1, not '0' (see server.ts --help)\n`,
      );
    }
    expect(help.code, '--help exits 0').toBe(0);
    const usage = help.stdout.split('\n');
    const option = (name: string) => usage.find((line) => line.trimStart().startsWith(`--${name} `)) ?? '';
    expect(usage, '--help: what the program does').toContain(
      'Answers every line `<n> <line>`, n counting the lines of each connection from 1.',
    );
    expect(option('max-line'), '--help: --max-line').toMatch(
      /^ {2}--max-line BYTES +longest line accepted, in bytes \(default 65536\)$/,
    );
    expect(option('timeout'), '--help: --timeout').toMatch(
      /^ {2}--timeout MS +a line must end \(\\n\) within MS ms of its first byte, or the connection is closed \(default 30000\); idle between lines is fine$/,
    );
    expect(option('budget'), '--help: --budget').toMatch(
      /^ {2}--budget BYTES +bytes held for all clients at once, lines in progress and answers queued; a client that would pass it gets `error: server busy` \(default 67108864\)$/,
    );
    expect(option('max-connections'), '--help: --max-connections').toMatch(
      /^ {2}--max-connections N +connections open at once; one more gets `error: server busy` \(default 1000\)$/,
    );
    expect(server.host, 'the default --host').toBe('127.0.0.1');
    expect(bad.code, '--max-line 0 is bad usage: exit 2').toBe(2);
    expect(bad.stderr, 'one clear line on stderr').toBe(
      "server.ts: --max-line must be a whole number from 1 to 16777216, not '0' (see server.ts --help)\n",
    );

    reproSetup({
      serverArgs: ['--max-line', '8', '--timeout', '100', '--budget', '4096', '--max-connections', '4'],
    });
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

    // --budget 4096: one write of 20,000 empty lines asks for 20,000 answers (about 130 KB) at
    // once, far more than 4096 bytes however the write is cut.
    const flooded = await alive(() =>
      exchange(server.port, '\n'.repeat(20_000), {
        hint: 'pass --budget to createLineServer() as budgetBytes',
      }),
    );
    expect(
      flooded.toString().endsWith('error: server busy\n'),
      `the reply to 20,000 empty lines with --budget 4096 ends in \`error: server busy\`: it ends in ${JSON.stringify(flooded.toString().slice(-40))}`,
    ).toBe(true);
    await server.waitForLine(
      /^client 127\.0\.0\.1:\d+ refused: over the budget of 4096 bytes for all clients, closing$/,
      'a log line `client IP:PORT refused: over the budget of 4096 bytes for all clients, closing`',
    );
    // --max-connections 4: four clients each hold half a line; a fifth is turned away.
    const held = await Promise.all(Array.from({ length: 4 }, () => connect(server.port)));
    await Promise.all(held.map((peer) => peer.write('1234567')));
    const fifth = await alive(() =>
      connect(server.port).then((peer) =>
        peer.closed({ hint: 'pass --max-connections to createLineServer() as maxConnections' }),
      ),
    );
    assertBytes(fifth, 'error: server busy\n', {
      what: 'the reply to a fifth connection with --max-connections 4',
    });
    await server.waitForLine(
      /^client 127\.0\.0\.1:\d+ refused: 4 connections already open$/,
      'a log line `client IP:PORT refused: 4 connections already open`',
    );
    const heldPorts = held.map((peer) => peer.socket.localPort);
    for (const peer of held) peer.reset();
    for (const port of heldPorts) {
      await server.waitForLine(
        new RegExp(`^client 127\\.0\\.0\\.1:${port} closed$`),
        `a \`closed\` line for port ${port}`,
      );
    }

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
