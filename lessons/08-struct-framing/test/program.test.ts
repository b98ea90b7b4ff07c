import { assertBytes, connect, lessonOf, ncLine, reproSetup, runCourseLine } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { frame, frames } from './support.ts';

// The real program, run as a learner runs it: `npx tsx lessons/08-struct-framing/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

describe('the program: server.ts', () => {
  test('echoes frames, logs an oversized header and a client too slow for --timeout, exits 0 on Ctrl-C; bad flags exit 2', async () => {
    const [server, bad, badTimeout] = await Promise.all([
      lesson.startServer('server', ['--max-frame-bytes', '1000', '--timeout', '200']),
      lesson.run('server', ['--max-frame-bytes', 'lots']),
      lesson.run('server', ['--timeout', '0']),
    ]);
    expect(bad.code, 'a bad --max-frame-bytes is bad usage: exit 2').toBe(2);
    expect(bad.stderr, 'one clear line on stderr').toBe(
      "server.ts: --max-frame-bytes must be a whole number from 0 to 4294967295, not 'lots' (see server.ts --help)\n",
    );
    expect(badTimeout.code, '--timeout 0 is bad usage: exit 2').toBe(2);
    expect(badTimeout.stderr, 'one clear line on stderr').toBe(
      "server.ts: --timeout must be a whole number from 1 to 2147483647, not '0' (see server.ts --help)\n",
    );

    expect(server.host, 'the default --host').toBe('127.0.0.1');
    reproSetup({ serverArgs: ['--max-frame-bytes', '1000', '--timeout', '200'] });
    // A client that sends half a header and then nothing: closed 200 ms after connecting.
    const stalled = await connect(server.port);
    const stalledPort = stalled.socket.localPort;
    await stalled.write(Buffer.from([0, 0]));
    const peer = await connect(server.port);
    await peer.write(frames('hi', '', 'there'));
    assertBytes(await peer.bytes(19), frames('hi', '', 'there'), { what: 'the echo' });

    const rude = await connect(server.port);
    await rude.write(frame(Buffer.alloc(1001)).subarray(0, 4));
    await rude.closed({ allowReset: true, expected: 'the server to close a frame over --max-frame-bytes' });
    await server.waitForLine(
      /: a frame of 1001 bytes is over the limit of 1000 bytes \(EFRAMETOOLARGE\), closing the connection$/,
      'a log line for the frame over the limit',
    );

    await stalled.closed({
      allowReset: true,
      expected: 'the server to close a connection with no complete frame for --timeout 200 ms',
      hint: 'each frame must be complete within --timeout ms of the previous one, or of connecting: see the deadline in README step 8',
    });
    await server.waitForLine(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${stalledPort} too slow: frame not complete after 200 ms, closing$`,
      ),
      'a log line for the client that stalled',
    );

    const started = performance.now();
    const result = await server.stop('SIGINT');
    expect(result.code, 'on SIGINT the server should close its connections and exit 0').toBe(0);
    expect(
      performance.now() - started,
      'ms from SIGINT to exit: close the connections, then exit within a second',
    ).toBeLessThan(1_000);
    await peer.closed({ allowReset: true });
  });
});

describe("the course's nc", () => {
  test('sends a frame and gets it back, as the Play section shows', async () => {
    const server = await lesson.startServer('server');
    const stdout = await runCourseLine(ncLine(frame('ping'), server.port));
    assertBytes(stdout, frame('ping'), { what: "course nc's output: the echoed frame" });
  });
});

describe('the program: server.ts, its limits and its help', () => {
  test('--budget and --max-connections: a client over either is logged and closed, the others served', async () => {
    const [server, noBudget, noConnections] = await Promise.all([
      lesson.startServer('server', ['--budget', '3000', '--max-connections', '1']),
      lesson.run('server', ['--budget', '0']),
      lesson.run('server', ['--max-connections', '0']),
    ]);
    for (const [result, flag] of [
      [noBudget, '--budget'],
      [noConnections, '--max-connections'],
    ] as const) {
      expect(result.code, `${flag} 0 is bad usage: exit 2`).toBe(2);
      expect(result.stderr, 'one clear line on stderr').toBe(
        `server.ts: ${flag} must be a whole number of at least 1, not '0' (see server.ts --help)\n`,
      );
    }
    reproSetup({ serverArgs: ['--budget', '3000', '--max-connections', '1'] });
    // What this builds on first: a frame comes back (step 6). Then the place is free again.
    const first = await connect(server.port);
    const firstPort = first.socket.localPort;
    await first.write(frame('first'));
    assertBytes(await first.bytes(frame('first').length), frame('first'), {
      what: 'the echo',
      hint: 'step 6 first: write every frame back',
    });
    first.socket.end();
    await server.waitForLine(new RegExp(`^client 127\\.0\\.0\\.1:${firstPort} closed$`), 'its close');
    // 3,500 bytes of a 4,000-byte frame: more than the server holds for all its clients.
    const greedy = await connect(server.port);
    const greedyPort = greedy.socket.localPort;
    await greedy.write(frame(Buffer.alloc(4000, 0x67)).subarray(0, 3504)).catch(() => {});
    await greedy.closed({ allowReset: true, expected: 'the server to close a client over --budget 3000' });
    await server.waitForLine(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${greedyPort} refused: over the budget of 3000 bytes for all clients, closing$`,
      ),
      'a log line for the client over --budget',
    );
    await server.waitForLine(new RegExp(`^client 127\\.0\\.0\\.1:${greedyPort} closed$`), 'its close');
    // One client at a time: the first is served, the second turned away.
    const polite = await connect(server.port);
    await polite.write(frame('within'));
    assertBytes(await polite.bytes(frame('within').length), frame('within'), { what: 'the echo' });
    const second = await connect(server.port);
    const secondPort = second.socket.localPort;
    await second.closed({
      allowReset: true,
      expected: 'the server to close a connection over --max-connections 1',
    });
    await server.waitForLine(
      new RegExp(`^client 127\\.0\\.0\\.1:${secondPort} refused: 1 connections already open, closing$`),
      'a log line for the connection over --max-connections',
    );
    const result = await server.stop('SIGINT');
    expect(result.code, 'on SIGINT the server should close its connections and exit 0').toBe(0);
  });

  test('--help lists every option, with its value and what it does, and exits 0', async () => {
    const help = await lesson.run('server', ['--help']);
    expect(help.code, '--help exits 0').toBe(0);
    expect(help.stdout, 'what the program does').toContain(
      'Echoes every length-prefixed frame (4-byte unsigned big-endian length, then payload).',
    );
    for (const [option, words] of [
      ['--max-frame-bytes N', 'longest frame payload accepted (default 16777216)'],
      [
        '--timeout MS',
        'each frame must be complete within MS ms of the previous one, or of connecting (default 30000)',
      ],
      [
        '--budget BYTES',
        'bytes held for all clients at once, frames being assembled and echoes queued; a client that would pass it is closed (default 67108864)',
      ],
      ['--max-connections N', 'connections open at once; one more is closed (default 1000)'],
    ] as const) {
      expect(help.stdout, `the --help line of ${option}`).toMatch(
        new RegExp(`^  ${option.replace(' ', ' ')} +${words.replace(/[()]/g, '\\$&')}$`, 'm'),
      );
    }
  });
});
