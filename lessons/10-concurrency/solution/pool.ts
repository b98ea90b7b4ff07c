/**
 * Lesson 10: a fixed pool of worker threads with a bounded queue. Each thread hashes one job at a
 * time; jobs wait in a queue of at most maxQueue, and one more is refused at once (the caller
 * answers `ERR busy`): a flood cannot grow memory or threads without bound. A job can be
 * cancelled (its client has gone): a queued one is dropped, and a running one is told through
 * memory shared with its thread, which stops hashing and takes the next job. A thread that fails
 * is replaced, so the pool is never left short.
 */
import { Worker } from 'node:worker_threads';
import type { HashDone, HashJob, HashWorkerData } from './hash-worker.ts';

/** A job handed to the pool: its result, and a way to drop it. */
export interface PoolJob {
  /** The hex digest; rejects if the pool stops or the thread fails first. */
  result: Promise<string>;
  /** The client has gone: drop the job and give its thread back. Does nothing once it is done. */
  cancel(): void;
}

interface Pending extends HashJob {
  resolve(hex: string): void;
  reject(error: Error): void;
  cancelled: boolean;
}

/** The worker's code. */
const WORKER_URL = new URL('./hash-worker.ts', import.meta.url);

/**
 * How a thread starts. A worker thread has its own module loader, and tsx's (which lets
 * `npx tsx server.ts` run TypeScript) is not installed there by itself, even with `--import tsx`
 * in execArgv: the thread would fail with `Unknown file extension ".ts"`. So, when this file
 * is TypeScript, the thread runs a one-line bootstrap that registers tsx, then loads the code.
 */
export function startWorker(workerData: HashWorkerData): Worker {
  if (!WORKER_URL.pathname.endsWith('.ts')) return new Worker(WORKER_URL, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export class WorkerPool {
  readonly size: number;
  readonly maxQueue: number;
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Pending>();
  /** Each thread's shared cell: the id of a job it must stop (see hash-worker.ts). */
  private readonly cancelCell = new Map<Worker, Int32Array>();
  private queue: (Pending | undefined)[] = [];
  private head = 0;
  private waiting = 0;
  private nextId = 1;
  private closed = false;
  private threads = 0;

  /** How each thread starts: startWorker(), unless a test starts threads of its own. */
  private readonly startThread: (workerData: HashWorkerData) => Worker;

  constructor(size: number, maxQueue: number, startThread = startWorker) {
    this.size = size;
    this.maxQueue = maxQueue;
    this.startThread = startThread;
    for (let i = 0; i < size; i += 1) this.idle.push(this.spawn());
  }

  /** Threads hashing a job now. */
  get busy(): number {
    return this.running.size;
  }

  /** Jobs waiting for a thread. */
  get queued(): number {
    return this.waiting;
  }

  /** Threads alive (always `size` while the pool runs). */
  get workers(): number {
    return this.threads;
  }

  /** Hands a job to the pool; undefined when the queue is full (answer `ERR busy`). */
  run(rounds: number, text: string): PoolJob | undefined {
    if (this.closed || !this.hasRoom()) return undefined;
    let job!: Pending;
    const result = new Promise<string>((resolve, reject) => {
      job = { id: this.nextId++, rounds, text, resolve, reject, cancelled: false };
    });
    // region step-5
    // A free thread takes the job at once; otherwise it waits its turn in the queue.
    const worker = this.idle.pop();
    if (worker) this.start(worker, job);
    else {
      this.queue.push(job);
      this.waiting += 1;
    }
    // endregion step-5
    return { result, cancel: () => this.cancel(job) };
  }

  /** Stops every thread, even mid-hash; jobs not done are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopping = new Error('the server is stopping');
    for (const job of this.queue.slice(this.head)) job?.reject(stopping);
    this.queue = [];
    this.waiting = 0;
    const all = [...this.idle, ...this.running.keys()];
    for (const job of this.running.values()) job.reject(stopping);
    this.running.clear();
    this.idle.length = 0;
    await Promise.all(all.map((worker) => worker.terminate()));
  }

  private spawn(): Worker {
    const cancel = new SharedArrayBuffer(4);
    const worker = this.startThread({ cancel });
    this.cancelCell.set(worker, new Int32Array(cancel));
    this.threads += 1;
    let worked = false;
    worker.on('message', (done: HashDone) => {
      worked = true;
      const job = this.running.get(worker);
      if (!job || job.id !== done.id) return;
      this.running.delete(worker);
      if (done.hex !== undefined) job.resolve(done.hex); // (a cancelled job was rejected already)
      this.release(worker);
    });
    worker.on('error', (error) => {
      // A thread that crashed is replaced; its job fails, not the server.
      // (One that never finished a job cannot load its code: a new one would fail the same way.)
      this.running.get(worker)?.reject(error);
      this.running.delete(worker);
      if (worked) this.retire(worker);
      else void worker.terminate();
    });
    worker.once('exit', () => {
      this.threads -= 1;
      this.cancelCell.delete(worker);
    });
    return worker;
  }

  private start(worker: Worker, job: Pending): void {
    this.running.set(worker, job);
    worker.postMessage({ id: job.id, rounds: job.rounds, text: job.text } satisfies HashJob);
  }

  /** A thread is free: it takes the next job still wanted, or waits idle. */
  private release(worker: Worker): void {
    if (this.closed) return;
    while (this.head < this.queue.length) {
      const job = this.queue[this.head];
      this.queue[this.head] = undefined;
      this.head += 1;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head); // forget the consumed front, in linear time overall
        this.head = 0;
      }
      if (job === undefined || job.cancelled) continue;
      this.waiting -= 1;
      this.start(worker, job);
      return;
    }
    this.idle.push(worker);
  }

  /** A thread that cannot be reused (it failed, or was stopped mid-job): a fresh one replaces it. */
  private retire(worker: Worker): void {
    void worker.terminate();
    if (!this.closed) this.release(this.spawn());
  }

  // region step-6
  /** Room for one more job: a thread free, or a place in the queue. */
  private hasRoom(): boolean {
    return this.idle.length > 0 || this.waiting < this.maxQueue;
  }

  private cancel(job: Pending): void {
    if (job.cancelled) return;
    job.cancelled = true;
    for (const [worker, running] of this.running) {
      if (running !== job) continue;
      // Running: tell the thread through their shared memory. It stops within CHECK_EVERY
      // rounds and answers, and is then given the next job (the 'message' listener).
      const cell = this.cancelCell.get(worker);
      if (cell) Atomics.store(cell, 0, job.id);
      job.reject(new Error('cancelled'));
      return;
    }
    const index = this.queue.indexOf(job, this.head);
    if (index === -1) return; // already done
    this.queue[index] = undefined;
    this.waiting -= 1;
    job.reject(new Error('cancelled'));
  }
  // endregion step-6
}
