import {
  assertBytes,
  lessonOf,
  type ProgramResult,
  startUdpServer,
  udpNcLine,
  udpPeer,
  WireError,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';

// The real programs, run as a learner runs them: `npx tsx lessons/05-udp/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

/**
 * Runs client.ts with `args`. The test's servers are gone once it fails, so a failure's "try it
 * yourself" is `repro`, which uses port 9000 and a server the learner can start.
 */
async function runClient(args: string[], repro: string, hint: string): Promise<ProgramResult> {
  try {
    return await lesson.run('client', args);
  } catch (error) {
    if (error instanceof Error) {
      error.message = error.message.replace(
        /\n {2}try it yourself:[\s\S]*$/,
        `\n  hint: ${hint}\n  try it yourself:\n    ${repro.split('\n').join('\n    ')}`,
      );
    }
    throw error;
  }
}

/** One line of output quoted (its `\n` visible); more lines, such as a stack trace, as a block. */
function quote(text: string): string {
  if (text === '') return '(nothing)';
  if (!/\n./.test(text)) return JSON.stringify(text);
  const shown = text.length > 1500 ? `${text.slice(0, 1500)}…` : text.trimEnd();
  return `\n        ${shown.split('\n').join('\n        ')}`;
}

/** Fails with one message that shows the whole run when its exit code or output differ. */
function expectRun(
  result: ProgramResult,
  expected: { code: number; stdout?: string; stderr: string },
  what: string,
  hint: string,
  repro: string,
): void {
  const stdoutOk = expected.stdout === undefined || result.stdout === expected.stdout;
  if (result.code === expected.code && result.stderr === expected.stderr && stdoutOk) return;
  throw new WireError(`client.ts ${what}: not what was expected`, {
    expected: [
      `exit code ${expected.code}`,
      ...(expected.stdout === undefined ? [] : [`    stdout: ${quote(expected.stdout)}`]),
      `    stderr: ${quote(expected.stderr)}`,
    ].join('\n'),
    received: [
      result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`,
      `    stdout: ${quote(result.stdout)}`,
      `    stderr: ${quote(result.stderr)}`,
    ].join('\n'),
    hint,
    repro,
  });
}

describe('the programs: server.ts and client.ts', () => {
  // One test, so that the four programs start side by side: each start costs a fraction of a second.
  test('server.ts answers and exits 0 on Ctrl-C; client.ts prints the reply; it fails with one clear line and the right exit code', async () => {
    const upper = await startUdpServer((bytes) => bytes.toString('utf8').toUpperCase());
    const silent = await startUdpServer(); // receives, never answers
    const server9000 = `${lesson.command('server', ['--port', '9000'])}     # in one terminal`;
    const okRepro = `${server9000}\n${lesson.command('client', ['--port', '9000', '--timeout', '10000', 'héllo 你好'])}     # in another`;
    const lostRepro = `${lesson.command('client', ['--port', '9001', '--timeout', '50', '--retries', '1', 'anyone?'])}     # nothing listens on 9001`;
    const tooBigRepro = `${lesson.command('client', ['--port', '9000'])} "$(python3 -c "print('x' * 70000, end='')")"`;
    const [server, client, lost, tooBig] = await Promise.all([
      lesson.startServer('server'),
      // A long --timeout: a client that left its timer running after the reply would not exit
      // before it fires, and the test gives up waiting first.
      runClient(
        ['--port', String(upper.port), '--timeout', '10000', 'héllo 你好'],
        okRepro,
        'once the reply is in, clear the timer and close the socket: then the program exits by itself',
      ),
      runClient(
        ['--port', String(silent.port), '--timeout', '50', '--retries', '1', 'anyone?'],
        lostRepro,
        'a lost datagram is never answered: start a timer when you send, and send again or give up when it fires',
      ),
      runClient(
        ['--port', String(silent.port), 'x'.repeat(70_000)],
        tooBigRepro,
        'a message too big for one datagram is refused before anything is sent: encodeMessage() (step 4)',
      ),
    ]);

    expect(server.host, 'server.ts listens on --host, 127.0.0.1 by default').toBe('127.0.0.1');
    const peer = await udpPeer();
    await peer.send('héllo 你好', server.port);
    const serverRepro = `${server9000}\n${udpNcLine('héllo 你好', 9000)}     # in another`;
    assertBytes(
      await peer.datagram({ expected: 'a reply from server.ts', repro: serverRepro }),
      'HÉLLO 你好',
      { what: 'the reply', repro: serverRepro },
    );
    await server.waitForLine(/^datagram from 127\.0\.0\.1:\d+: 13 bytes$/, 'a `datagram from` line');
    const stopping = performance.now();
    const result = await server.stop('SIGINT');
    expect(result.code, 'on SIGINT the server should close its socket and exit 0').toBe(0);
    expect(
      performance.now() - stopping,
      'on SIGINT the server should exit within a second: close the socket, and leave no timer behind',
    ).toBeLessThan(1_000);

    expectRun(
      client,
      { code: 0, stdout: 'HÉLLO 你好', stderr: '' },
      'against an upper-case server',
      'request() should resolve with the reply; the program prints it as it is, with nothing added',
      okRepro,
    );
    expectRun(
      lost,
      {
        code: 1,
        stderr: `no reply from 127.0.0.1:${silent.port} after 2 attempts, 50 ms each (ETIMEDOUT)\n`,
      },
      'against a server that never answers',
      'send again when the timer fires, 1 + retries tries in all, then reject with ETIMEDOUT',
      lostRepro,
    );
    expectRun(
      tooBig,
      {
        code: 2,
        stderr:
          'client.ts: the message is 70000 bytes, more than the 65507 one UDP datagram can carry (EMSGSIZE)\n',
      },
      'with a message of 70,000 bytes',
      'encodeMessage() (step 4) refuses it with EMSGSIZE; the program turns that into exit code 2',
      tooBigRepro,
    );
    expect(
      silent.received.map((d) => d.bytes.toString()),
      'two tries of `anyone?`, and nothing of the message that was too big',
    ).toEqual(['anyone?', 'anyone?']);
  });
});
