/**
 * MISTAKE: listens without an 'error' listener, catching an exception that never comes.
 *
 * It is Python's habit: there, bind() raises OSError 98 and a try/except catches it. It also
 * works every time the port is free, which is nearly every time you try it. But Node's listen()
 * does not throw for a busy port: it returns, and later the server emits 'error'. An 'error'
 * event with no listener crashes the whole process, so the program dies with a stack trace
 * (exit code 1, a screenful on stderr) instead of one clear line, the promise never settles,
 * and nothing can retry. The in-process tests see a listenOnce() that never settles on a busy
 * port; the program test sees the program die with a stack trace instead of one line.
 *
 * @caught-by step 2: one clear error for a busy port › a busy port rejects with a PortInUseError
 * @caught-by the program: server.ts › busy port: exits 1 with one clear line
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

export function listenOnce(server: net.Server, { host, port, backlog }: ListenOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    try {
      server.listen({ host, port, backlog }, () => resolve(server.address() as AddressInfo));
    } catch (error) {
      // The mistake: a busy port never lands here. Only bad arguments (port 70000) throw.
      const code = (error as NodeJS.ErrnoException).code;
      reject(code === 'EADDRINUSE' ? new PortInUseError(host, port, error) : error);
    }
  });
}

/** The solution's listenWithRetries(), calling this file's listenOnce(). */
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
      onRetry?.(error, attempt, retryDelayMs);
      await sleep(retryDelayMs);
    }
  }
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(listenWithRetries));
