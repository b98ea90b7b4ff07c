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
    const [busy, bad, noBytes, noConnections] = await Promise.all([
      lesson.run('server', ['--port', String(taken)]),
      lesson.run('server', ['--prot', '9000']),
      lesson.run('server', ['--max-bytes', '0']),
      lesson.run('server', ['--max-connections', '0']),
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
    // A limit of 0 would refuse everything: bad usage, said in one line.
    for (const [flag, result] of [
      ['max-bytes', noBytes],
      ['max-connections', noConnections],
    ] as const) {
      expect(result.stderr, `--${flag} 0: one line saying what the flag takes`).toBe(
        `server.ts: --${flag} must be a whole number of at least 1, not '0' (see server.ts --help)\n`,
      );
      expect(result.code, `--${flag} 0 exits 2. ${exitedWith(result)}`).toBe(2);
    }
  });

  test('--help lists every option with its value and what it does, and exits 0', async () => {
    const help = await lesson.run('server', ['--help']);
    expect(help.code, `--help exits 0. ${exitedWith(help)}`).toBe(0);
    const lines = help.stdout.split('\n');
    expect(lines[0], 'the first line of --help').toBe('usage: server.ts [options]');
    expect(lines[2], 'the summary').toBe(
      'Answers each connection with its message in upper case, then closes it.',
    );
    const option = (flag: string) => lines.find((line) => line.trimStart().startsWith(`${flag} `)) ?? '';
    const rows: [string, RegExp][] = [
      ['--host', /^ {2}--host HOST +address to listen on \(default 127\.0\.0\.1\)$/],
      ['--port', /^ {2}--port PORT +port to listen on \(default 0: any free port\)$/],
      ['--backlog', /^ {2}--backlog N +connections waiting to be accepted \(default 511\)$/],
      [
        '--max-bytes',
        /^ {2}--max-bytes N +longest request, and longest reply, in bytes; longer ones get `error: \.\.\.` \(default 1048576\)$/,
      ],
      [
        '--timeout',
        /^ {2}--timeout MS +the whole exchange, from connecting until the client has taken the reply, must be over within MS milliseconds, or the connection is reset \(default 10000\)$/,
      ],
      [
        '--max-connections',
        /^ {2}--max-connections N +most connections open at once; more are closed at once \(default: no limit\)$/,
      ],
    ];
    for (const [flag, row] of rows) expect(option(flag), `the --help line of ${flag}`).toMatch(row);
  });

  test('--max-bytes, --timeout and --max-connections 1 do what they say', async () => {
    const server = await lesson.startServer('server', [
      '--max-bytes',
      '10',
      '--timeout',
      '2000',
      '--max-connections',
      '1',
    ]);
    // --max-bytes 10: 11 bytes are refused, in the protocol's words.
    assertBytes(await exchange(server.port, 'hello world'), 'error: request longer than 10 bytes\n', {
      what: 'the answer to 11 bytes with --max-bytes 10',
    });
    await server.waitForLine(
      /^client 127\.0\.0\.1:\d+ closed$/,
      'a `client 127.0.0.1:PORT closed` line for the refused client',
    );
    // --max-connections 1: while one client is connected, the next is refused, in the singular.
    const silent = await connect(server.port);
    const silentPort = silent.socket.localPort;
    await server.waitForLine(
      new RegExp(`^client connected from 127\\.0\\.0\\.1:${silentPort}$`),
      `a \`client connected from 127.0.0.1:${silentPort}\` line`,
    );
    const refused = await connect(server.port);
    const refusedPort = refused.socket.localPort;
    await refused.closed({ allowReset: true, expected: 'the server to refuse a second connection at once' });
    await server.waitForLine(
      new RegExp(`^refused a connection from 127\\.0\\.0\\.1:${refusedPort}: 1 connection already open$`),
      `a \`refused a connection from 127.0.0.1:${refusedPort}: 1 connection already open\` line`,
    );
    // --timeout 2000: the silent client is cut off at the deadline, not the default 10 s. (2 s,
    // so that it still holds the only place while the next client is refused, however busy the
    // machine.) The wait is far longer, and far shorter than 10 s.
    await silent.closed({
      allowReset: true,
      ms: 6_000,
      expected: 'the server to close the silent client after 2000 ms',
    });
    await server.waitForLine(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${silentPort} too slow: request not complete after 2000 ms, closing$`,
      ),
      'a `too slow: request not complete after 2000 ms` line',
    );
  });
});
