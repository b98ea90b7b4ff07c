import net from 'node:net';
import {
  closeAfterTest,
  closedPort,
  hasCommand,
  LogLines,
  lessonOf,
  listen,
  startCommand,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { chatter, joined } from './support.ts';

// The real programs, run as a learner runs them: `npx tsx lessons/06-chat/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

/**
 * server.ts: `listening on HOST:PORT`, a working room, --max-clients and --timeout, and a clean
 * exit on Ctrl-C with clients in it.
 */
async function checkServerProgram() {
  const server = await lesson.startServer('server', ['--max-clients', '3', '--timeout', '300']);
  expect(server.host, 'the default --host is 127.0.0.1').toBe('127.0.0.1');
  const alice = await joined(server.port, 'alice');
  const bob = await joined(server.port, 'bob');
  await alice.send('hi bob\n');
  await bob.expect('alice: hi bob');
  await server.waitForLine(/joined as bob$/, 'a log line `127.0.0.1:PORT joined as bob`');
  // A third connection that never sends a nickname takes the last place; a fourth is turned away.
  const lurker = await chatter(server.port, 'lurker');
  const fourth = await chatter(server.port, 'fourth');
  await fourth.expect('ERR server full', 'with --max-clients 3, the fourth connection is turned away');
  await lurker.expect('ERR too slow', 'with --timeout 300, a connection not joined after 300 ms is cut off');
  await server.waitForLine(/too slow: not joined after 300 ms/, 'a log line `client IP:PORT too slow: ...`');
  const started = performance.now();
  const result = await server.stop('SIGINT');
  expect(result.code, 'on SIGINT the server should close its connections and exit 0').toBe(0);
  // The program itself must exit within a second; this bound only catches a hang, with room
  // for a busy machine.
  expect(performance.now() - started, 'the server should exit soon after Ctrl-C').toBeLessThan(5_000);
  await alice.closed({ allowReset: true });
}

/**
 * server.ts, full: a client turned away that resets its connection must not take the server down.
 * The server's socket for it has sent `ERR server full` and its FIN, and still reads (a client's
 * unread bytes would turn its close into a reset); a reset then comes as an 'error' on that socket,
 * which, with no listener, would end the whole process.
 */
async function checkTurnedAwayReset() {
  const server = await lesson.startServer('server', ['--max-clients', '1']);
  const alice = await joined(server.port, 'alice');
  // A client that keeps its side open after the server's FIN, then resets.
  const rude = net.connect({ host: '127.0.0.1', port: server.port, allowHalfOpen: true });
  closeAfterTest(() => rude.destroy());
  rude.on('error', () => {});
  let said = '';
  rude.setEncoding('utf8').on('data', (text: string) => {
    said += text;
  });
  await within(new Promise((resolve) => rude.once('end', resolve)), () => ({
    expected: 'with --max-clients 1 and alice in, a second connection gets `ERR server full`, then FIN',
    received: JSON.stringify(said),
  }));
  expect(said, 'what the server said to the connection it turned away').toBe('ERR server full\n');
  rude.resetAndDestroy();
  // Twice: the first /who may be answered in the same turn of the event loop as the reset.
  const hint =
    "a client turned away that then resets must not take the server down: turnAway() listens for the socket's 'error'";
  for (let i = 0; i < 2; i++) {
    await alice.send('/who\n');
    await alice.expect('USERS alice', hint);
  }
}

/** client.ts, piped: chats and exits 0; exits 1 with one clear line when refused, 2 on bad usage. */
async function checkClientProgram() {
  // Imported here, not at the top: a server.ts that cannot even load (a bad RegExp built at load
  // time, say) then fails these tests with its error, as the programs it runs do, instead of
  // stopping the whole file before any test runs.
  const { createChatServer } = await import('#impl/server.ts');
  const port = await listen(createChatServer({ log: new LogLines().add }));
  const alice = await joined(port, 'alice');
  const closed = await closedPort();
  const [bob, refused, usage] = await Promise.all([
    lesson.run('client', ['--port', String(port), '--nick', 'bob'], { stdin: 'hello alice\n/who\n' }),
    lesson.run('client', ['--port', String(closed), '--nick', 'bob']),
    lesson.run('client', ['--port', String(port)]),
  ]);
  expect(bob.stderr, 'a chat that goes well prints nothing on stderr').toBe('');
  expect(bob.stdout, 'bob sees OK, then the answer to /who; the end of stdin ends the chat').toBe(
    'OK bob\nUSERS alice,bob\n',
  );
  expect(bob.code, 'exit 0 once the server has closed').toBe(0);
  expect(await alice.next(3), "what the room sees of bob's piped session").toEqual([
    '* bob joined',
    'bob: hello alice',
    '* bob left',
  ]);
  expect(refused.code, 'a network failure: exit code 1').toBe(1);
  expect(refused.stderr, 'one clear line on stderr').toBe(
    `cannot connect to 127.0.0.1:${closed}: connection refused (ECONNREFUSED)\n`,
  );
  expect(usage.code, 'bad usage: exit code 2').toBe(2);
  expect(usage.stderr, 'one clear line on stderr').toBe(
    'client.ts: --nick is required: your nickname in the room (see client.ts --help)\n',
  );
}

/** The line of `help` that lists `name` (`--max-queue BYTES`), its spaces squeezed: `name  what it does`. */
function helpLine(help: string, name: string): string | undefined {
  const line = help.split('\n').find((l) => l.trimStart().startsWith(`${name} `));
  return line?.trim().replace(/\s{2,}/, '  ');
}

/** --help of both programs: every option with its placeholder, its meaning and its default. */
async function checkHelp() {
  const [server, client] = await Promise.all([
    lesson.run('server', ['--help']),
    lesson.run('client', ['--help']),
  ]);
  expect(server.code, 'server.ts --help: exit 0').toBe(0);
  expect(server.stdout.split('\n').slice(0, 3), 'server.ts --help: the usage line, then the summary').toEqual(
    [
      'usage: server.ts [options]',
      '',
      'A chat room: send a nickname, then lines; /who lists the room, /quit leaves.',
    ],
  );
  for (const [name, what] of [
    [
      '--max-queue BYTES',
      'bytes queued for a client that does not read before it is dropped (default 262144)',
    ],
    [
      '--timeout MS',
      'ms a new connection has to join, and a member to finish a line it began; silence between lines is never cut (default 30000)',
    ],
    ['--max-clients N', 'connections at once, joined or not; one more gets ERR server full (default 1000)'],
    [
      '--max-per-address N',
      'connections at once from one IP address; one more gets ERR too many connections from your address (default 16)',
    ],
  ] as const) {
    expect(helpLine(server.stdout, name), `server.ts --help should list \`${name}\` and what it does`).toBe(
      `${name}  ${what}`,
    );
  }
  expect(client.code, 'client.ts --help: exit 0').toBe(0);
  expect(client.stdout.split('\n').slice(0, 3), 'client.ts --help: the usage line, then the summary').toEqual(
    [
      'usage: client.ts [options]',
      '',
      'Joins the chat room as NICK: prints what the room says, sends each line you type.',
    ],
  );
  expect(helpLine(client.stdout, '--nick NICK'), 'client.ts --help should list `--nick NICK`').toBe(
    '--nick NICK  your nickname: 1 to 32 letters of one script, digits, _ or -',
  );
}

/** Flags out of range and a nickname the server would refuse: exit 2 with one line, before any connection. */
async function checkUsageErrors() {
  const runs = await Promise.all([
    lesson.run('server', ['--max-queue', '0']),
    lesson.run('server', ['--max-clients', '0']),
    lesson.run('server', ['--max-per-address', '0']),
    lesson.run('client', ['--port', '9', '--nick', 'a b']),
    lesson.run('client', ['--port', '9', '--nick', '\u0430lice']),
    lesson.run('client', ['--port', '9', '--nick', 'sake\u9152']),
  ]);
  for (const [i, flag] of ['--max-queue', '--max-clients', '--max-per-address'].entries()) {
    const run = runs[i];
    expect(run?.code, `server.ts ${flag} 0: at least 1, or the server could not work: exit 2`).toBe(2);
    expect(run?.stderr, `server.ts ${flag} 0: one line naming the flag`).toContain(flag);
  }
  for (const [run, nick] of [
    [runs[3], 'a b'],
    [runs[4], '\u0430lice'],
    [runs[5], 'sake\u9152'],
  ] as const) {
    expect(run?.code, `client.ts --nick ${JSON.stringify(nick)}: the server would refuse it: exit 2`).toBe(2);
    expect(run?.stderr, 'one line saying why').toBe(
      `client.ts: --nick '${nick}' is not valid: use 1 to 32 letters of one script, digits, _ or - (see client.ts --help)\n`,
    );
  }
}

/**
 * Runs `command` with its stdin on a pseudo-terminal (and its stdout too when `stdout` is
 * 'terminal', else a pipe), types `/quit` and Enter once `OK bob` is shown, and prints everything
 * the program wrote to its stdout (at most 15 s, then the program is killed). Python's pty module
 * makes the terminal (Linux and macOS).
 */
const ON_A_TERMINAL = `
import os, pty, select, subprocess, sys, time
mode, cmd = sys.argv[1], sys.argv[2:]
master, slave = pty.openpty()
child = subprocess.Popen(cmd, stdin=slave, stdout=slave if mode == 'terminal' else subprocess.PIPE)
os.close(slave)
sources = [master] + ([] if mode == 'terminal' else [child.stdout.fileno()])
shown, typed, deadline = b'', False, time.time() + 15
while sources and time.time() < deadline:
    for fd in select.select(sources, [], [], 0.1)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            sources.remove(fd)
        elif mode == 'terminal' or fd != master:
            shown += data
    if not typed and b'OK bob' in shown:
        os.write(master, b'/quit\\r')
        typed = True
try:
    child.wait(timeout=3)
except subprocess.TimeoutExpired:
    child.kill()
    child.wait()
sys.stdout.buffer.write(shown)
sys.exit(child.returncode)
`;

/**
 * client.ts with its stdin on a terminal, and its stdout on the terminal (`terminal`) or a pipe
 * (`pipe`), in a room of the lesson's server: what it printed on stdout, and its exit code.
 */
async function clientOnTerminal(stdout: 'terminal' | 'pipe') {
  const { createChatServer } = await import('#impl/server.ts');
  const port = await listen(createChatServer({ log: new LogLines().add }));
  const client = startCommand(
    'python3',
    [
      '-c',
      ON_A_TERMINAL,
      stdout,
      process.execPath,
      '--import',
      'tsx',
      lesson.file('client'),
      '--port',
      String(port),
      '--nick',
      'bob',
    ],
    { cwd: lesson.dir },
  );
  // A liveness bound: tsx compiles client.ts first, which a busy machine may take seconds for.
  return client.exit(20_000);
}

describe('the programs: server.ts and client.ts', () => {
  test('--help lists every option with its placeholder and default; a flag out of range or a bad --nick exits 2', async () => {
    await Promise.all([checkHelp(), checkUsageErrors()]);
  });

  test.skipIf(process.platform === 'win32' || !hasCommand('python3'))(
    'client.ts draws a prompt only when stdin and stdout are both terminals (needs python3 for a pseudo-terminal)',
    async () => {
      const [both, piped] = await Promise.all([clientOnTerminal('terminal'), clientOnTerminal('pipe')]);
      const stdout = (text: string) => JSON.stringify(text.replace(/\r/g, ''));
      expect(
        both.stdout.includes('bob> '),
        `stdin and stdout on a terminal: the prompt "bob> " is shown (terminal: stdin.isTTY && stdout.isTTY); stdout was ${stdout(both.stdout)}, stderr ${JSON.stringify(both.stderr)}`,
      ).toBe(true);
      expect(both.code, 'on a terminal too, /quit ends the chat: exit 0').toBe(0);
      expect(
        piped.stdout,
        'stdin on a terminal but stdout a pipe or a file (client.ts > chat.log): plain lines, no prompt and no escape codes in the file',
      ).toBe('OK bob\nBYE\n');
      expect(piped.code, 'stdout a pipe: /quit ends the chat, exit 0').toBe(0);
    },
  );

  // One test, both programs side by side: each child process costs a few hundred milliseconds.
  test('server.ts runs a room and exits 0 on Ctrl-C; client.ts chats with piped stdin, exits 1 on failure, 2 on bad usage', async () => {
    await Promise.all([checkServerProgram(), checkClientProgram(), checkTurnedAwayReset()]);
  });
});
