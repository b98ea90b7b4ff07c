/**
 * How much memory many clients can make server.ts hold: the figure the README gives, measured.
 * Linux only (it reads the server's VmRSS and VmHWM from /proc).
 *
 *   npx tsx lessons/02-tcp-server/measure-memory.ts [--clients 1000] [--target solution]
 *
 * For each way of holding memory, a fresh server.ts (the real program, `--max-connections` set
 * to the number of clients, `--timeout 120000` so that no deadline fires during the measurement)
 * gets that many clients at once, all sending as fast as the server reads and none reading:
 *
 *   unfinished   1 MiB (exactly --max-bytes) of `a` each, and no FIN: the request is held
 *   not read     1 MiB of `a` each, then FIN: the reply (1 MiB) waits for a reader
 *   0xff         1 MiB of 0xff each, then FIN: the reply would be 3 MiB (U+FFFD), refused
 *
 * and the script prints the server's resident memory before, and at its peak (VmHWM) once it
 * has gone a second without using the CPU; and what the kernel holds in TCP buffers then
 * (/proc/net/sockstat, both ends of every connection), which is memory too, outside any process.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { clients: { type: 'string', default: '1000' }, target: { type: 'string', default: 'solution' } },
});
const CLIENTS = Number(values.clients);
const MAX_BYTES = 1024 * 1024;
const server = fileURLToPath(new URL(`./${values.target}/server.ts`, import.meta.url));

const scenarios: { name: string; bytes: Buffer; fin: boolean }[] = [
  { name: 'unfinished', bytes: Buffer.alloc(MAX_BYTES, 'a'), fin: false },
  { name: 'not read', bytes: Buffer.alloc(MAX_BYTES, 'a'), fin: true },
  { name: '0xff', bytes: Buffer.alloc(MAX_BYTES, 0xff), fin: true },
];

/** VmRSS or VmHWM of `pid`, in MiB. */
function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The CPU time `pid` has used so far, in clock ticks. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime, stime
}

/** Waits until `pid` has used no CPU for a whole second: every byte read, every reply queued. */
async function idle(pid: number): Promise<void> {
  let last = cpuTicks(pid);
  for (let still = 0; still < 4; ) {
    await pause(250);
    const now = cpuTicks(pid);
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

/** What the kernel holds in TCP buffers, both ends of every connection, in MiB. */
function kernelTcpMiB(): number {
  const pages = Number(/^TCP:.* mem (\d+)/m.exec(readFileSync('/proc/net/sockstat', 'utf8'))?.[1]);
  return (pages * 4096) / 1024 / 1024;
}

console.log(`${CLIENTS} clients at once against ${values.target}/server.ts (--max-bytes ${MAX_BYTES})`);
console.log('scenario     before    peak    peak - before  kernel TCP buffers');
for (const scenario of scenarios) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', server, '--max-connections', String(CLIENTS), '--timeout', '120000'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const match = /^listening on [^\n]*:(\d+)\n/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', () => reject(new Error(`server.ts exited: ${out}`)));
  });
  child.stdout.resume(); // its log lines are not kept
  const pid = child.pid as number;
  await pause(500);
  const before = memoryMiB(pid, 'VmRSS');

  const sockets = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port });
          socket.on('error', () => {});
          socket.pause(); // never reads
          // Written as the server takes it; resolved once the kernel has it all.
          socket.write(scenario.bytes, () => {
            if (scenario.fin) socket.end();
            resolve(socket);
          });
        }),
    ),
  );
  await idle(pid);
  const peak = memoryMiB(pid, 'VmHWM');
  console.log(
    `${scenario.name.padEnd(12)} ${before.toFixed(0).padStart(4)} MiB ${peak.toFixed(0).padStart(5)} MiB ` +
      `${(peak - before).toFixed(0).padStart(6)} MiB ${kernelTcpMiB().toFixed(0).padStart(10)} MiB`,
  );
  for (const socket of sockets) socket.destroy();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}
