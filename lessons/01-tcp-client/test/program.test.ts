import { closedPort, lessonOf, type ProgramResult, startServer, WireError } from '@course/helpers';
import { describe, expect, test } from 'vitest';

// The real program, run as a learner runs it: `npx tsx lessons/01-tcp-client/exercise/client.ts`.
const lesson = lessonOf(import.meta.url);

/** A server that answers each request, once the client half-closes, in upper case. */
function upperServer() {
  return startServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat(chunks).toString().toUpperCase()));
  });
}

/**
 * Runs client.ts with `args`. The test's servers are gone once it fails, so a failure's "try it
 * yourself" is `repro`, which uses port 9000 and a server the learner can start.
 */
async function runClient(args: string[], repro: string): Promise<ProgramResult> {
  try {
    return await lesson.run('client', args);
  } catch (error) {
    if (error instanceof Error) {
      error.message = error.message.replace(
        /\n {2}try it yourself:[\s\S]*$/,
        `\n  hint: once the reply is in (or the request failed), clear the timer: a pending timer keeps the program running` +
          `\n  try it yourself:\n    ${repro.split('\n').join('\n    ')}`,
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
    hint: result.stderr.includes("Unhandled 'error' event")
      ? "the program crashed on an 'error' event that nothing listened for: socket.on('error', ...) in request()"
      : hint,
    repro,
  });
}

describe('the program: client.ts', () => {
  test('exits 0 printing the whole reply; 1 when refused and 2 on bad usage, each with one clear line', async () => {
    const [port, closed] = await Promise.all([upperServer(), closedPort()]);
    const okRepro = [
      'npx tsx lessons/02-tcp-server/solution/server.ts --port 9000     # in one terminal: an upper-case server',
      `${lesson.command('client', ['--port', '9000', 'héllo 你好'])}     # in another`,
    ].join('\n');
    const refusedRepro = `${lesson.command('client', ['--port', '9000', 'hello'])}     # with nothing listening on port 9000`;
    const noPortRepro = lesson.command('client', ['hello']);
    const [ok, refused, noPort] = await Promise.all([
      runClient(['--port', String(port), 'héllo 你好'], okRepro),
      runClient(['--port', String(closed), 'hello'], refusedRepro),
      runClient(['hello'], noPortRepro),
    ]);
    expectRun(
      ok,
      { code: 0, stdout: 'HÉLLO 你好', stderr: '' },
      'against an upper-case server',
      'request() (step 5) should resolve with the whole reply; the program prints it as it is, with nothing added',
      okRepro,
    );
    expectRun(
      refused,
      { code: 1, stderr: `cannot connect to 127.0.0.1:${closed}: connection refused (ECONNREFUSED)\n` },
      'with nothing listening',
      "request() should reject with describeFailure() on 'error': the program prints its message and exits 1",
      refusedRepro,
    );
    expectRun(
      noPort,
      {
        code: 2,
        stderr: 'client.ts: --port is required: the port the server listens on (see client.ts --help)\n',
      },
      'without --port',
      'the command line is given (the program region): restore it from the starter if it was changed',
      noPortRepro,
    );
  });

  test('--timeout MS bounds the exchange: a server that never answers fails after MS (the line says which bound)', async () => {
    // Accepts, reads, never answers nor closes: only the client's own timer ends the exchange.
    const port = await startServer((socket) => socket.resume());
    const repro = [
      'npx course nc -l 127.0.0.1 9000     # in one terminal: a server that never answers',
      `${lesson.command('client', ['--port', '9000', '--timeout', '300', 'hello'])}     # in another`,
    ].join('\n');
    const result = await runClient(['--port', String(port), '--timeout', '300', 'hello'], repro);
    expectRun(
      result,
      { code: 1, stdout: '', stderr: `no complete reply from 127.0.0.1:${port} within 300 ms (ETIMEDOUT)\n` },
      'with --timeout 300 against a silent server',
      'the program passes --timeout to request() as timeoutMs (the program region): restore it from the starter if it was changed',
      repro,
    );
  });

  test('--help names the message, every option with its value and what it does, and exits 0', async () => {
    const help = await lesson.run('client', ['--help']);
    expect(help.code, `--help exits 0; stderr: ${help.stderr}`).toBe(0);
    const lines = help.stdout.split('\n');
    expect(lines[0], 'the first line of --help').toBe('usage: client.ts [options] MESSAGE');
    expect(lines[2], 'the summary').toBe(
      'Sends MESSAGE to a TCP server, half-closes, and prints the whole reply.',
    );
    const row = (first: string) =>
      lines.find((line) => line.trimStart().startsWith(`${first} `))?.trim() ?? '';
    expect(row('MESSAGE'), 'the MESSAGE row').toMatch(/^MESSAGE +the text to send$/);
    expect(row('--host'), 'the --host row').toMatch(/^--host HOST +server address \(default 127\.0\.0\.1\)$/);
    expect(row('--port'), 'the --port row').toMatch(/^--port PORT +server port \(required\)$/);
    expect(row('--timeout'), 'the --timeout row').toMatch(
      /^--timeout MS +bound on the whole exchange \(default 5000\)$/,
    );
  });
});
