/**
 * Lesson 10: a hashing server that many clients can use at once.
 *
 * A line protocol (lines as in lesson 07): `ping` → `pong`; `hash <rounds> <text>` → the hex of
 * SHA-256 applied rounds times; `sleep <ms>` → `slept <ms>` later; `stats` → counters and the
 * event loop's lag; anything else → `ERR <what was wrong>`. Replies on one connection come in the
 * order of its requests (a client may send many before reading); connections never wait for
 * each other. With `--mode workers` (the default) hashes run on a pool of worker threads with a
 * bounded queue (`ERR busy` beyond it); with `--mode inline` they run on the event loop, and
 * every client waits while one hashes.
 *
 *   npx tsx lessons/10-concurrency/solution/server.ts --port 9000
 *   npx course nc 127.0.0.1 9000      then type: ping, hash 3 abc, sleep 500, stats
 */
import cluster from 'node:cluster';
import net from 'node:net';
import os from 'node:os';
import { createHistogram, performance } from 'node:perf_hooks';
import {
  checkTimeout,
  describeError,
  isMain,
  listenOn,
  onStopSignal,
  peerAddress,
  runServerProgram,
  type ServerProgram,
} from '@course/program';
import { hashRounds } from './hash.ts';
import { DEFAULT_MAX_LINE_BYTES, LineDecoder, LineTooLongError } from './lines.ts';
import { type PoolJob, WorkerPool } from './pool.ts';
import { Replies, type Reply } from './replies.ts';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

export type Mode = 'inline' | 'workers';

export interface HashServerOptions {
  log?: Log;
  /** inline: hash on the event loop. workers (default): on a pool of worker threads. */
  mode?: Mode;
  /** Threads of the pool. Default os.availableParallelism(). */
  workers?: number;
  /** Jobs that may wait for a thread; one more is answered `ERR busy`. Default 1000. */
  maxQueue?: number;
  /** The largest `rounds` accepted. Default 10,000,000. */
  maxRounds?: number;
  /** The longest line accepted, in bytes. Default 65536. */
  maxLineBytes?: number;
  /** A line must be complete within this many ms of its first byte. Default 30000. */
  lineTimeoutMs?: number;
  /** Connections open at once; one more is told `ERR too many connections` and closed. Default 1000. */
  maxConnections?: number;
}

export const DEFAULT_MAX_QUEUE = 1000;
export const DEFAULT_MAX_ROUNDS = 10_000_000;
export const DEFAULT_LINE_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONNECTIONS = 1000;
/** The longest `sleep`. */
export const MAX_SLEEP_MS = 60_000;
/** Requests of one connection waiting for their reply before we stop reading it. */
export const MAX_PIPELINE = 64;

/** The server, and how to stop its threads (on Ctrl-C: even mid-hash). */
export interface HashServer {
  server: net.Server;
  stop(): Promise<void>;
}

/** A whole number from min to max, written in plain digits, or undefined. */
function wholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** How often the loop's lag is sampled, in ms. */
export const LAG_TICK_MS = 10;

/**
 * The event loop's lag: a timer asks to run every LAG_TICK_MS, and each time records how late it
 * ran. A hash that holds the loop for 300 ms shows as one tick 300 ms late. (Node's
 * perf_hooks.monitorEventLoopDelay() measures the loop differently: on Node 20 it did not show
 * a 400 ms hash on the loop here at all, so we time the ticks ourselves.)
 */
export function watchLag(): { p99Ms(): number; stop(): void } {
  const histogram = createHistogram();
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    histogram.record(Math.max(1, Math.round((now - last - LAG_TICK_MS) * 1e6))); // in ns, >= 1
    last = now;
  }, LAG_TICK_MS);
  timer.unref(); // the lag watch never keeps the program alive
  return {
    /** The 99th percentile of the lag since the last call, in ms; then starts over. */
    p99Ms: () => {
      const ms = histogram.count === 0 ? 0 : histogram.percentile(99) / 1e6;
      histogram.reset();
      return ms;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * The parts a server is built from. The course's mistakes/ swap one to show what goes wrong
 * without it: a pool with no queue bound, replies sent as they come.
 */
export interface HashServerParts {
  /** The pool of threads of workers mode: `workers` threads, `maxQueue` jobs waiting at most. */
  newPool?: (workers: number, maxQueue: number) => WorkerPool;
  /** One connection's replies, in the order of its requests; `send` writes them. */
  newReplies?: (send: (text: string) => void) => Replies;
}

export function createHashServer(options: HashServerOptions = {}, parts: HashServerParts = {}): HashServer {
  const {
    log = () => {},
    mode = 'workers',
    workers = os.availableParallelism(),
    maxQueue = DEFAULT_MAX_QUEUE,
    maxRounds = DEFAULT_MAX_ROUNDS,
    maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    lineTimeoutMs = DEFAULT_LINE_TIMEOUT_MS,
    maxConnections = DEFAULT_MAX_CONNECTIONS,
  } = options;
  checkTimeout('lineTimeoutMs', lineTimeoutMs);
  const { newPool = (n, max) => new WorkerPool(n, max), newReplies = (send) => new Replies(send) } = parts;
  const pool = mode === 'workers' ? newPool(workers, maxQueue) : undefined;
  const lag = watchLag();
  let connections = 0;

  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    // Every connection costs a file descriptor, whatever it sends: past maxConnections, the
    // newcomer is told so and closed (as in lesson 07), and those already here are served.
    if (connections >= maxConnections) {
      log(`client ${peerAddress(socket)} refused: ${maxConnections} connections already open`);
      socket.on('error', () => {}); // a reset from a client we turn away is not news
      socket.end('ERR too many connections\n');
      socket.resume();
      setTimeout(() => socket.destroy(), 2_000).unref();
      return;
    }
    connections += 1;
    socket.once('close', () => {
      connections -= 1;
    });
    const peer = peerAddress(socket);
    log(`client connected from ${peer}`);
    socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
    socket.on('close', () => log(`client ${peer} closed`));

    // Replies leave in the order of the requests (step 3); each batch in one write, and a client
    // that does not read them is not read either (backpressure, as in lesson 07).
    const jobs = new Set<PoolJob>();
    const timers = new Set<NodeJS.Timeout>();
    let clientEnded = false;
    const replies = newReplies((text) => {
      if (socket.destroyed || socket.writableEnded) return;
      // The replies of one chunk may come one write each: only the write that fills the queue
      // pauses and waits for 'drain'. Those after it join the queue; a listener each would pile
      // up thousands per chunk.
      const waiting = socket.writableNeedDrain;
      if (!socket.write(text) && !waiting) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
    // After every batch of requests and every reply: close once the client has half-closed and
    // everything is answered; read again once a pipelining client's replies have gone out.
    const settle = () => {
      if (replies.pending === 0 && clientEnded && !socket.writableEnded) socket.end();
      if (replies.pending < MAX_PIPELINE && socket.isPaused() && !socket.writableNeedDrain) socket.resume();
    };
    const answer = (reply: Reply) => {
      replies.add(reply);
      if (typeof reply !== 'string') void reply.then(settle, settle);
    };

    // Runs one hash: on the event loop (inline), or on a thread of the pool (workers).
    const runHash = (rounds: number, text: string): Reply => {
      // region step-5
      if (pool) {
        // The loop only hands the job over and gets the answer back: every other client is
        // served while a thread hashes. A full queue is answered at once.
        const job = pool.run(rounds, text);
        if (!job) return 'ERR busy';
        jobs.add(job);
        return job.result.finally(() => jobs.delete(job));
      }
      // endregion step-5
      return hashRounds(rounds, text) ?? 'ERR cancelled'; // inline: every other client waits
    };

    const handle = (line: string): Reply => {
      const space = line.indexOf(' ');
      const command = space === -1 ? line : line.slice(0, space);
      const rest = space === -1 ? undefined : line.slice(space + 1);
      // region step-1
      if (command === 'ping') return rest === undefined ? 'pong' : 'ERR ping takes no argument';
      // endregion step-1
      // region step-2
      if (command === 'hash') {
        const cut = rest?.indexOf(' ') ?? -1;
        if (rest === undefined || cut === -1) return 'ERR usage: hash <rounds> <text>';
        const rounds = wholeNumber(rest.slice(0, cut), 1, maxRounds);
        if (rounds === undefined) return `ERR rounds must be a whole number from 1 to ${maxRounds}`;
        return runHash(rounds, rest.slice(cut + 1)); // the text: the rest, spaces and all
      }
      // endregion step-2
      // region step-3
      if (command === 'sleep') {
        const ms = wholeNumber(rest ?? '', 0, MAX_SLEEP_MS);
        if (ms === undefined) return `ERR sleep wants a whole number of ms from 0 to ${MAX_SLEEP_MS}`;
        // A timer holds nothing: the loop serves everyone else meanwhile.
        return new Promise((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve(`slept ${ms}`);
          }, ms);
          timers.add(timer);
        });
      }
      // endregion step-3
      // region step-4
      if (command === 'stats') {
        if (rest !== undefined) return 'ERR stats takes no argument';
        // The 99th percentile of the loop's delay since the last stats, in ms: a hash on the loop
        // shows here as its whole length.
        const lagMs = lag.p99Ms();
        return (
          `stats connections=${connections} busy=${pool?.busy ?? 0} queued=${pool?.queued ?? 0} ` +
          `workers=${pool?.workers ?? 0} lag_p99_ms=${lagMs.toFixed(1)} pid=${process.pid}`
        );
      }
      // endregion step-4
      return `ERR unknown command ${JSON.stringify(command.slice(0, 40))}`;
    };

    // The deadline of the line in progress, from its first byte to its \n (as in lesson 07).
    let deadline: NodeJS.Timeout | undefined;
    const stopDeadline = () => {
      clearTimeout(deadline);
      deadline = undefined;
    };
    const endWith = (reply: string) => {
      stopDeadline();
      socket.end(`${reply}\n`);
      socket.resume(); // read and drop the rest, so our close is not a reset
      setTimeout(() => socket.destroy(), 2_000).unref();
    };

    const decoder = new LineDecoder(maxLineBytes);
    socket.on('data', (chunk: Buffer) => {
      if (socket.writableEnded) return;
      let ended = false;
      try {
        decoder.push(chunk, (line) => {
          ended = true;
          answer(handle(line));
        });
      } catch (error) {
        if (!(error instanceof LineTooLongError)) throw error;
        log(`client ${peer} sent a line longer than ${maxLineBytes} bytes: closing`);
        return endWith('ERR line too long');
      }
      settle();
      if (ended) stopDeadline();
      if (decoder.pendingBytes > 0 && deadline === undefined) {
        deadline = setTimeout(
          () => endWith(`ERR line not complete after ${lineTimeoutMs} ms`),
          lineTimeoutMs,
        );
      }
      // A client that pipelines without reading: stop reading it until its replies go out.
      if (replies.pending >= MAX_PIPELINE) socket.pause();
    });
    // The client half-closed: answer what it asked, then close our side.
    socket.on('end', () => {
      stopDeadline();
      clientEnded = true;
      settle();
    });
    // The client has gone: its jobs are dropped and their threads given back; its timers stopped.
    socket.on('close', () => {
      stopDeadline();
      for (const timer of timers) clearTimeout(timer);
      // region step-6
      for (const job of jobs) job.cancel();
      // endregion step-6
    });
  });
  server.on('close', () => lag.stop());

  return {
    server,
    stop: async () => {
      lag.stop();
      await pool?.close();
    },
  };
}

// region program
/** The command line of server.ts, serving with `create` (a mistake passes its own). */
export function hashServerProgram(create: typeof createHashServer = createHashServer): ServerProgram {
  return {
    spec: {
      name: 'server.ts',
      summary: 'Answers ping, hash <rounds> <text>, sleep <ms> and stats, many clients at once.',
      options: {
        mode: {
          type: 'string',
          value: 'MODE',
          description:
            'inline (hash on the event loop), workers (on a pool of threads) or processes (--processes N, sharing the port) (default workers)',
        },
        processes: {
          type: 'string',
          value: 'N',
          description:
            'with --mode processes: processes sharing the port, each hashing inline (default: os.availableParallelism())',
        },
        workers: {
          type: 'string',
          value: 'N',
          description: 'threads of the pool (default: os.availableParallelism())',
        },
        'max-queue': {
          type: 'string',
          value: 'N',
          description: `hashes waiting for a thread; one more gets \`ERR busy\` (default ${DEFAULT_MAX_QUEUE})`,
        },
        'max-rounds': {
          type: 'string',
          value: 'N',
          description: `largest rounds of a hash (default ${DEFAULT_MAX_ROUNDS})`,
        },
        'max-line': {
          type: 'string',
          value: 'BYTES',
          description: `longest line accepted, in bytes (default ${DEFAULT_MAX_LINE_BYTES})`,
        },
        'max-connections': {
          type: 'string',
          value: 'N',
          description: `connections open at once; one more gets \`ERR too many connections\` (default ${DEFAULT_MAX_CONNECTIONS})`,
        },
        timeout: {
          type: 'string',
          value: 'MS',
          description: `a line must end (\\n) within MS ms of its first byte (default ${DEFAULT_LINE_TIMEOUT_MS})`,
        },
      },
    },
    create: (cli) => {
      const run = { mode: cli.string('mode', 'workers') };
      // region step-7
      if (run.mode === 'processes') {
        // The primary runs no server of its own: listen() below forks the processes, and each
        // runs this same program, hashing inline, on the same port.
        forked.processes = cli.integer('processes', os.availableParallelism(), { min: 1, max: 64 });
        if (cluster.isPrimary) return net.createServer();
        run.mode = 'inline';
      }
      // endregion step-7
      const mode = run.mode;
      if (mode !== 'inline' && mode !== 'workers') {
        return cli.usageError(`--mode must be inline, workers or processes, not '${mode}'`);
      }
      const { server, stop } = create({
        log: console.log,
        mode,
        workers: cli.integer('workers', os.availableParallelism(), { min: 1, max: 256 }),
        maxQueue: cli.integer('max-queue', DEFAULT_MAX_QUEUE, { min: 0 }),
        maxRounds: cli.integer('max-rounds', DEFAULT_MAX_ROUNDS, { min: 1 }),
        maxLineBytes: cli.integer('max-line', DEFAULT_MAX_LINE_BYTES, { min: 1, max: 16 * 1024 * 1024 }),
        lineTimeoutMs: cli.milliseconds('timeout', DEFAULT_LINE_TIMEOUT_MS),
        maxConnections: cli.integer('max-connections', DEFAULT_MAX_CONNECTIONS, { min: 1 }),
      });
      // Ctrl-C: the threads stop at once, even mid-hash (the connections are closed by the kit).
      onStopSignal(() => void stop());
      return server;
    },
    listen: (server, options) => {
      if (forked.processes > 0 && cluster.isPrimary) return forkProcesses(forked.processes);
      if (cluster.isWorker) {
        // A forked process asks the primary for the port over their IPC channel, which
        // onStopSignal unref'd (it must not keep a program alive): held until the answer, or the
        // process exits before it. If the primary has gone meanwhile (a process died: it ended
        // the program), the question fails (EPIPE), and this process ends on the disconnect.
        process.channel?.ref();
        cluster.worker?.on('error', () => {});
        return listenOn(server, options).finally(() => process.channel?.unref());
      }
      return listenOn(server, options);
    },
  };
}

/** The command line of server.ts. */
export const program = hashServerProgram();

/** With --mode processes, how many processes; 0 otherwise. */
const forked = { processes: 0 };

/**
 * The primary of --mode processes: forks `n` copies of this program (node:cluster passes our
 * execArgv on, so tsx loads them too). Each listens on the same port: on Linux and macOS the
 * primary accepts and hands each connection to a process in turn (cluster.SCHED_RR); on Windows
 * the processes accept themselves (SCHED_NONE). Each prints its own `listening on`; the primary
 * never does, so this promise never resolves. Ctrl-C is passed on; a process that could not
 * listen ends the program with its exit code.
 */
function forkProcesses(n: number): Promise<never> {
  return new Promise(() => {
    // (A process that dies makes the primary's next message to it fail: 'exit' below handles it.)
    for (let i = 0; i < n; i += 1) cluster.fork().on('error', () => {});
    let stopping = false;
    onStopSignal((signal) => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    });
    // A process died: the others are stopped, and the program ends with its code once they have
    // gone. (Gone at once, it would leave a process still starting to find no primary to greet:
    // Node prints that EPIPE as an uncaught exception, before any code of ours could hear it.)
    let failed: number | undefined;
    cluster.on('exit', (_worker, code) => {
      if (stopping && failed === undefined) return; // Ctrl-C: the kit ends the program
      failed ??= code || 1;
      const left = Object.values(cluster.workers ?? {});
      if (left.length === 0) process.exit(failed);
      for (const worker of left) worker?.process.kill();
    });
  });
}

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
