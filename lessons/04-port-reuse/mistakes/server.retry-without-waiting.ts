/**
 * MISTAKE: retries by the clock: listen(), wait retryDelayMs, look at server.listening, and
 * call listen() again on the same server if it is not listening yet.
 *
 * It seems to work. On loopback, with an IP address, a busy port fails within a tick, long
 * before the pause is over, so the attempts never overlap and the port is taken soon after it
 * frees up. But it never waits for the attempt's own answer ('listening' or 'error'):
 *   - when an attempt is slower than the pause (a host name to look up first, a pause of 0), it
 *     calls listen() again while the previous attempt is still running, on the same server:
 *     that attempt's late 'error' then lands in the middle of the next one;
 *   - a success still sits out the whole pause (500 ms by default) before anyone is told;
 *   - its 'error' listener stays on the server for good, swallowing every later server error.
 * The tests make each attempt slower than the pause and watch for overlapping listen() calls,
 * and time a free port taken with a 2-second retry delay.
 *
 * @caught-by step 3: retry while the port is busy › waits for each attempt to fail before listening again, even when attempts are slow
 * @caught-by step 3: retry while the port is busy › a free port is taken at once, however long the retry delay
 */
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMain, type ListenOptions, runServerProgram } from '@course/program';
import {
  DEFAULT_RETRY_DELAY_MS,
  PortInUseError,
  type RetryOptions,
  serverProgram,
} from '../solution/server.ts';

export * from '../solution/server.ts';

export async function listenWithRetries(
  server: net.Server,
  { host, port, backlog }: ListenOptions,
  { retries = 0, retryDelayMs = DEFAULT_RETRY_DELAY_MS, onRetry }: RetryOptions = {},
): Promise<AddressInfo> {
  const last: { error?: NodeJS.ErrnoException } = {};
  server.on('error', (error) => {
    last.error = error;
  });
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    server.listen({ host, port, backlog });
    await sleep(retryDelayMs); // the mistake: a timer, not the attempt's 'listening' or 'error'
    if (server.listening) return server.address() as AddressInfo;
    if (last.error && last.error.code !== 'EADDRINUSE') throw last.error;
    if (attempt <= retries) onRetry?.(new PortInUseError(host, port, last.error), attempt, retryDelayMs);
  }
  throw new PortInUseError(host, port, last.error);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(listenWithRetries));
