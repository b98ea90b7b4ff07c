/**
 * Lesson 10's server, run as a program (worker threads need the real process): the protocol,
 * the hash, stats, the pool, its bounded queue and a vanished client's job. Replies in order
 * (step 3) are in order.test.ts, which runs beside this file.
 *
 * No test asserts "answered within N ms": CI runs every lesson at once on two busy cores. They
 * assert ORDER instead, which load cannot change: while threads hash, a `ping` from another
 * connection is answered before any hash; on the event loop, it is not.
 */
import net from 'node:net';
import os from 'node:os';
import { setTimeout as pause } from 'node:timers/promises';
import {
  closeAfterTest,
  connect,
  LIVENESS_MS,
  listen,
  type Peer,
  reproSetup,
  trickle,
  WireError,
  within,
} from '@course/helpers';
import { describe, expect, test, vi } from 'vitest';
import { WorkerPool } from '#impl/pool.ts';
import { createHashServer, LAG_TICK_MS, watchLag } from '#impl/server.ts';
import { expectedHash, lesson, start } from './support.ts';

/** Asks `stats` on `peer` (which has had `asked` lines answered so far) and parses the answer. */
interface Stats {
  connections: number;
  busy: number;
  queued: number;
  workers: number;
  lag: number;
  pid: number;
}

async function stats(peer: Peer, asked: number): Promise<Stats> {
  await peer.write('stats\n');
  const line = (await peer.lines(asked + 1, { ms: LIVENESS_MS })).at(-1) ?? '';
  const match =
    /^stats connections=(\d+) busy=(\d+) queued=(\d+) workers=(\d+) lag_p99_ms=(\d+(?:\.\d+)?) pid=(\d+)$/.exec(
      line,
    );
  if (!match)
    throw new WireError(`stats answered ${JSON.stringify(line)}`, {
      expected:
        'one line: stats connections=<n> busy=<n> queued=<n> workers=<n> lag_p99_ms=<x> pid=<n> (step 4)',
    });
  const [connections, busy, queued, workers, lag, pid] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { connections, busy, queued, workers, lag, pid };
}

describe('step 1: the line protocol', () => {
  test('ping is answered pong, anything else ERR, and the connection stays open', async () => {
    const { peers } = await start(['--mode', 'inline']);
    const [peer] = peers as [Peer];
    await peer.write('ping\nbogus\nping now\n\nPING\nping\n');
    const lines = await peer.lines(6, {
      hint: 'every line gets exactly one reply line: `pong` for ping, `ERR <what was wrong>` otherwise',
    });
    expect(lines[0], 'ping').toBe('pong');
    for (const [i, sent] of ['bogus', 'ping now', '', 'PING'].entries())
      expect(lines[i + 1], `${JSON.stringify(sent)} is not a request: ERR …`).toMatch(/^ERR \S/);
    expect(lines[5], 'the connection stays open after an ERR').toBe('pong');
    // An unknown command is named in its ERR, but not a whole line of up to --max-line bytes.
    await peer.write(`${'x'.repeat(1000)}\n`);
    expect(
      (await peer.lines(7))[6],
      'the reply to a 1000-byte unknown command: at most 40 of its characters',
    ).toBe(`ERR unknown command "${'x'.repeat(40)}"`);
  });

  test('lines cut anywhere, and ending in \\r\\n, are still lines', async () => {
    const { peers } = await start(['--mode', 'inline']);
    const [peer] = peers as [Peer];
    for (const piece of ['pi', 'ng\r', '\np', 'in', 'g\n']) {
      await peer.write(piece);
      await pause(30);
    }
    expect(
      await peer.lines(2, { hint: 'keep the bytes after the last \\n until the rest arrives (lesson 07)' }),
    ).toEqual(['pong', 'pong']);
  });

  test('a line longer than --max-line is answered `ERR line too long` and the connection closed', async () => {
    const { peers, server } = await start(['--mode', 'inline', '--max-line', '16']);
    const [peer] = peers as [Peer];
    await peer.write(`ping\n${'x'.repeat(100)}`);
    const received = await peer.closed({ ms: LIVENESS_MS, allowReset: true });
    expect(received.toString()).toBe('pong\nERR line too long\n');
    // A client that keeps its side open after the server's FIN, with a sleep still due: its reply,
    // due once the server has ended the connection, is dropped, not written after the end.
    const halfOpen = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    closeAfterTest(() => halfOpen.destroy());
    halfOpen.resume();
    halfOpen.write(`sleep 100\n${'x'.repeat(100)}`);
    await within(
      new Promise((resolve) => halfOpen.once('end', resolve)),
      () => ({ expected: 'the server to end the connection after `ERR line too long`' }),
      { ms: LIVENESS_MS },
    );
    // What it sends after the server's FIN is read and dropped, not answered.
    halfOpen.write(`ping\n${'x'.repeat(100)}`);
    await pause(300);
    expect(
      server.lines.filter((line) => /failed|after end/.test(line)),
      'log lines of a reply written after the connection was ended (check socket.writableEnded before writing, and drop what is read after it)',
    ).toEqual([]);
  });

  test('a line of exactly --max-line bytes passes, with \\r\\n too, even cut before its \\n', async () => {
    const args = ['--mode', 'inline', '--max-line', '4'];
    reproSetup({ serverArgs: args });
    const server = await lesson.startServer('server', args);
    const [peer, over] = await Promise.all([connect(server.port), connect(server.port)]);
    await peer.write('ping\nping\r\nping\r');
    await pause(50); // 5 bytes held, one over the limit: they may end in the \r of a \r\n
    await peer.write('\n');
    expect(await peer.lines(3, { hint: 'the limit counts the line without its \\n or \\r\\n' })).toEqual([
      'pong',
      'pong',
      'pong',
    ]);
    await over.write('pingx\n');
    expect((await over.closed({ ms: LIVENESS_MS, allowReset: true })).toString(), 'a 5-byte line').toBe(
      'ERR line too long\n',
    );
    await server.waitForLine(
      / sent a line longer than 4 bytes: closing$/,
      'a log line for the line too long',
    );
  });

  test('a line must end within --timeout of its first byte: trickled for ever, it is cut off; on time, it is not', async () => {
    const args = ['--mode', 'inline', '--timeout', '1000'];
    reproSetup({ serverArgs: args, trickleMs: 50 });
    const server = await lesson.startServer('server', args);
    const slow = await trickle(server.port, 'p'.repeat(400), 50); // 20 s of bytes, never a \n
    const onTime = await connect(server.port);
    for (const piece of ['p', 'i', 'n', 'g\n']) {
      await onTime.write(piece);
      await pause(50);
    }
    const hint = 'the deadline runs from the first byte of a line to its \\n, and stops there';
    expect(
      await onTime.lines(1, { ms: LIVENESS_MS, hint }),
      'a line in four pieces well within --timeout',
    ).toEqual(['pong']);
    await pause(1_500); // idle, nothing pending, for longer than --timeout: no deadline runs
    await onTime.write('ping\n');
    expect(
      await onTime.lines(2, { ms: LIVENESS_MS, hint }),
      'a line in four pieces well within --timeout, then a pause longer than it between lines',
    ).toEqual(['pong', 'pong']);
    expect(
      (await slow.closed({ ms: LIVENESS_MS, allowReset: true })).toString(),
      'a line trickled for ever',
    ).toBe('ERR line not complete after 1000 ms\n');
  });

  test('--max-connections 1: one more is told so and let go, even if it stays; a freed place is taken again; the log tells', async () => {
    const args = ['--mode', 'inline', '--max-connections', '1'];
    reproSetup({ serverArgs: args });
    const server = await lesson.startServer('server', args);
    const first = await connect(server.port);
    await first.write('ping\n');
    await first.lines(1, { ms: LIVENESS_MS });
    const [rude, stays] = await Promise.all([connect(server.port), connect(server.port)]);
    for (const peer of [rude, stays])
      expect(await peer.lines(1, { ms: LIVENESS_MS })).toEqual(['ERR too many connections']);
    rude.reset(); // a refused client that resets does the server no harm
    // One that stays, writing now and then, is dropped after a moment (2 s) all the same.
    const poke = setInterval(() => void stays.write('ping\n').catch(() => {}), 250);
    try {
      await stays.closed({ ms: LIVENESS_MS, allowReset: true });
    } finally {
      clearInterval(poke);
    }
    await first.write('ping\n');
    expect(await first.lines(2, { ms: LIVENESS_MS }), 'the client let in is served all along').toEqual([
      'pong',
      'pong',
    ]);
    first.reset();
    // Its place is free once the server has seen it close.
    let answer = '';
    for (let tries = 0; tries < 40 && answer !== 'pong'; tries += 1) {
      const next = await connect(server.port);
      await next.write('ping\n');
      answer = (await next.lines(1, { ms: LIVENESS_MS }))[0] ?? '';
      next.socket.destroy();
      if (answer !== 'pong') await pause(50);
    }
    expect(answer, 'a new client once the only one has gone').toBe('pong');
    for (const [pattern, what] of [
      [/^client connected from 127\.0\.0\.1:\d+$/, 'client connected from <address>'],
      [/^client 127\.0\.0\.1:\d+ refused: 1 connections already open$/, 'client <address> refused: …'],
      [
        /^client 127\.0\.0\.1:\d+ failed: connection reset by peer \(ECONNRESET\)$/,
        'client <address> failed: …',
      ],
      [/^client 127\.0\.0\.1:\d+ closed$/, 'client <address> closed'],
    ] as const)
      await server.waitForLine(pattern, `a log line: ${what}`);
  });

  test('a client turned away that resets does the server no harm: its socket too has an error listener', async () => {
    // In this process, where the server's side of the refused connection can be looked at.
    const { server, stop } = createHashServer({ mode: 'inline', maxConnections: 1 });
    closeAfterTest(stop);
    const sides: net.Socket[] = [];
    server.on('connection', (socket: net.Socket) => sides.push(socket)); // after the server's own
    const port = await listen(server);
    const first = await connect(port);
    await first.write('ping\n');
    expect(await first.lines(1, { ms: LIVENESS_MS }), 'step 1 first: ping').toEqual(['pong']);
    const rude = await connect(port);
    expect(await rude.lines(1, { ms: LIVENESS_MS }), 'one more than maxConnections').toEqual([
      'ERR too many connections',
    ]);
    const refused = sides[1] as net.Socket;
    // A reset makes that socket emit 'error': with no listener, Node throws it, and the server dies.
    expect(
      refused.listenerCount('error'),
      "'error' listeners on the refused connection's socket: a reset from a client we turn away would end the server",
    ).toBeGreaterThan(0);
    rude.reset();
    await within(
      new Promise((resolve) => refused.once('close', resolve)),
      () => ({ expected: "the server's side of the refused connection to close after the reset" }),
      { ms: LIVENESS_MS },
    );
    await first.write('ping\n');
    expect(await first.lines(2, { ms: LIVENESS_MS }), 'the client let in is served all along').toEqual([
      'pong',
      'pong',
    ]);
  });
});

describe('step 2: hash', () => {
  test('hash <rounds> <text> is SHA-256 applied rounds times, as node:crypto computes it', async () => {
    const { peers } = await start(['--mode', 'inline']);
    const [peer] = peers as [Peer];
    const cases: [number, string][] = [
      [1, 'abc'],
      [2, 'abc'],
      [1000, 'abc'],
      [1, ''],
      [3, 'two words  and a tab\there'],
      [5, 'héllo ✓ 日本'],
    ];
    await peer.write(cases.map(([rounds, text]) => `hash ${rounds} ${text}\n`).join(''));
    const lines = await peer.lines(cases.length, {
      ms: LIVENESS_MS,
      hint: 'h1 = sha256(UTF-8 bytes of text); h(k+1) = sha256(the 32 raw bytes of hk), not of its hex',
    });
    for (const [i, [rounds, text]] of cases.entries())
      expect(lines[i], `hash ${rounds} ${JSON.stringify(text)}`).toBe(expectedHash(rounds, text));
  });

  test('a bad hash request is answered ERR, and the connection stays open', async () => {
    const { peers } = await start(['--mode', 'inline', '--max-rounds', '50']);
    const [peer] = peers as [Peer];
    const bad = ['hash', 'hash 1', 'hash 0 x', 'hash -1 x', 'hash 1.5 x', 'hash x y', 'hash 51 x'];
    await peer.write(`${bad.join('\n')}\nhash 50 x\n`);
    const lines = await peer.lines(bad.length + 1, { ms: LIVENESS_MS });
    for (const [i, sent] of bad.entries()) expect(lines[i], `${sent} (--max-rounds 50)`).toMatch(/^ERR \S/);
    expect(lines[1], 'hash 1 has its rounds but no text: the ERR says what is missing').toMatch(
      /usage|text/i,
    );
    expect(lines.at(-1), 'hash 50 x is within --max-rounds 50').toBe(expectedHash(50, 'x'));
  });
});

describe('step 4: stats', () => {
  test('stats counts connections and shows the event loop held up by an inline hash', async () => {
    const { peers } = await start(['--mode', 'inline'], 2);
    const [peer] = peers as [Peer];
    const before = await stats(peer, 0);
    expect(before.connections, 'two clients are connected').toBe(2);
    expect(before.workers, 'inline: no threads').toBe(0);
    await peer.write('hash 400000 x\n');
    await peer.lines(2, { ms: LIVENESS_MS });
    const after = await stats(peer, 2);
    // 400,000 rounds hold the loop for well over 100 ms on any machine (about 1 s here).
    expect(
      after.lag,
      "lag_p99_ms after a hash on the loop (watchLag's timer ran late)",
    ).toBeGreaterThanOrEqual(100);
    // Since that stats, nothing has held the loop: the next one, after some 30 ticks of the lag
    // timer on an idle loop, shows far less, and never minutes.
    await pause(300);
    const idle = await stats(peer, 3);
    expect(idle.lag, 'lag_p99_ms with nothing on the loop since the last stats').toBeLessThan(after.lag);
    expect(idle.lag, 'lag_p99_ms with nothing on the loop since the last stats').toBeLessThan(60_000);
    await peer.write('stats now\n');
    expect((await peer.lines(5, { ms: LIVENESS_MS }))[4], 'stats takes no argument').toMatch(/^ERR \S/);
  });

  test('the lag is how late each tick ran: 0 on time, 300 ms when the loop was held 300 ms (given: watchLag)', () => {
    // A clock of the test's own: ticks on time and one held up, the same on any machine.
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const lag = watchLag();
      const tick = (late: number) => {
        now += LAG_TICK_MS + late;
        vi.advanceTimersByTime(LAG_TICK_MS);
      };
      for (let i = 0; i < 50; i += 1) tick(0);
      expect(lag.p99Ms(), 'lag_p99_ms of 50 ticks, each on time').toBeLessThan(0.01);
      for (let i = 0; i < 50; i += 1) tick(i === 25 ? 300 : 0);
      expect(lag.p99Ms(), 'lag_p99_ms of 50 ticks, one of them 300 ms late').toBeCloseTo(300, 0);
      lag.stop();
    } finally {
      vi.useRealTimers();
      vi.restoreAllMocks();
    }
  });
});

describe('step 5: a pool of worker threads', () => {
  test('while the threads hash, a ping from another connection is answered before any hash', async () => {
    const hashes = 2 * os.availableParallelism();
    const { peers } = await start(['--workers', '2'], hashes + 1);
    const pinger = peers[0] as Peer;
    const hashers = peers.slice(1);
    // The same hash on every connection: it is checked once, below (each 0.3 s of CPU here).
    for (const peer of hashers) await peer.write('hash 250000 x\n');
    await pause(100);
    await pinger.write('ping\n');
    await pinger.lines(1, { ms: LIVENESS_MS });
    const done = hashers.filter((peer) => peer.received.length > 0).length;
    expect(
      done,
      'hash replies that came before pong: with the hashes on worker threads, the loop answers ping at once',
    ).toBe(0);
    const seen = await stats(pinger, 1);
    expect(seen.workers, '--workers 2: two threads, however many hashes').toBe(2);
    expect(seen.busy + seen.queued, 'every hash not done is running or queued').toBeLessThanOrEqual(hashes);
    expect(seen.busy, 'at most --workers hashes run at once').toBeLessThanOrEqual(2);
    const expected = expectedHash(250000, 'x');
    for (const peer of hashers)
      expect((await peer.lines(1, { ms: LIVENESS_MS }))[0], 'hash 250000 x').toBe(expected);
  });

  test("stop() (Ctrl-C) stops the pool's threads: the pool refuses jobs after it, and none is left (given)", async () => {
    const pools: WorkerPool[] = [];
    const { server, stop } = createHashServer(
      { mode: 'workers', workers: 2 },
      {
        newPool: (n, max) => {
          const pool = new WorkerPool(n, max);
          pools.push(pool);
          closeAfterTest(() => pool.close());
          return pool;
        },
      },
    );
    closeAfterTest(() => new Promise((resolve) => server.close(resolve)));
    const [pool] = pools as [WorkerPool];
    expect(pool.workers, 'threads before stop()').toBe(2);
    await stop();
    expect(
      pool.run(1, 'x'),
      'a job handed to the pool after stop(): refused, the threads are gone',
    ).toBeUndefined();
    expect(pool.workers, 'threads left after stop()').toBe(0);
  });
});

describe('step 6: a bounded queue, and clients that go away', () => {
  test('with --workers 2 --max-queue 1, the 4th hash at once is answered ERR busy', async () => {
    const { peers } = await start(['--workers', '2', '--max-queue', '1'], 5);
    const [a, b, c, d, watcher] = peers as [Peer, Peer, Peer, Peer, Peer];
    for (const peer of [a, b, c]) await peer.write('hash 10000000 x\n');
    // Poll stats (bounded) until the pool is full: two running, one queued.
    let asked = 0;
    for (
      let last = await stats(watcher, asked++);
      last.busy !== 2 || last.queued !== 1;
      last = await stats(watcher, asked++)
    ) {
      if (asked > 100)
        throw new WireError(`stats showed busy=${last.busy} queued=${last.queued}`, {
          expected: 'busy=2 queued=1 after three big hashes on --workers 2',
        });
      await pause(50);
    }
    await d.write('hash 1 x\n');
    // A queue without a bound takes the job instead: stats then shows 2 queued. That fails at once,
    // rather than at the end of the wait for an answer, with both threads hashing meanwhile.
    const answered = d.lines(1, { ms: LIVENESS_MS });
    let waiting = true;
    answered.then(
      () => (waiting = false),
      () => (waiting = false),
    );
    while (waiting) {
      const last = await stats(watcher, asked++);
      if (last.queued > 1)
        throw new WireError(`stats shows queued=${last.queued} with --max-queue 1`, {
          expected: 'ERR busy for the 4th hash at once: the queue holds at most --max-queue jobs',
          hint: 'a job finds room when a thread is free or fewer than maxQueue jobs wait; else run() returns undefined, which is answered ERR busy',
        });
      await pause(50);
    }
    expect((await answered)[0], 'two threads busy, the queue of 1 full').toBe('ERR busy');
  });

  test('20 clients that send a big hash and vanish leave the pool whole', async () => {
    const args = ['--workers', '2', '--max-queue', '100'];
    const { peers, server } = await start(args, 21);
    const after = peers[0] as Peer;
    const gone = peers.slice(1);
    for (const peer of gone) await peer.write('hash 10000000 x\n');
    // Only once the server has read all 20 requests: a reset that arrives before the server reads
    // the request reads as the request and then an end (a half-close, which this server honours:
    // it answers, and learns the client has gone when it writes). On a busy machine the server's
    // own two hashing threads can keep it from reading for a while.
    let asked = 0;
    const taking = Date.now() + LIVENESS_MS;
    for (let last = await stats(after, asked); last.busy + last.queued < 20; ) {
      if (Date.now() > taking)
        throw new WireError(`stats shows busy=${last.busy} queued=${last.queued}`, {
          expected: 'busy + queued = 20: the 20 hash requests taken by the pool',
        });
      await pause(50);
      asked += 1;
      last = await stats(after, asked);
    }
    // Gone at once, with a reset: the server learns it now.
    for (const peer of gone) peer.reset();
    // Once stats counts one connection (this one), the server has handled every 'close': a job of
    // a client gone must have left the queue by then. (A running one stops within a few thousand
    // rounds: busy may lag behind, and is checked below.) A leak fails here, not after 10 s.
    const closing = Date.now() + LIVENESS_MS;
    for (;;) {
      asked += 1;
      const now = await stats(after, asked);
      if (now.connections === 1) {
        if (now.queued !== 0)
          throw new WireError(`stats shows queued=${now.queued} once the 20 clients have gone`, {
            expected: 'queued=0: the jobs of a client that has gone are dropped',
            hint: "a vanished client's job must be dropped and its thread given back: cancel its jobs on 'close'",
          });
        break;
      }
      if (Date.now() > closing)
        throw new WireError(`stats still shows connections=${now.connections}`, {
          expected: 'connections=1 once the 20 clients have reset their connections',
        });
      await pause(50);
    }
    await after.write('hash 1 x\n');
    asked += 1;
    expect(
      (
        await after.lines(asked + 1, {
          ms: LIVENESS_MS,
          hint: "a vanished client's job must be dropped and its thread given back",
        })
      ).at(-1),
    ).toBe(expectedHash(1, 'x'));
    asked += 1;
    let last = await stats(after, asked);
    for (let tries = 0; last.busy !== 0 || last.queued !== 0; tries += 1) {
      if (tries > 50)
        throw new WireError(`stats still shows busy=${last.busy} queued=${last.queued}`, {
          expected: 'busy=0 queued=0 once every client has gone',
        });
      await pause(100);
      asked += 1;
      last = await stats(after, asked);
    }
    expect(last.workers, 'the pool keeps its two threads').toBe(2);
    expect(
      server.lines.filter((line) => /destroyed|after end/.test(line)),
      'the server wrote nothing to a client already gone (the log shows no such failure)',
    ).toEqual([]);
  });
});

describe('step 7: processes sharing one port', () => {
  test('with --mode processes --processes 2, two processes serve one port, and Ctrl-C stops them all', async () => {
    const args = ['--mode', 'processes', '--processes', '2'];
    reproSetup({ serverArgs: args });
    const server = await lesson.startServer('server', args);
    // Each connection goes to one process; its stats says which (pid=). Ask until two answer.
    const pids = new Set<number>();
    // Each process prints its own `listening on`: the second may start a moment after the first,
    // so keep asking (bounded) while it starts.
    const until = Date.now() + LIVENESS_MS;
    // At least 8 connections: in turn (Linux, macOS), a third process would have shown by then.
    for (let asked = 0; (pids.size < 2 || asked < 8) && Date.now() < until; asked += 1) {
      const peer = await connect(server.port);
      pids.add((await stats(peer, 0)).pid);
      peer.socket.destroy();
      await pause(50);
    }
    expect(pids.size, 'different pids in stats: connections served by two processes').toBe(2);
    // Asked through the primary alone, as on Windows, or by `kill PID`: it passes the stop on.
    const result = await server.stop('SIGINT', LIVENESS_MS, 'message');
    expect(result.code, 'Ctrl-C: the primary and its processes exit 0').toBe(0);
    expect(
      result.stdout.match(/^server\.ts: SIGINT, closing/gm)?.length,
      'each process says it stops: the primary passed Ctrl-C on to both',
    ).toBe(3);
    const alive = async () => {
      for (let tries = 0; tries < 50; tries += 1) {
        const left = [...pids].filter((pid) => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        });
        if (left.length === 0) return left;
        await pause(100);
      }
      return [...pids];
    };
    expect(await alive(), 'processes still running 5 s after Ctrl-C').toEqual([]);
  });

  test('with --mode processes, a process that dies ends the program (exit 1)', async () => {
    const args = ['--mode', 'processes', '--processes', '2'];
    reproSetup({ serverArgs: args });
    const server = await lesson.startServer('server', args);
    const peer = await connect(server.port);
    const { pid } = await stats(peer, 0);
    process.kill(pid, 'SIGKILL');
    const result = await server.exit(LIVENESS_MS);
    expect(result.code, `process ${pid} killed: the primary exits 1`).toBe(1);
    expect(result.stderr, 'the primary ends with process.exit(1), not with an exception').not.toMatch(
      /Error|\n\s+at /,
    );
  });
});
