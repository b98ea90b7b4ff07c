import { closedPort, lessonOf, startServer } from '@course/helpers';
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

describe('the program: client.ts', () => {
  test('exits 0 printing the whole reply; 1 when refused and 2 on bad usage, each with one clear line', async () => {
    const [port, closed] = await Promise.all([upperServer(), closedPort()]);
    const [ok, refused, noPort] = await Promise.all([
      lesson.run('client', ['--port', String(port), 'héllo 你好']),
      lesson.run('client', ['--port', String(closed), 'hello']),
      lesson.run('client', ['hello']),
    ]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('HÉLLO 你好');
    expect(ok.code).toBe(0);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`cannot connect to 127.0.0.1:${closed}: connection refused (ECONNREFUSED)\n`);
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toBe(
      'client.ts: --port is required: the port the server listens on (see client.ts --help)\n',
    );
  });
});
