/**
 * What lesson 04's tests need beyond @course/helpers (each is a candidate for the harness):
 * a program started without waiting for `listening on`, a wait for a line on its stderr, the
 * TIME_WAIT sockets of a port as `ss` shows them, a bounded wait for a promise to settle either
 * way, and a watch on a server's listen() attempts.
 */
import type net from 'node:net';
import {
  closeAfterTest,
  DEFAULT_WAIT_MS,
  hasCommand,
  type Lesson,
  RunningProgram,
  runCommand,
  within,
} from '@course/helpers';
import { nodeArgs } from '@course/helpers/bundle';

/**
 * Starts a lesson program (bundled, on bare node, as Lesson.startServer does) and returns once it
 * is started, without waiting for its `listening on` line (Lesson.startServer waits for it): for a
 * server that first waits for a busy port. Stopped when the test ends; wait with
 * `program.listening()` or stderrLine(). `repro` is how a failure tells the learner to do the same
 * by hand (default: the program's `npx tsx` line with `args`).
 */
export async function startProgram(
  lesson: Lesson,
  program: string,
  args: string[],
  repro = lesson.command(program, args),
): Promise<RunningProgram> {
  return new RunningProgram(process.execPath, await nodeArgs(lesson.file(program), args), {
    cwd: lesson.dir,
    display: repro,
  });
}

/**
 * Waits for the first complete line on the program's stderr that matches `pattern` (the
 * harness's waitForLine reads stdout only). Fails early if the program exits first.
 */
export async function stderrLine(
  program: RunningProgram,
  pattern: RegExp,
  expected: string,
  ms = DEFAULT_WAIT_MS,
): Promise<string> {
  const find = () =>
    program.stderr
      .split('\n')
      .slice(0, -1)
      .find((line) => pattern.test(line));
  let stop = () => {};
  const found = new Promise<string>((resolve, reject) => {
    const check = () => {
      const line = find();
      if (line !== undefined) resolve(line);
      else if (program.exited) reject(program.failure('the program exited first', expected));
    };
    // RunningProgram's own listeners run first: program.stderr already holds the new text.
    program.process.stderr?.on('data', check);
    program.process.once('close', check);
    stop = () => {
      program.process.stderr?.off('data', check);
      program.process.off('close', check);
    };
    check();
  });
  try {
    return await within(
      found,
      () => ({
        expected,
        received: `stderr so far: ${JSON.stringify(program.stderr)}`,
        repro: program.command,
      }),
      { ms },
    );
  } finally {
    stop();
  }
}

/**
 * The TIME_WAIT connections whose local port is `port`, one `ss` line each, or undefined where
 * `ss` (Linux's iproute2) is not installed.
 */
export async function timeWaitSockets(port: number): Promise<string[] | undefined> {
  if (process.platform !== 'linux' || !hasCommand('ss')) return undefined;
  const out = await runCommand('ss', ['-Htan', 'state', 'time-wait', 'sport', '=', `:${port}`]);
  return out
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Waits at most `ms` for `promise` to settle, and says how: a promise that never settles fails
 * the test with `expected` and `hint` instead of hanging it.
 */
export function settle<T>(
  promise: Promise<T>,
  expected: string,
  { hint, ms = 500 }: { hint?: string; ms?: number } = {},
): Promise<Settled<T>> {
  return within(
    promise.then(
      (value): Settled<T> => ({ ok: true, value }),
      (error: unknown): Settled<T> => ({ ok: false, error }),
    ),
    () => ({ expected, received: 'nothing: the promise is still pending', hint }),
    { ms },
  );
}

/** What watchAttempts() saw of a server's listen() calls. */
export interface Attempts {
  /** listen() calls so far. */
  calls: number;
  /** When each listen() call was made (performance.now(), in milliseconds). */
  times: number[];
  /** One line for each listen() call made before the previous attempt had ended. */
  overlaps: string[];
  /** The server's 'error' and 'listening' listeners, not counting the watch's own. */
  listeners(): { error: number; listening: number };
}

/**
 * Watches a server's listen() attempts: counts them, and notes each call made before the
 * previous attempt ended in 'listening' or 'error'. With `slowMs`, each attempt starts that
 * much later, as when a host name must be looked up first. The watch's own 'error' listener
 * means an unhandled 'error' can never crash the test process: code that forgets to listen for
 * 'error' shows up as a promise that never settles.
 */
export function watchAttempts(server: net.Server, { slowMs = 0 }: { slowMs?: number } = {}): Attempts {
  const attempts: Attempts = {
    calls: 0,
    times: [],
    overlaps: [],
    listeners: () => ({
      error: server.listenerCount('error') - 1,
      listening: server.listenerCount('listening') - 1,
    }),
  };
  let running = false;
  const timers = new Set<NodeJS.Timeout>();
  const realListen = server.listen;
  server.listen = ((...args: unknown[]) => {
    attempts.calls += 1;
    attempts.times.push(performance.now());
    if (running) {
      attempts.overlaps.push(
        `listen() call ${attempts.calls} came before attempt ${attempts.calls - 1} had ended in 'listening' or 'error'`,
      );
    }
    running = true;
    if (slowMs === 0) return Reflect.apply(realListen, server, args);
    const timer = setTimeout(() => {
      timers.delete(timer);
      Reflect.apply(realListen, server, args);
    }, slowMs);
    timers.add(timer);
    return server;
  }) as typeof server.listen;
  server.prependListener('error', () => {
    running = false;
  });
  server.prependListener('listening', () => {
    running = false;
  });
  closeAfterTest(() => {
    for (const timer of timers) clearTimeout(timer);
  });
  return attempts;
}

export { closeServerAfterTest } from '@course/helpers';
