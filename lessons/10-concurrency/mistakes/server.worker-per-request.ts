/**
 * MISTAKE: a new Worker for every hash, and no pool. Each request pays a thread's start (tens of
 * milliseconds, and a whole JavaScript engine of memory), and nothing bounds them: a flood of N
 * hashes makes N threads at once, all fighting for two cores. The test floods hashes on
 * --workers 2 and asks stats how many threads run.
 * @caught-by step 5: a pool of worker threads › while the threads hash, a ping from another connection is answered before any hash
 */
import { isMain, runServerProgram } from '@course/program';
import { type PoolJob, startWorker, WorkerPool } from '../solution/pool.ts';
import { createHashServer, hashServerProgram } from '../solution/server.ts';

export * from '../solution/server.ts';

/** The mistake: no pool at all, a new thread for every job, ended when it answers. */
class ThreadPerJob extends WorkerPool {
  private started = 0;

  constructor(_workers: number, maxQueue: number) {
    super(0, maxQueue); // no threads kept: --workers means nothing
  }

  override get workers(): number {
    return this.started;
  }

  override run(rounds: number, text: string): PoolJob | undefined {
    const worker = startWorker({ cancel: new SharedArrayBuffer(4) });
    this.started += 1;
    worker.once('exit', () => {
      this.started -= 1;
    });
    worker.postMessage({ id: 1, rounds, text });
    const result = new Promise<string>((resolve, reject) => {
      worker.once('message', (done: { hex?: string }) => {
        void worker.terminate();
        if (done.hex === undefined) reject(new Error('cancelled'));
        else resolve(done.hex);
      });
      worker.once('error', reject);
    });
    return { result, cancel: () => void worker.terminate() };
  }
}

export const program = hashServerProgram((options, parts) =>
  createHashServer(options, {
    ...parts,
    newPool: (workers, maxQueue) => new ThreadPerJob(workers, maxQueue),
  }),
);

if (isMain(import.meta.url)) runServerProgram(program);
