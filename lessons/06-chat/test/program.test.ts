import { closedPort, LogLines, lessonOf, listen } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { createChatServer } from '#impl/server.ts';
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

/** client.ts, piped: chats and exits 0; exits 1 with one clear line when refused, 2 on bad usage. */
async function checkClientProgram() {
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

describe('the programs: server.ts and client.ts', () => {
  // One test, both programs side by side: each child process costs a few hundred milliseconds.
  test('server.ts runs a room and exits 0 on Ctrl-C; client.ts chats with piped stdin, exits 1 on failure, 2 on bad usage', async () => {
    await Promise.all([checkServerProgram(), checkClientProgram()]);
  });
});
