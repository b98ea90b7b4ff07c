import net from 'node:net';
import { assertBytes, connect, lessonOf, listen } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { startProgram, stderrLine } from './helpers.ts';

// The real program, run as a learner runs it: `npx tsx lessons/04-port-reuse/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

const inUse = (port: number) => `port ${port} on 127.0.0.1 is already in use (EADDRINUSE)`;

describe('the program: server.ts', () => {
  test('busy port: exits 1 with one clear line; with --retries it waits until the port frees up, then serves', async () => {
    const blocker = net.createServer((socket) => socket.destroy());
    const port = await listen(blocker);
    const args = ['--port', String(port)];
    const waiting = startProgram(lesson, 'server', [...args, '--retries', '20', '--retry-delay', '50']);
    const [once, note] = await Promise.all([
      lesson.run('server', args),
      stderrLine(waiting, /trying again/, 'a line on stderr: the port is busy, trying again', 4_000),
    ]);
    expect(once.stderr, 'the one clear line, and nothing else (no stack trace)').toBe(`${inUse(port)}\n`);
    expect(once.code).toBe(1);

    // The port frees up while the --retries 20 program waits: it takes it, serves, stops on Ctrl-C.
    expect(note).toBe(`${inUse(port)}: trying again in 50 ms (1 of 20)`);
    await new Promise((resolve) => blocker.close(resolve));
    await waiting.listening();
    expect(waiting.port).toBe(port);
    const peer = await connect(port);
    assertBytes(await peer.closed(), `hello from port ${port}\n`, { what: 'the greeting' });
    const result = await waiting.stop('SIGINT');
    expect(result.code, 'on SIGINT the server should exit 0').toBe(0);
  });
});
