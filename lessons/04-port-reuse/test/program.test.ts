import net from 'node:net';
import { assertBytes, connect, LIVENESS_MS, lessonOf, listen, type ProgramResult } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { startProgram, stderrLine } from './helpers.ts';

// The real program, run as a learner runs it: `npx tsx lessons/04-port-reuse/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

const inUse = (port: number) => `port ${port} on 127.0.0.1 is already in use (EADDRINUSE)`;

/** How a program ended, with the end of its stderr (a stack trace, say), for a failure message. */
function exitedWith({ code, signal, stderr }: ProgramResult): string {
  const how = signal ? `It was killed by ${signal}` : `It exited ${code}`;
  const tail = stderr.length > 1_500 ? `…${stderr.slice(-1_500)}` : stderr;
  return tail.trim() === '' ? `${how}, with nothing on stderr.` : `${how}; its stderr:\n${tail.trimEnd()}`;
}

/** The same run by hand: the test's port, busy a moment ago, is free by the time anyone reads this. */
const byHand = (args: string[]) =>
  [
    'npx course nc -l 127.0.0.1 9000     # in one terminal: holds the port (Ctrl-C frees it)',
    `${lesson.command('server', ['--port', '9000', ...args])}     # in another`,
  ].join('\n');

describe('the program: server.ts', () => {
  test('busy port: exits 1 with one clear line; with --retries it waits until the port frees up, then serves', async () => {
    const blocker = net.createServer((socket) => socket.destroy());
    const port = await listen(blocker);
    const retrying = ['--retries', '20', '--retry-delay', '50'];
    const once = await startProgram(lesson, 'server', ['--port', String(port)], byHand([]));
    const waiting = await startProgram(
      lesson,
      'server',
      ['--port', String(port), ...retrying],
      byHand(retrying),
    );
    const [onceResult, note] = await Promise.all([
      once.exit(LIVENESS_MS),
      stderrLine(waiting, /trying again/, 'a line on stderr: the port is busy, trying again', LIVENESS_MS),
    ]);
    expect(
      onceResult.stderr,
      'the one clear line, and nothing else (no stack trace): listenOnce() rejects with a PortInUseError',
    ).toBe(`${inUse(port)}\n`);
    expect(onceResult.code, `a port that stays busy exits 1. ${exitedWith(onceResult)}`).toBe(1);

    // The port frees up while the --retries 20 program waits: it takes it, serves, stops on Ctrl-C.
    expect(note, 'onRetry(error, attempt, delayMs) prints this line').toBe(
      `${inUse(port)}: trying again in 50 ms (1 of 20)`,
    );
    await new Promise((resolve) => blocker.close(resolve));
    await waiting.waitForLine(
      /^listening on /,
      'the program to take the port once it is free: `listening on`',
      {
        ms: LIVENESS_MS,
        hint:
          'with --retries 20 --retry-delay 50 the program keeps trying for a second: after each failed ' +
          'attempt, await sleep(retryDelayMs) before the next one, or all 21 attempts are over in a few milliseconds',
      },
    );
    await waiting.listening();
    expect(waiting.port, 'the program listens on the port it asked for').toBe(port);
    const peer = await connect(port);
    assertBytes(await peer.closed(), `hello from port ${port}\n`, { what: 'the greeting' });
    const result = await waiting.stop('SIGINT');
    expect(result.code, `on SIGINT the server should exit 0. ${exitedWith(result)}`).toBe(0);
  });

  test('an address not on this machine: exits 1 with the `cannot listen on` line', async () => {
    const args = ['--host', '192.0.2.1'];
    const result = await (await startProgram(lesson, 'server', args)).exit(LIVENESS_MS);
    expect(result.stderr, 'one clear line: only a PortInUseError is printed as it is').toBe(
      'cannot listen on 192.0.2.1:0: address not available on this machine (EADDRNOTAVAIL)\n',
    );
    expect(result.code, `exits 1. ${exitedWith(result)}`).toBe(1);
  });

  test('logs each connection on stdout, as the README shows', async () => {
    const server = await lesson.startServer('server');
    const peer = await connect(server.port);
    assertBytes(await peer.closed(), `hello from port ${server.port}\n`, { what: 'the greeting' });
    await server.waitForLine(
      /^client connected from /,
      'the per-connection log line `client connected from HOST:PORT`',
      {
        ms: LIVENESS_MS,
      },
    );
  });

  test('--help lists every option with its value and what it does, and exits 0', async () => {
    const help = await lesson.run('server', ['--help']);
    expect(help.code, `--help exits 0. ${exitedWith(help)}`).toBe(0);
    const lines = help.stdout.split('\n');
    expect(lines[0], 'the first line of --help').toBe('usage: server.ts [options]');
    expect(lines[2], 'the summary').toBe(
      'Answers every connection with one line, `hello from port P`, and closes it.',
    );
    const row = (flag: string) => lines.find((line) => line.trimStart().startsWith(`${flag} `))?.trim() ?? '';
    expect(row('--retries'), 'the --retries row').toMatch(
      /^--retries N +when the port is busy, try N more times \(default 0\)$/,
    );
    expect(row('--retry-delay'), 'the --retry-delay row').toMatch(
      /^--retry-delay MS +pause between tries \(default 500\)$/,
    );
  });
});
