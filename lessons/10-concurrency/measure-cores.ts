/**
 * Lesson 10: measure, don't assert. The same hashing loop (the solution's hashRounds) in one
 * thread, in two worker threads of one process, and in two processes, each doing the same number
 * of hashes: how much faster two are than one. No server and no sockets: the floor under what
 * `--mode workers` and `--mode processes` can reach on this machine.
 *
 *   npx tsx lessons/10-concurrency/measure-cores.ts
 */
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { hashRounds } from './solution/hash.ts';

const ROUNDS = 20_000;
const HASHES = 40;

/** Milliseconds for HASHES hashes of ROUNDS rounds, after one to warm up. */
function timeHashes(): number {
  hashRounds(ROUNDS, 'warm up');
  const started = performance.now();
  for (let i = 0; i < HASHES; i++) hashRounds(ROUNDS, `text ${i}`);
  return performance.now() - started;
}

/** Runs `start` twice at once and resolves with the wall time until both have hashed. */
async function twice(start: () => { ready: Promise<void>; go(): void; done: Promise<void> }) {
  const runs = [start(), start()];
  // Both are loaded before the clock starts: a thread's or a process's start is not hashing.
  await Promise.all(runs.map((run) => run.ready));
  const started = performance.now();
  for (const run of runs) run.go();
  await Promise.all(runs.map((run) => run.done));
  return performance.now() - started;
}

function inThread() {
  // tsx's loader does not reach a thread by itself (see pool.ts): register it first.
  const worker = new Worker(
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`,
    { eval: true, workerData: 'measure' },
  );
  const next = () => new Promise<void>((resolve) => worker.once('message', () => resolve()));
  const ready = next();
  const done = ready.then(next).finally(() => worker.terminate());
  return { ready, go: () => worker.postMessage('go'), done };
}

function inProcess() {
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: ['--import', 'tsx'] });
  const next = () => new Promise<void>((resolve) => child.once('message', () => resolve()));
  const ready = next();
  const done = ready.then(next).finally(() => child.kill());
  return { ready, go: () => child.send('go'), done };
}

/** One thread's time for the hashes, and how many times faster two threads and two processes are. */
export async function measureCores(): Promise<{ oneMs: number; threads: number; processes: number }> {
  const oneMs = timeHashes();
  const threadsMs = await twice(inThread);
  const processesMs = await twice(inProcess);
  // Two runs did twice the hashes: the speed-up is 2 × one run's time over the wall time of both.
  return { oneMs, threads: (2 * oneMs) / threadsMs, processes: (2 * oneMs) / processesMs };
}

if (!isMainThread && workerData === 'measure') {
  parentPort?.postMessage('ready');
  parentPort?.once('message', () => parentPort?.postMessage(timeHashes()));
} else if (process.argv.includes('--child')) {
  process.send?.('ready');
  process.once('message', () => process.send?.(timeHashes()));
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { oneMs, threads, processes } = await measureCores();
  console.log(`${HASHES} hashes of ${ROUNDS} rounds: ${oneMs.toFixed(0)} ms in one thread`);
  console.log(`two worker threads, one process: ${threads.toFixed(2)}× as fast`);
  console.log(`two processes:                   ${processes.toFixed(2)}× as fast`);
}
