/**
 * Lesson 10's WorkerPool on its own, in this process: what its counters say (busy, queued,
 * workers) at each moment, the order jobs are taken in, the queue's bound, cancelling a queued or
 * a running job, and close(). The server's tests see the same pool only through the wire.
 *
 * The counters are read right after run() and cancel(), which change them at once: no timing is
 * involved there. Only a job's result is waited for, and that wait is bounded.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { closeAfterTest, LIVENESS_MS, type WaitOptions, within } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { type PoolJob, WorkerPool } from '#impl/pool.ts';

/** The digest of `rounds` rounds of SHA-256 of `text`, computed here with node:crypto. */
function expectedHash(rounds: number, text: string): string {
  let digest = createHash('sha256').update(text, 'utf8').digest();
  for (let i = 1; i < rounds; i += 1) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

/** A pool of `threads` threads and `maxQueue` places, closed when the test ends. */
function newPool(threads: number, maxQueue: number): WorkerPool {
  const pool = new WorkerPool(threads, maxQueue);
  closeAfterTest(() => pool.close());
  return pool;
}

/** Hands `rounds, text` to the pool; fails the test if the pool refuses it. */
function accepted(pool: WorkerPool, rounds: number, text: string): PoolJob {
  const job = pool.run(rounds, text);
  if (!job) throw new Error(`run(${rounds}, ${JSON.stringify(text)}) gave undefined, but the pool has room`);
  job.result.catch(() => {}); // each test checks the outcomes it cares about
  return job;
}

/** The counters, as one object, so that a failure shows all three. */
function counters(pool: WorkerPool) {
  return { busy: pool.busy, queued: pool.queued, workers: pool.workers };
}

/** Waits (bounded) for a job's outcome: its hex, or `rejected: <message>`. */
async function outcome(job: PoolJob, expected: string, options: WaitOptions = {}): Promise<string> {
  return within(
    job.result.then(
      (hex) => hex,
      (error: Error) => `rejected: ${error.message}`,
    ),
    () => ({ expected, received: 'the job neither resolved nor was rejected' }),
    { ms: LIVENESS_MS, ...options },
  );
}

/** Step 6 builds on step 5: without it, a job never runs, and its outcome never comes. */
const STEP_5_FIRST =
  'jobs running: step 5 first, a free thread takes a job at once (this.idle.pop(), this.start())';

/** Long enough to still run while the test looks (seconds), and cancelled or closed, not awaited. */
const LONG = 5_000_000;

describe('step 5: a pool of worker threads', () => {
  test('a free thread takes a job at once, the others wait in the queue, and all are answered in turn', async () => {
    const pool = newPool(1, 10);
    expect(counters(pool), 'a new pool of 1 thread: nothing to do yet').toEqual({
      busy: 0,
      queued: 0,
      workers: 1,
    });
    const first = accepted(pool, 20_000, 'first');
    expect(counters(pool), 'run() on a free thread: it starts (this.start), nothing waits').toEqual({
      busy: 1,
      queued: 0,
      workers: 1,
    });
    const rest = ['second', 'third'].map((text) => accepted(pool, 2, text));
    expect(counters(pool), 'two more jobs while the thread hashes: both wait in the queue').toEqual({
      busy: 1,
      queued: 2,
      workers: 1,
    });
    const done: string[] = [];
    for (const [name, job] of [
      ['first', first],
      ['second', rest[0]],
      ['third', rest[1]],
    ] as const)
      void job?.result.then(() => done.push(name));
    expect(await outcome(first, 'the hash of 20000 rounds of "first"')).toBe(expectedHash(20_000, 'first'));
    expect(await outcome(rest[1] as PoolJob, 'the hash of "third"')).toBe(expectedHash(2, 'third'));
    expect(await outcome(rest[0] as PoolJob, 'the hash of "second"')).toBe(expectedHash(2, 'second'));
    expect(done, 'the queue is first in, first out').toEqual(['first', 'second', 'third']);
    expect(counters(pool), 'all done: the thread is idle again, and still there').toEqual({
      busy: 0,
      queued: 0,
      workers: 1,
    });
  });

  test('3000 jobs through 2 threads: every one answered, with its own hash', async () => {
    const pool = newPool(2, 5000);
    const jobs = Array.from({ length: 3000 }, (_, i) => accepted(pool, 1 + (i % 3), `job ${i}`));
    expect(counters(pool), '3000 jobs at once on 2 threads').toEqual({ busy: 2, queued: 2998, workers: 2 });
    const hexes = await within(
      Promise.all(jobs.map((job) => job.result)),
      () => ({ expected: '3000 hashes', received: `${pool.queued} still queued, ${pool.busy} running` }),
      { ms: LIVENESS_MS },
    );
    for (const [i, hex] of hexes.entries())
      if (hex !== expectedHash(1 + (i % 3), `job ${i}`))
        expect.fail(`job ${i} got the hash of another job: each reply goes to the job it answers`);
    expect(counters(pool)).toEqual({ busy: 0, queued: 0, workers: 2 });
  });
});

describe('step 5: a pool of worker threads (given: a thread that crashes)', () => {
  test('a thread that crashes fails its own job only, and a fresh thread takes its place', async () => {
    const pool = newPool(1, 10);
    const first = accepted(pool, 1, 'first');
    expect(counters(pool), 'run() on a free thread: it starts (this.start), nothing waits').toEqual({
      busy: 1,
      queued: 0,
      workers: 1,
    });
    expect(await outcome(first, 'the hash of "first"')).toBe(expectedHash(1, 'first'));
    // Not a string: the thread's createHash().update() throws, and the thread dies of it.
    const crash = accepted(pool, 1, undefined as unknown as string);
    expect(await outcome(crash, 'rejected: the thread’s error')).toMatch(/^rejected: /);
    expect(await outcome(accepted(pool, 2, 'after'), 'the hash of "after", on the new thread')).toBe(
      expectedHash(2, 'after'),
    );
    expect(counters(pool), 'one thread, as before the crash').toEqual({ busy: 0, queued: 0, workers: 1 });
  });

  test('a thread that cannot load its code is let go, not replaced: a new one would fail the same way', async () => {
    const threads: Worker[] = [];
    const exits: Promise<unknown>[] = [];
    const pool = new WorkerPool(1, 10, () => {
      const thread = new Worker('throw new Error("cannot load its code")', { eval: true });
      threads.push(thread);
      exits.push(new Promise((resolve) => thread.once('exit', resolve)));
      return thread;
    });
    closeAfterTest(() => pool.close());
    // The thread fails before it is given a job: its 'error' has no job to reject.
    await within(exits[0] as Promise<unknown>, () => ({ expected: 'the thread to fail and exit' }), {
      ms: LIVENESS_MS,
    });
    expect(threads.length, 'threads started: a replacement would fail again, and again').toBe(1);
    expect(counters(pool), 'no thread left, nothing running').toEqual({ busy: 0, queued: 0, workers: 0 });
  });
});

describe('step 6: a bounded queue, and clients that go away', () => {
  test('past maxQueue waiting jobs, run() says no (undefined) at once', () => {
    const pool = newPool(2, 1);
    const running = [accepted(pool, LONG, 'a'), accepted(pool, LONG, 'b')];
    const waiting = accepted(pool, 1, 'c');
    expect(counters(pool), '2 threads busy, 1 job waiting').toEqual({ busy: 2, queued: 1, workers: 2 });
    expect(pool.run(1, 'd'), 'a 4th job: no thread free and the queue (1) is full').toBeUndefined();
    expect(counters(pool), 'a refused job is not counted').toEqual({ busy: 2, queued: 1, workers: 2 });
    void running;
    void waiting;
    const none = newPool(1, 0);
    accepted(none, LONG, 'a');
    expect(none.run(1, 'b'), 'maxQueue 0: a job runs only on a free thread').toBeUndefined();
  });

  test('a cancelled job that waits is taken out of the queue and never runs', async () => {
    const pool = newPool(1, 10);
    const running = accepted(pool, 20_000, 'running');
    const [gone, kept] = [accepted(pool, 2, 'gone'), accepted(pool, 2, 'kept')];
    gone.cancel();
    expect(counters(pool), 'one of the 2 waiting jobs was cancelled').toEqual({
      busy: 1,
      queued: 1,
      workers: 1,
    });
    gone.cancel();
    expect(counters(pool), 'cancelling it again changes nothing').toEqual({ busy: 1, queued: 1, workers: 1 });
    expect(await outcome(gone, 'rejected: cancelled', { ms: 1_000 })).toBe('rejected: cancelled');
    accepted(pool, 1, 'more'); // the place it left in the queue is free again
    expect(await outcome(kept, 'the hash of "kept"')).toBe(expectedHash(2, 'kept'));
    expect(await outcome(running, 'the hash of the running job')).toBe(expectedHash(20_000, 'running'));
  });

  test('a cancelled running job stops its thread within moments, and the thread takes the next job', async () => {
    const pool = newPool(1, 10);
    const running = accepted(pool, 100_000_000, 'minutes of hashing');
    const next = accepted(pool, 2, 'next');
    expect(pool.busy, STEP_5_FIRST).toBe(1);
    running.cancel();
    expect(await outcome(running, 'rejected: cancelled', { ms: 1_000 })).toBe('rejected: cancelled');
    expect(
      await outcome(next, 'the hash of "next", once the thread has stopped the cancelled job', {
        hint: "store the job's id in its thread's cell (Atomics.store(cell, 0, job.id)): the thread checks it every 4096 rounds",
      }),
    ).toBe(expectedHash(2, 'next'));
    expect(counters(pool), 'the same thread, reused').toEqual({ busy: 0, queued: 0, workers: 1 });
    running.cancel();
    next.cancel();
    expect(counters(pool), 'cancelling a job that is over changes nothing').toEqual({
      busy: 0,
      queued: 0,
      workers: 1,
    });
    expect(await outcome(accepted(pool, 2, 'after'), 'the hash of "after"')).toBe(expectedHash(2, 'after'));
  });

  test('close() rejects every job not done, stops the threads, and refuses new jobs', async () => {
    const pool = new WorkerPool(1, 10);
    const running = accepted(pool, LONG, 'running');
    expect(pool.busy, STEP_5_FIRST).toBe(1);
    const waiting = accepted(pool, 2, 'waiting');
    accepted(pool, 2, 'gone').cancel(); // a hole in the queue
    await within(pool.close(), () => ({ expected: 'close() to end, even mid-hash' }), { ms: LIVENESS_MS });
    expect(await outcome(running, 'rejected', { ms: 1_000 })).toBe('rejected: the server is stopping');
    expect(await outcome(waiting, 'rejected', { ms: 1_000 })).toBe('rejected: the server is stopping');
    expect(counters(pool), 'no thread left').toEqual({ busy: 0, queued: 0, workers: 0 });
    expect(pool.run(1, 'late'), 'a closed pool takes no job').toBeUndefined();
    await pool.close();
  });
});
