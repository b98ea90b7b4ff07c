/**
 * MISTAKE: retries a busy port at once, without waiting retryDelayMs between attempts.
 *
 * Each attempt waits for its own 'listening' or 'error', so nothing overlaps, no listener is
 * left behind, and onRetry is told of every failure: the step's other tests pass. But a busy
 * port fails within a tick on loopback, so `--retries 20` is used up in a few milliseconds, long
 * before whoever holds the port (an old copy of the server shutting down, say) lets it go: the
 * retries might as well not exist, and onRetry's `trying again in 500 ms` is not true. After a
 * failed attempt, `await sleep(retryDelayMs)` (from node:timers/promises). The test makes three
 * attempts on a port that stays busy, with retryDelayMs at 100, and measures the time between
 * the listen() calls.
 *
 * @caught-by step 3: retry while the port is busy › waits retryDelayMs after each failed attempt before trying again
 */
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { isMain, type ListenOptions, runServerProgram } from '@course/program';
import {
  DEFAULT_RETRY_DELAY_MS,
  listenOnce,
  PortInUseError,
  type RetryOptions,
  serverProgram,
} from '../solution/server.ts';

export * from '../solution/server.ts';

export async function listenWithRetries(
  server: net.Server,
  options: ListenOptions,
  { retries = 0, retryDelayMs = DEFAULT_RETRY_DELAY_MS, onRetry }: RetryOptions = {},
): Promise<AddressInfo> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await listenOnce(server, options);
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt > retries) throw error;
      onRetry?.(error, attempt, retryDelayMs); // the mistake: says it waits, and does not
    }
  }
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(listenWithRetries));
