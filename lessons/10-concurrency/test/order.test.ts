/**
 * Lesson 10's server, step 3: a sleep holds nothing, replies leave in the order of their
 * requests, and a client that pipelines without reading is held back (backpressure). Beside
 * server.test.ts, so that the two run side by side: one after the other, they took 13 s.
 */
import type net from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import {
  closeAfterTest,
  LIVENESS_MS,
  listen,
  type Peer,
  reproSetup,
  slowReader,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { createHashServer } from '#impl/server.ts';
import { expectedHash, start } from './support.ts';

describe('step 3: sleep, and replies in order', () => {
  test('pipelined on one connection, `sleep 300` then `ping` come back `slept 300` then `pong`', async () => {
    const { peers } = await start(['--mode', 'inline']);
    const [peer] = peers as [Peer];
    await peer.write('sleep 300\nping\nsleep 0\nhash 1 a\n');
    expect(
      await peer.lines(4, {
        ms: LIVENESS_MS,
        hint: 'each request takes its place when it arrives; a reply leaves only after every reply before it',
      }),
    ).toEqual(['slept 300', 'pong', 'slept 0', expectedHash(1, 'a')]);
  });

  test('a sleep holds nothing: another connection is answered meanwhile', async () => {
    const { peers } = await start(['--mode', 'inline'], 2);
    const [sleeper, other] = peers as [Peer, Peer];
    await sleeper.write('sleep 2000\n');
    await pause(100);
    await other.write('ping\n');
    await other.lines(1, { ms: LIVENESS_MS });
    expect(sleeper.received.toString(), 'pong came first: the sleep is still running').toBe('');
    expect(await sleeper.lines(1, { ms: LIVENESS_MS })).toEqual(['slept 2000']);
  });

  test('a client that sends its requests and half-closes still gets every reply, then the server closes', async () => {
    const { peers } = await start(['--mode', 'inline']);
    const [peer] = peers as [Peer];
    await peer.end('sleep 200\nping\n');
    expect(
      (
        await peer.closed({
          ms: LIVENESS_MS,
          hint: 'answer everything asked, then end() your side once the client has ended its own',
        })
      ).toString(),
    ).toBe('slept 200\npong\n');
  });

  test('with 64 requests waiting for their replies, the server reads no more from that client until they go out', async () => {
    const { peers } = await start(['--mode', 'inline'], 2);
    const [peer, other] = peers as [Peer, Peer];
    const started = performance.now();
    await peer.write('sleep 1000\n'.repeat(64));
    // The last 36 must come in a read of their own: had the server not run for a while, it would
    // read all 100 at once. Once it has answered another connection, it has read the first 64:
    // on loopback they were in its socket before the ping.
    await other.write('ping\n');
    await other.lines(1, { ms: LIVENESS_MS });
    await peer.write('sleep 1000\n'.repeat(36)); // read only once the first 64 replies have gone
    const lines = await peer.lines(100, { ms: LIVENESS_MS });
    const took = performance.now() - started;
    expect(lines.every((line) => line === 'slept 1000')).toBe(true);
    // Load can only make this later, never sooner: read at once, the last 36 end about 1 s after
    // the first request.
    expect(
      took,
      `the 100th reply came ${Math.round(took)} ms after the first request: the last 36 sleeps began before the first 64 were answered`,
    ).toBeGreaterThanOrEqual(1_900);
  });

  test('a client that pipelines megabytes and reads nothing: the server stops reading once its replies back up, and reads again once they drain', async () => {
    // In this process, to look at the server's side of the connection after each chunk it
    // handles (this listener comes after the server's). From outside, a paused server and a busy
    // one look the same: the client's requests stop moving either way.
    const { server, stop } = createHashServer({ mode: 'inline' });
    closeAfterTest(stop);
    const LIMIT = 1024 * 1024;
    let serverSide: net.Socket | undefined;
    let drainListeners = 0; // the most 'drain' listeners on the server's socket at once
    const verdict = new Promise<'paused' | 'unbounded'>((resolve) => {
      server.on('connection', (socket: net.Socket) => {
        serverSide = socket;
        socket.on('data', () => {
          drainListeners = Math.max(drainListeners, socket.listenerCount('drain'));
          if (socket.writableLength > LIMIT) resolve('unbounded');
          else if (socket.isPaused()) resolve('paused');
        });
      });
    });
    const port = await listen(server);
    reproSetup({ note: 'the test sends 9 MB without reading; no nc line can replay it' });
    const peer = await slowReader(port);
    // 9-byte requests, 65-byte replies: about 10 MB of replies fill both kernel buffers (the
    // server's send, our receive) long before the requests run out. In 64 KiB writes: Node
    // counts a write as unsent until the kernel has taken all of it.
    const requests = Buffer.from('hash 1 x\n'.repeat(1_000_000));
    for (let at = 0; at < requests.length; at += 65_536)
      peer.socket.write(requests.subarray(at, at + 65_536), () => {});
    const seen = await within(
      verdict,
      () => ({
        expected:
          'the server to pause() reading once its write() returns false (a client that reads nothing)',
        received: `the server has ${serverSide?.writableLength ?? 0} bytes of replies queued`,
        hint: "when socket.write() returns false, socket.pause(), and socket.resume() on 'drain'",
      }),
      { ms: LIVENESS_MS },
    );
    expect(
      seen,
      `the server kept reading with ${serverSide?.writableLength} bytes of replies queued, and growing: it must stop reading when socket.write() returns false (socket.pause(), and resume() on 'drain'), not keep every reply in memory`,
    ).toBe('paused');
    expect(
      drainListeners,
      "'drain' listeners on the server's socket at once: the write that fills the queue waits for 'drain', the replies after it just join the queue",
    ).toBeLessThanOrEqual(1);
    // Now we read: once its replies have drained, the server must read the requests again. (A
    // paused socket still reads until its own buffer is full, 16 to 64 KiB, and the chunk in
    // flight: 256 KiB more is reading again, and a quarter of the work a MiB took.)
    const readWhenPaused = serverSide?.bytesRead ?? 0;
    const more = 256 * 1024;
    peer.socket.resume();
    const reading = performance.now() + LIVENESS_MS;
    const readSince = () => (serverSide?.bytesRead ?? 0) - readWhenPaused;
    while (readSince() < more && performance.now() < reading) await pause(20);
    expect(
      readSince(),
      `bytes of requests the server read within ${LIVENESS_MS} ms of the client reading its replies: it must resume() reading on its socket's 'drain'`,
    ).toBeGreaterThanOrEqual(more);
  });

  test('a bad sleep is answered ERR', async () => {
    const { peers } = await start(['--mode', 'inline']);
    const [peer] = peers as [Peer];
    await peer.write('sleep\nsleep x\nsleep -5\nsleep 60001\nsleep 1\n');
    const lines = await peer.lines(5, { ms: LIVENESS_MS });
    expect(
      lines.slice(0, 4).every((line) => line.startsWith('ERR ')),
      lines.join(' | '),
    ).toBe(true);
    expect(lines[4]).toBe('slept 1');
  });
});
