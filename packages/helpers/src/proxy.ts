/**
 * The chunking proxy for tests: wire.ts's proxy, closed when the test ends, with its random seed
 * added to the failure message of a test that fails.
 */
import { onTestFailed } from 'vitest';
import { closeAfterTest } from './cleanup.ts';
import { reproSetup } from './program.ts';
import { type ChunkingProxy, createProxy, type ProxyOptions } from './wire.ts';

/** Starts a chunking proxy in front of the server at `targetPort`; closed when the test ends. */
export async function startProxy(targetPort: number, options: ProxyOptions): Promise<ChunkingProxy> {
  const proxy = await createProxy(targetPort, options);
  closeAfterTest(() => proxy.close());
  // One byte per write is what a trickle does: the repro lines send that way too.
  if (options.cut === 'bytes' && options.direction !== 'reply') reproSetup({ trickleMs: 10 });
  if (typeof options.cut === 'object') {
    // The seed goes into the failure itself, so that every reporter shows it.
    onTestFailed(({ task }) => {
      const note = `\n  the proxy cut at random from seed ${proxy.seed}: replay the same cuts with COURSE_SEED=${proxy.seed}`;
      const first = task.result?.errors?.[0];
      if (first) first.message += note;
    });
  }
  return proxy;
}
