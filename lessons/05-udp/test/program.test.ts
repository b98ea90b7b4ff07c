import {
  assertBytes,
  hasCommand,
  lessonOf,
  type ProgramResult,
  runCommand,
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

/**
 * Fails with one message that shows the whole run when its exit code or output differ. `what`
 * names the run: `client.ts against a server that never answers`.
 */
function expectRun(
  result: ProgramResult,
  expected: { code: number; stdout?: string; stderr: string },
  what: string,
  hint: string,
  repro: string,
): void {
  const stdoutOk = expected.stdout === undefined || result.stdout === expected.stdout;
  if (result.code === expected.code && result.stderr === expected.stderr && stdoutOk) return;
  throw new WireError(`${what}: not what was expected`, {
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

/** The line of `--help` that lists `name` (a flag with its placeholder, or a positional). */
function helpLine(help: string, name: string): string | undefined {
  return help.split('\n').find((line) => line.trimStart().startsWith(`${name} `));
}

/** Checks that `--help` lists `name` with `description`, in columns. */
function expectHelpLists(help: string, program: string, name: string, description: string): void {
  const line = helpLine(help, name);
  expect(line, `${program} --help should list \`${name}\``).toBeDefined();
  expect(line?.trim().replace(/\s{2,}/, '  '), `${program} --help: what \`${name}\` does`).toBe(
    `${name}  ${description}`,
  );
}

describe('the programs: server.ts and client.ts', () => {
  // One test, so that the four programs start side by side: each start costs a fraction of a second.
  test('server.ts answers and exits 0 on Ctrl-C; client.ts prints the reply; it fails with one clear line and the right exit code', async () => {
    const upper = await startUdpServer((bytes) => bytes.toString('utf8').toUpperCase());
    const silent = await startUdpServer(); // receives, never answers
    const server9000 = `${lesson.command('server', ['--port', '9000'])}     # in one terminal`;
    const okRepro = `${server9000}\n${lesson.command('client', ['--port', '9000', '--timeout', '10000', 'héllo 你好'])}     # in another`;
    const lostRepro = `${lesson.command('client', ['--port', '9001', '--timeout', '50', '--retries', '1', 'anyone?'])}     # nothing listens on 9001`;
    const tooBigRepro = `${lesson.command('client', ['--port', '9000'])} "$(node -p "'x'.repeat(70000)")"`;
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
      'client.ts against an upper-case server',
      'request() should resolve with the reply; the program prints it as it is, with nothing added',
      okRepro,
    );
    expectRun(
      lost,
      {
        code: 1,
        stderr: `no reply from 127.0.0.1:${silent.port} after 2 attempts, 50 ms each (ETIMEDOUT)\n`,
      },
      'client.ts against a server that never answers',
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
      'client.ts with a message of 70,000 bytes',
      'encodeMessage() (step 4) refuses it with EMSGSIZE; the program turns that into exit code 2',
      tooBigRepro,
    );
    expect(
      silent.received.map((d) => d.bytes.toString()),
      'two tries of `anyone?`, and nothing of the message that was too big',
    ).toEqual(['anyone?', 'anyone?']);
  });

  test('--help lists every flag with its placeholder; a flag out of range exits 2 with one line', async () => {
    const [serverHelp, clientHelp, retries, tooSmall, tooBig] = await Promise.all([
      lesson.run('server', ['--help']),
      lesson.run('client', ['--help']),
      lesson.run('client', ['--port', '9', '--retries', '101', 'hello']),
      lesson.run('server', ['--recv-buffer', '0']),
      lesson.run('server', ['--recv-buffer', String(2 ** 31)]),
    ]);
    const helpRepro = (program: string) => `${lesson.command(program, ['--help'])}`;

    expectRun(
      serverHelp,
      { code: 0, stderr: '' },
      'server.ts --help',
      'print the usage and exit 0',
      helpRepro('server'),
    );
    expect(serverHelp.stdout.split('\n').slice(0, 3), 'the usage line, then the summary').toEqual([
      'usage: server.ts [options]',
      '',
      'Answers every datagram, to its sender, with the payload in upper case.',
    ]);
    expectHelpLists(serverHelp.stdout, 'server.ts', '--host HOST', 'address to bind (default 127.0.0.1)');
    expectHelpLists(serverHelp.stdout, 'server.ts', '--port PORT', 'port to bind (default 0: any free port)');
    expectHelpLists(
      serverHelp.stdout,
      'server.ts',
      '--recv-buffer BYTES',
      "the socket's receive buffer (default: the system's)",
    );

    expectRun(
      clientHelp,
      { code: 0, stderr: '' },
      'client.ts --help',
      'print the usage and exit 0',
      helpRepro('client'),
    );
    expect(clientHelp.stdout.split('\n').slice(0, 3), 'the usage line, then the summary').toEqual([
      'usage: client.ts [options] MESSAGE',
      '',
      'Sends MESSAGE in one UDP datagram and prints the reply, sending again if none comes.',
    ]);
    expectHelpLists(clientHelp.stdout, 'client.ts', 'MESSAGE', 'the text to send (at most 65507 bytes)');
    expectHelpLists(
      clientHelp.stdout,
      'client.ts',
      '--timeout MS',
      'how long to wait for a reply before sending again (default 1000)',
    );
    expectHelpLists(
      clientHelp.stdout,
      'client.ts',
      '--retries N',
      'how many times to send again after the first try (default 3)',
    );

    expectRun(
      retries,
      {
        code: 2,
        stdout: '',
        stderr:
          "client.ts: --retries must be a whole number from 0 to 100, not '101' (see client.ts --help)\n",
      },
      'client.ts --retries 101',
      "at most 100 resends: cli.integer('retries', DEFAULT_RETRIES, { min: 0, max: 100 })",
      lesson.command('client', ['--port', '9', '--retries', '101', 'hello']),
    );
    for (const [run, value] of [
      [tooSmall, '0'],
      [tooBig, String(2 ** 31)],
    ] as const) {
      expectRun(
        run,
        {
          code: 2,
          stdout: '',
          stderr: `server.ts: --recv-buffer must be a whole number from 1 to 2147483647, not '${value}' (see server.ts --help)\n`,
        },
        `server.ts --recv-buffer ${value}`,
        'a receive buffer is 1 byte to 2 GiB - 1 (an int in the kernel): refused before any socket is made',
        lesson.command('server', ['--recv-buffer', value]),
      );
    }
  });

  test('server.ts on a port another socket holds exits 1 with one line, printed once', async () => {
    const taken = await udpPeer();
    const result = await lesson.run('server', ['--port', String(taken.port)]);
    expectRun(
      result,
      {
        code: 1,
        stdout: '',
        stderr: `cannot listen on 127.0.0.1:${taken.port}: address already in use (EADDRINUSE)\n`,
      },
      'server.ts on a port already taken',
      "the program prints bind()'s rejection on stderr; the socket's own `socket error` line would say it a second time",
      `${lesson.command('server', ['--port', '9000'])}     # in one terminal, then the same in another`,
    );
  });

  test.skipIf(process.platform !== 'linux' || !hasCommand('ss'))(
    'server.ts --recv-buffer 8192 gets a buffer of 16384 (Linux doubles it), as ss -uamn shows (needs ss)',
    async () => {
      const server = await lesson.startServer('server', ['--recv-buffer', '8192']);
      const ss = (await runCommand('ss', ['-uamn', `sport = :${server.port}`], 20_000)).toString();
      expect(
        /\brb(\d+)/.exec(ss)?.[1],
        `the receive buffer of the socket on port ${server.port} (ss -uamn: rb): pass recvBufferSize to createUpperServer()`,
      ).toBe('16384');
      expect((await server.stop('SIGINT')).code, 'on SIGINT the server exits 0').toBe(0);
    },
  );
});
