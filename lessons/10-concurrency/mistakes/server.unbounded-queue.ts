/**
 * MISTAKE: a pool without a bound on its queue. --max-queue is read and ignored: every hash
 * waits its turn, however many there are. A flood of big hashes then holds memory for each and
 * gets answers minutes later, when the client has long given up; `ERR busy` at once would have
 * let it try elsewhere or later. The test fills two threads and a queue of one, then asks once more.
 * @caught-by step 6: a bounded queue, and clients that go away › with --workers 2 --max-queue 1, the 4th hash at once is answered ERR busy
 */
import { isMain, runServerProgram } from '@course/program';
import { WorkerPool } from '../solution/pool.ts';
import { createHashServer, hashServerProgram } from '../solution/server.ts';

export * from '../solution/server.ts';

/** The mistake: --max-queue is read, and the pool never turns a job away. */
export const program = hashServerProgram((options, parts) =>
  createHashServer(options, {
    ...parts,
    newPool: (workers) => new WorkerPool(workers, Number.MAX_SAFE_INTEGER),
  }),
);

if (isMain(import.meta.url)) runServerProgram(program);
