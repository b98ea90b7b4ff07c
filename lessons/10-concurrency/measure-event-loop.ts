/**
 * Lesson 10: measure, don't assert. Runs the solution's server in this process, in inline and in
 * workers mode, loads it with 2 × cores connections hashing, and pings it from one more connection
 * every 20 ms, for 4 s. Prints the ping latency (p50, p99, max) and the loop's lag (stats lag_p99_ms) for
 * each mode as a table, and writes the numbers to diagrams/ping-latency.json for diagrams.ts.
 *
 *   npx tsx lessons/10-concurrency/measure-event-loop.ts            print the table
 *   npx tsx lessons/10-concurrency/measure-event-loop.ts --write    also record the JSON
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as pause } from 'node:timers/promises';
import { createHashServer, type Mode } from './solution/server.ts';

const ROUNDS = 100_000;
/** How long each mode is pinged under load. */
const PING_FOR_MS = 4_000;

interface Row {
  mode: Mode;
  pingsMs: number[];
  p50: number;
  p99: number;
  max: number;
  lagP99: number;
}

/** Connects and returns a function that sends a line and resolves with the next reply line. */
async function client(port: number): Promise<{ ask(line: string): Promise<string>; close(): void }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buffered = '';
  const waiting: ((line: string) => void)[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    buffered += text;
    for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
      waiting.shift()?.(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
    }
  });
  return {
    ask: (line) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        socket.write(`${line}\n`);
      }),
    close: () => socket.destroy(),
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function measure(mode: Mode): Promise<Row> {
  const { server, stop } = createHashServer({ mode, workers: os.availableParallelism() });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const load = await Promise.all(Array.from({ length: 2 * os.availableParallelism() }, () => client(port)));
  const pinger = await client(port);
  await pinger.ask('stats'); // starts the lag over
  let hashing = true;
  const loads = load.map(async (c, i) => {
    while (hashing) await c.ask(`hash ${ROUNDS} ${i}`);
  });
  const pingsMs: number[] = [];
  const until = performance.now() + PING_FOR_MS;
  while (performance.now() < until) {
    const start = performance.now();
    await pinger.ask('ping');
    pingsMs.push(performance.now() - start);
    await pause(20);
  }
  const lagP99 = Number(/lag_p99_ms=([\d.]+)/.exec(await pinger.ask('stats'))?.[1] ?? 0);
  hashing = false;
  await Promise.all(loads);
  for (const c of [...load, pinger]) c.close();
  await stop();
  await new Promise((resolve) => server.close(resolve));
  const sorted = [...pingsMs].sort((a, b) => a - b);
  return {
    mode,
    pingsMs,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
    lagP99,
  };
}

const rows: Row[] = [];
for (const mode of ['inline', 'workers'] as const) rows.push(await measure(mode));
const f = (ms: number) => ms.toFixed(1).padStart(8);
console.log(
  `ping latency while ${2 * os.availableParallelism()} clients hash ${ROUNDS} rounds each (${os.availableParallelism()} cores)`,
);
console.log('mode       p50 ms   p99 ms   max ms   loop lag p99 ms');
for (const r of rows) console.log(`${r.mode.padEnd(8)} ${f(r.p50)} ${f(r.p99)} ${f(r.max)} ${f(r.lagP99)}`);
if (process.argv.includes('--write')) {
  const recorded = { rounds: ROUNDS, cores: os.availableParallelism(), node: process.version, rows };
  writeFileSync(
    new URL('./diagrams/ping-latency.json', import.meta.url),
    `${JSON.stringify(recorded, null, 2)}\n`,
  );
  console.log('wrote diagrams/ping-latency.json');
}
