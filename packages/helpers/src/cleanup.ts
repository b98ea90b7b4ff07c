/**
 * Everything the harness opens (sockets, servers, proxies, child processes, timers) is closed
 * when the test that opened it finishes, passed or failed, so no test leaks a handle and vitest
 * exits at once.
 */
import { onTestFinished } from 'vitest';

export function closeAfterTest(close: () => unknown): void {
  try {
    onTestFinished(async () => {
      await close();
    });
  } catch {
    throw new Error(
      'the course helpers open sockets and processes that are closed when the test ends: ' +
        'call them inside test(...), not at the top of a file or in beforeAll',
    );
  }
}
