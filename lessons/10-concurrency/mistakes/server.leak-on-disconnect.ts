/**
 * MISTAKE: a client that goes away keeps its jobs. Its hashes run to the end for nobody, each
 * holding a thread, and those queued behind them still start: twenty clients that ask for a big
 * hash and vanish leave the pool busy for minutes, and the next client waits. The test has
 * twenty do just that, then asks `hash 1 x`.
 * @caught-by step 6: a bounded queue, and clients that go away › 20 clients that send a big hash and vanish leave the pool whole
 */
import { isMain, runServerProgram } from '@course/program';
import { type PoolJob, WorkerPool } from '../solution/pool.ts';
import { createHashServer, hashServerProgram } from '../solution/server.ts';

export * from '../solution/server.ts';

/** The mistake: a job whose client has gone runs on; cancel() does nothing. */
class NoCancelPool extends WorkerPool {
  override run(rounds: number, text: string): PoolJob | undefined {
    const job = super.run(rounds, text);
    return job && { result: job.result, cancel: () => {} };
  }
}

export const program = hashServerProgram((options, parts) =>
  createHashServer(options, {
    ...parts,
    newPool: (workers, maxQueue) => new NoCancelPool(workers, maxQueue),
  }),
);

if (isMain(import.meta.url)) runServerProgram(program);
