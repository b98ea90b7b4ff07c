/**
 * Lesson 10: the code of one worker thread of the pool. It waits for jobs `{ id, rounds, text }`
 * and answers each `{ id, hex }`, one at a time: the pool gives it a new job only after that.
 * workerData.cancel is memory shared with the pool: when it holds the id of the job running, the
 * client has gone, and the thread stops hashing and answers `{ id, hex: undefined }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { hashRounds } from './hash.ts';

export interface HashJob {
  id: number;
  rounds: number;
  text: string;
}

export interface HashDone {
  id: number;
  /** undefined: the job was cancelled. */
  hex: string | undefined;
}

/** What the pool gives each thread when it starts. */
export interface HashWorkerData {
  /** One Int32: the id of a job to stop. */
  cancel: SharedArrayBuffer;
}

const cancel = new Int32Array((workerData as HashWorkerData).cancel);

parentPort?.on('message', (job: HashJob) => {
  const hex = hashRounds(job.rounds, job.text, () => Atomics.load(cancel, 0) === job.id);
  parentPort?.postMessage({ id: job.id, hex } satisfies HashDone);
});
