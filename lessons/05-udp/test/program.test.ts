import { assertBytes, lessonOf, startUdpServer, udpPeer } from '@course/helpers';
import { describe, expect, test } from 'vitest';

// The real programs, run as a learner runs them: `npx tsx lessons/05-udp/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

describe('the programs: server.ts and client.ts', () => {
  // One test, so that the four programs start side by side: each start costs a fraction of a second.
  test('server.ts answers and exits 0 on Ctrl-C; client.ts prints the reply; it fails with one clear line and the right exit code', async () => {
    const upper = await startUdpServer((bytes) => bytes.toString('utf8').toUpperCase());
    const silent = await startUdpServer(); // receives, never answers
    const [server, client, lost, tooBig] = await Promise.all([
      lesson.startServer('server'),
      // A long --timeout: a client that left its timer running after the reply would not exit
      // before it fires, and the test gives up waiting first.
      lesson
        .run('client', ['--port', String(upper.port), '--timeout', '10000', 'héllo 你好'])
        .catch((error: Error) => {
          error.message +=
            '\n  hint: once the reply is in, clear the timer and close the socket: then the program exits by itself';
          throw error;
        }),
      lesson.run('client', ['--port', String(silent.port), '--timeout', '50', '--retries', '1', 'anyone?']),
      lesson.run('client', ['--port', String(silent.port), 'x'.repeat(70_000)]),
    ]);

    expect(server.host).toBe('127.0.0.1');
    const peer = await udpPeer();
    await peer.send('héllo 你好', server.port);
    assertBytes(await peer.datagram({ expected: 'a reply from server.ts' }), 'HÉLLO 你好', {
      what: 'the reply',
    });
    await server.waitForLine(/^datagram from 127\.0\.0\.1:\d+: 13 bytes$/, 'a `datagram from` line');
    const stopping = performance.now();
    const result = await server.stop('SIGINT');
    expect(result.code, 'on SIGINT the server should close its socket and exit 0').toBe(0);
    expect(performance.now() - stopping).toBeLessThan(1_000);

    expect(client.stderr).toBe('');
    expect(client.stdout).toBe('HÉLLO 你好');
    expect(client.code).toBe(0);
    expect(lost.stderr).toBe(
      `no reply from 127.0.0.1:${silent.port} after 2 attempts, 50 ms each (ETIMEDOUT)\n`,
    );
    expect(lost.code).toBe(1);
    expect(tooBig.stderr).toBe(
      'client.ts: the message is 70000 bytes, more than the 65507 one UDP datagram can carry (EMSGSIZE)\n',
    );
    expect(tooBig.code).toBe(2);
    expect(
      silent.received.map((d) => d.bytes.toString()),
      'two tries of `anyone?`, and nothing of the message that was too big',
    ).toEqual(['anyone?', 'anyone?']);
  });
});
