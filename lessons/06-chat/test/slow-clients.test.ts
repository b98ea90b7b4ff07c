/**
 * Lesson 06's server, step 5: a slow or silent client cannot stall the room, and the deadline
 * of a line runs from its first byte to its end. Beside server.test.ts, so that the two run side
 * by side: one after the other, they took 6.4 s.
 */
import type net from 'node:net';
import {
  connect,
  LogLines,
  lessonOf,
  ncLine,
  type Peer,
  startServer,
  trickle,
  WireError,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { ChatRoom, LineSplitter, MAX_LINE_BYTES, type Member } from '#impl/server.ts';
import { type Chatter, joined, startChat } from './support.ts';

/** What the deadline tests say first: the obvious fix does not work. */
const IDLE_TIMER_HINT =
  'socket.setTimeout() is not enough: it is an idle timer, and each byte that arrives restarts it.';

/** How to trickle `bytes` by hand, one every 200 ms: the server must cut it off after 2 s. */
function trickleRepro(bytes: string): string {
  return [
    `${lessonOf(import.meta.url).command('server', ['--port', '9000', '--timeout', '2000'])}     # in one terminal`,
    `${ncLine(bytes, 9000, { trickleMs: 200, halfClose: false })}     # in another`,
  ].join('\n');
}

/** Waits for the server to close a trickling peer, and checks that its last words were `ERR too slow`. */
async function cutOff(peer: Peer, name: string, hint: string, repro: string): Promise<string> {
  // A liveness wait: the deadlines are far shorter, so only a server that never cuts it off fails.
  const closed = await peer.closed({
    allowReset: true,
    ms: 5_000,
    hint,
    repro,
    expected: `the server to close ${name}`,
  });
  const received = closed.toString('utf8');
  expect(received, `${name}: the last line before the close should be ERR too slow`).toMatch(
    /ERR too slow\n$/,
  );
  return received;
}

describe('step 5: slow clients must not stall the room', () => {
  test('a client that stops reading is dropped once its queue passes maxQueueBytes; the others chat on', async () => {
    const bound = 64 * 1024;
    const { port, server, log } = await startChat({ maxQueueBytes: bound });
    const sockets = new Map<number, net.Socket>(); // the server's side of each connection, by client port
    server.on('connection', (socket) => sockets.set(socket.remotePort ?? 0, socket));
    const alice = await joined(port, 'alice');
    const carol = await joined(port, 'carol');
    const slow = await joined(port, 'slow');
    slow.socket.pause(); // slow reads nothing more: the kernel's buffers fill, then the server's queue
    await alice.next(2);
    await carol.expect('* slow joined');
    const slowOnServer = sockets.get(slow.socket.localPort ?? -1);
    expect(slowOnServer, "the server's socket for slow").toBeDefined();

    // Alice sends batches of long messages, each once Carol has read the one before (Carol is
    // never the slow one), until the server drops slow. The kernel's buffers take a few MiB
    // first; after that every byte for slow waits in Node's buffer, in the server's memory.
    const batch = `${'x'.repeat(4000)}\n`.repeat(32);
    let sent = 0;
    let carolSawSlowLeave = false;
    while (!alice.lines.includes('* slow left')) {
      if (sent > 64 * 1024 * 1024) {
        throw new WireError('slow was never dropped', {
          expected: `the server to drop slow once more than ${bound} bytes wait for it`,
          received: `${sent} bytes sent to the room; slow's queue on the server: ${slowOnServer?.writableLength} bytes`,
        });
      }
      await alice.send(batch);
      sent += batch.length;
      const unread = await carol.until(
        (lines) => (lines.filter((l) => l.startsWith('alice: ')).length >= 32 ? lines : undefined),
        "carol to get alice's 32 messages: the room must not wait for a client that does not read",
      );
      carol.seen += unread.length;
      carolSawSlowLeave ||= unread.includes('* slow left');
      const queued = slowOnServer?.destroyed ? 0 : (slowOnServer?.writableLength ?? 0);
      if (queued > bound + MAX_LINE_BYTES + 64) {
        throw new WireError("slow's queue on the server grew past the bound", {
          expected: `at most about maxQueueBytes = ${bound} bytes queued for a client that does not read`,
          received: `${queued} bytes queued in Node's buffer for slow (socket.writableLength)`,
          hint: 'after each write(), compare socket.writableLength with maxQueueBytes and destroy() the socket past it',
        });
      }
    }
    await log.line(
      /^slow is not reading: \d+ bytes queued \(over 65536\), dropping it$/,
      'a log line `slow is not reading: N bytes queued (over 65536), dropping it`',
    );
    await log.line(
      /^slow left \(connection closed\)$/,
      "dropped by destroy(): it leaves on 'close', `slow left (connection closed)`",
    );
    await alice.send('still chatting\n');
    await carol.until(
      (lines) => (lines.includes('alice: still chatting') ? true : undefined),
      'the room goes on after slow is dropped',
    );
    expect(carolSawSlowLeave || carol.lines.includes('* slow left'), 'carol sees `* slow left`').toBe(true);
    slow.socket.resume();
    await slow.closed({ allowReset: true, expected: 'the server to have closed the slow connection' });
  });

  test('a member dropped for not reading leaves after the message being sent: everyone sees the same order', async () => {
    const bound = 64 * 1024;
    const { port, server } = await startChat({ maxQueueBytes: bound });
    const sockets = new Map<number, net.Socket>(); // the server's side of each connection, by client port
    server.on('connection', (socket) => sockets.set(socket.remotePort ?? 0, socket));
    // The order of joining is the order of every broadcast: bob, slow, carol (alice sends).
    const bob = await joined(port, 'bob');
    const slow = await joined(port, 'slow');
    const carol = await joined(port, 'carol');
    const alice = await joined(port, 'alice');
    slow.socket.pause(); // slow reads nothing more: its queue on the server grows until it is dropped
    await bob.next(3);
    await carol.next(1);
    // Numbered messages, so that a failure shows which one `* slow left` came before.
    const batch = (from: number) =>
      Array.from({ length: 32 }, (_, k) => `#${from + k} ${'x'.repeat(4000)}\n`).join('');
    let sent = 0;
    const gotAll = (lines: string[]) => lines.filter((l) => l.startsWith('alice: ')).length >= sent;
    const slowOnServer = sockets.get(slow.socket.localPort ?? -1);
    while (!(bob.lines.includes('* slow left') && carol.lines.includes('* slow left'))) {
      const queued = slowOnServer?.destroyed ? 0 : (slowOnServer?.writableLength ?? 0);
      if (sent > 16_384 || queued > bound + MAX_LINE_BYTES + 64) {
        throw new WireError('slow was never dropped', {
          expected: `the server to drop slow once more than maxQueueBytes (${bound} bytes) wait for it`,
          received: `${sent} messages of 4000 bytes sent to the room; ${queued} bytes queued for slow`,
          hint: 'after each write(), compare socket.writableLength with maxQueueBytes and destroy() the socket past it',
        });
      }
      await alice.send(batch(sent));
      sent += 32;
      await bob.until((lines) => (gotAll(lines) ? true : undefined), "bob to get alice's messages");
      await carol.until((lines) => (gotAll(lines) ? true : undefined), "carol to get alice's messages");
    }
    /** The lines around `* slow left`, as `name` saw them. */
    const around = (c: Chatter) => {
      const at = c.lines.indexOf('* slow left');
      return c.lines
        .slice(Math.max(0, at - 1), at + 2)
        .map((l) => (l.length > 24 ? `${l.slice(0, 20)}…` : l));
    };
    // Everyone must see the same conversation: the message being sent, then `* slow left`.
    const bobSaw = bob.lines.slice(bob.lines.indexOf('* alice joined') + 1);
    const carolSaw = carol.lines.slice(carol.lines.indexOf('* alice joined') + 1);
    if (bobSaw.join('\n') !== carolSaw.join('\n')) {
      throw new WireError('bob and carol saw `* slow left` at different places in the conversation', {
        expected: 'the same lines, in the same order, for every member',
        received: `bob: ${JSON.stringify(around(bob))}; carol: ${JSON.stringify(around(carol))}`,
        hint:
          'do not call leave() (or anything that broadcasts) inside send(): it runs in the middle of a ' +
          "broadcast. Only socket.destroy() there: 'close' comes a moment later and does the leaving",
      });
    }
  });

  test('send(): a queue of exactly maxQueueBytes is kept; past it, the member is dropped and logged once', async () => {
    // A connection whose client reads nothing, and the server's side of it.
    let accepted: (socket: net.Socket) => void = () => {};
    const onServer = new Promise<net.Socket>((resolve) => {
      accepted = resolve;
    });
    const port = await startServer((socket) => accepted(socket));
    const client = await connect(port);
    client.socket.pause();
    const socket = await within(onServer, () => ({
      expected: `the test server to accept a connection on ${port}`,
    }));
    // Fill the kernel's buffers until Node's own queue holds bytes: from then on, each write()
    // adds exactly its bytes to socket.writableLength, and nothing leaves while the client does not read.
    for (let sent = 0; socket.writableLength === 0; sent += 64 * 1024) {
      if (sent > 256 * 1024 * 1024)
        throw new Error('the test could not fill the kernel buffers of a connection');
      socket.write(Buffer.alloc(64 * 1024, 'x'));
    }
    const queued = socket.writableLength;
    const line = 'alice: just enough';
    const bound = queued + Buffer.byteLength(`${line}\n`);
    const log = new LogLines();
    const room = new ChatRoom({ log: log.add, maxQueueBytes: bound });
    const slow: Member = {
      socket,
      peer: '127.0.0.1:9',
      lines: new LineSplitter(),
      nick: 'slow',
      deadline: undefined,
    };
    room.send(slow, line); // now exactly `bound` bytes wait
    expect(
      socket.destroyed,
      `${bound} bytes queued with maxQueueBytes ${bound}: that is the bound, not past it. Drop a member only when socket.writableLength > maxQueueBytes`,
    ).toBe(false);
    room.send(slow, 'x'); // 2 bytes more: past the bound
    expect(socket.destroyed, 'past maxQueueBytes, the member is dropped: socket.destroy()').toBe(true);
    room.send(slow, 'alice: and more'); // the rest of a broadcast, before 'close' takes slow out of the room
    room.send(slow, 'bob: me too');
    expect(
      log.lines,
      'one log line for the drop; after destroy(), send() writes nothing more and logs nothing more (if (!socket.writable) return)',
    ).toEqual([`slow is not reading: ${bound + 2} bytes queued (over ${bound}), dropping it`]);
  });

  test("a member that does not read gets one 'drain' listener and its input paused, then resumed once it reads", async () => {
    const { port, server } = await startChat({ maxQueueBytes: 16 * 1024 * 1024 });
    const sockets = new Map<number, net.Socket>(); // the server's side of each connection, by client port
    server.on('connection', (socket) => sockets.set(socket.remotePort ?? 0, socket));
    const alice = await joined(port, 'alice');
    const slow = await joined(port, 'slow');
    slow.socket.pause(); // slow stops reading: the kernel's buffers fill, then Node's queue
    await alice.expect('* slow joined');
    const onServer = sockets.get(slow.socket.localPort ?? -1);
    if (!onServer) throw new Error("the test could not find the server's socket for slow");
    // Alice talks until more than 64 KiB wait for slow in Node's buffer: from then on, every
    // write() to slow returns false.
    const batch = `${'x'.repeat(4000)}\n`.repeat(32);
    for (let sent = 0; onServer.writableLength <= 64 * 1024; sent += batch.length) {
      if (sent > 64 * 1024 * 1024 || onServer.destroyed) {
        throw new WireError("slow's queue never grew", {
          expected:
            "the server to queue the room's lines for slow, who does not read (maxQueueBytes is 16 MiB here)",
          received: `${sent} bytes sent to the room; slow's socket ${onServer.destroyed ? 'destroyed' : `queues ${onServer.writableLength} bytes`}`,
        });
      }
      await alice.send(batch);
      await alice.send('/who\n'); // answered once the server has handled the batch before it
      await alice.expect('USERS alice,slow');
    }
    expect(
      onServer.listenerCount('drain'),
      `${onServer.listenerCount('drain')} 'drain' listeners on slow's socket: add one only when you pause ` +
        '(if (!ok && !socket.isPaused())), not one per write() that returns false',
    ).toBeLessThanOrEqual(1);
    expect(
      onServer.isPaused(),
      "while write() returns false, pause this member's input (socket.pause()) until 'drain'",
    ).toBe(true);
    // slow reads again: everything queued reaches it, 'drain' comes, and its input must resume.
    slow.socket.resume();
    await slow.send('/who\n');
    await slow.until(
      (lines) => (lines.includes('USERS alice,slow') ? true : undefined),
      'slow, reading again, to get the answer to its /who',
      {
        ms: 5_000,
        hint: "on 'drain', socket.resume() the member's input: otherwise it is deaf for good",
      },
    );
  });

  test('a newcomer must be joined within lineTimeoutMs: a trickled nickname, or bad ones forever, get `ERR too slow`', async () => {
    // 1 s: fifty times the trickle's 20 ms between bytes and twenty times the pest's 50 ms, so
    // that a test process starved for a moment on a busy machine does not pass for a silence (an
    // idle timer must not fire by luck), and half of the 2 s the trickled line takes.
    const { port, log } = await startChat({ lineTimeoutMs: 1_000 });
    const alice = await joined(port, 'alice');
    const sloth = await trickle(port, `${'slow'.repeat(25)}\n`, 20); // 101 bytes: 2 s
    // An invalid nickname at once (answered long before the deadline, however busy the machine),
    // then another every 50 ms.
    const pest = await connect(port);
    await pest.write('not valid\n');
    const again = setInterval(() => pest.write('not valid\n').catch(() => {}), 50);
    pest.socket.once('close', () => clearInterval(again));
    await cutOff(
      sloth,
      'a client trickling its nickname',
      `${IDLE_TIMER_HINT} Start a setTimeout() of your own in accept(), and clear it only once the client has joined`,
      trickleRepro('a'.repeat(100)),
    );
    const pestSaw = await cutOff(
      pest,
      'a client sending invalid nicknames',
      'the timer started in accept() stops only once the client has joined (OK), not at each line it sends',
      trickleRepro('not valid\n'.repeat(20)),
    );
    expect(pestSaw, 'each invalid nickname is still answered until then').toMatch(/^ERR invalid nickname/);
    const tooSlow = log.lines.filter((line) => /^client 127\.0\.0\.1:\d+ too slow: .*\b1000 ms\b/.test(line));
    expect(
      tooSlow,
      'a log line for each: `client IP:PORT too slow: not joined after 1000 ms, closing`',
    ).toHaveLength(2);
    // Alice has said nothing since she joined, longer than lineTimeoutMs: silence is allowed.
    await alice.send('/who\n');
    await alice.expect(
      'USERS alice',
      'neither of them ever joined; alice, silent since she joined, is still here',
    );
  });

  test('a member may be silent as long as it likes, but a line it began must end within lineTimeoutMs', async () => {
    // 1 s: Eve's line takes about 10 ms, a hundredth of it, even on a busy machine.
    const { port, log } = await startChat({ lineTimeoutMs: 1_000 });
    const alice = await joined(port, 'alice');
    // Eve types slowly, a byte every 5 ms, but finishes her line in time; then she says nothing.
    const eve = await trickle(port, 'eve\nhi\n', 5);
    await alice.expect('* eve joined');
    await alice.expect('eve: hi', 'a line that ends within lineTimeoutMs, however slowly, is a message');
    // Tom joins, then begins a line and never ends it: a byte every 5 ms for 10 s, each one activity.
    const tom = await trickle(port, `tom\n${'z'.repeat(2000)}`, 5);
    await alice.expect('* tom joined');
    const tomSaw = await cutOff(
      tom,
      'tom, trickling a line that never ends',
      `${IDLE_TIMER_HINT} Start a timer when a member begins a line (a chunk that does not end in \\n), and clear it when a \\n ends the line`,
      trickleRepro(`tom\n${'z'.repeat(100)}`),
    );
    expect(tomSaw, 'tom gets OK, then ERR too slow, and nothing else').toBe('OK tom\nERR too slow\n');
    await alice.expect('* tom left', 'a member cut off for being too slow leaves like any other');
    await log.line(
      /^tom too slow: line not complete after 1000 ms, closing$/,
      'a log line `tom too slow: line not complete after 1000 ms, closing`',
    );
    await log.line(/^tom left \(too slow\)$/, 'and `tom left (too slow)`');
    // Alice and Eve have both been silent for longer than lineTimeoutMs, between lines: they stay.
    await alice.send('still here?\n');
    await eve.until(
      (received) => (received.includes('alice: still here?') ? true : undefined),
      'eve, silent since her last line, to get alice: still here?',
      { hint: 'only a line begun and not finished is timed, never the silence between lines' },
    );
  });
});

describe('step 5: the deadline of a line stops with it', () => {
  test('a line sent in pieces is timed from its first byte, and its \\n stops the clock for good', async () => {
    const { port } = await startChat({ lineTimeoutMs: 400 });
    const alice = await joined(port, 'alice');
    const eve = await joined(port, 'eve');
    await alice.expect('* eve joined');
    eve.socket.setNoDelay(true);
    // Three chunks, 30 ms apart: the first starts the clock, the second must not start another one.
    for (const piece of ['he', 'll', 'o\n']) {
      await eve.send(piece);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await alice.expect('eve: hello');
    // Nothing may happen now: wait three deadlines (a bounded pause, not a wait for an event),
    // then eve, silent between lines, must still be in the room.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await eve.send('/who\n');
    await eve.expect(
      'USERS alice,eve',
      'startDeadline() starts a timer only if none runs (member.deadline === undefined): a second ' +
        'timer would replace the first in member.deadline, and stopDeadline() could no longer clear the first',
    );
  });
});
