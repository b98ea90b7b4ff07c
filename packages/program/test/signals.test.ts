/**
 * Ctrl-C through `npx tsx`: the terminal sends SIGINT to tsx and to the program, and tsx relays
 * its own to the program when the program is slow to confirm (its 30 ms wait, on a busy
 * machine), so the program may get SIGINT twice while it stops. These tests send the program
 * those signals themselves, through tsx's command line as a learner runs it: tsx's own relay
 * depends on the machine's load, and past 60 ms tsx kills the program itself, which no program
 * can prevent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';

const TCP = fileURLToPath(new URL('./fixtures/tcp-hold.ts', import.meta.url));
const UDP = fileURLToPath(new URL('./fixtures/udp-upper.ts', import.meta.url));
const TSX_CLI = fileURLToPath(import.meta.resolve('tsx/cli'));
// A liveness bound: tsx compiles the fixture first, which takes seconds on a busy machine.
const BOUND = 10_000;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Rejects after `ms` with `what`, so that no wait in these tests is unbounded. */
function bounded<T>(promise: Promise<T>, what: string, ms = BOUND): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface Child {
  process: ChildProcess;
  stdout: () => string;
  /** The exit code, or the signal that killed tsx. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** The program's own process (tsx runs it as a child), once it is listening. */
  pid: number;
  port: number;
}

/** Runs a fixture as a learner does, `npx tsx file --port 0`, and waits until it listens. */
async function runWithTsx(file: string): Promise<Child> {
  const child = spawn(process.execPath, [TSX_CLI, file, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PRINT_PID: '1' },
  });
  cleanups.push(() => child.kill('SIGKILL'));
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal)),
  );
  const [pid, port] = await bounded(
    new Promise<[number, number]>((resolve) => {
      const check = () => {
        const pid = /^pid (\d+)$/m.exec(stdout)?.[1];
        const port = /^listening on \S+:(\d+)$/m.exec(stdout)?.[1];
        if (pid && port) resolve([Number(pid), Number(port)]);
      };
      child.stdout?.on('data', check);
      check();
    }),
    'the program to print `listening on`',
  );
  cleanups.push(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  });
  return { process: child, stdout: () => stdout, exited, pid, port };
}

describe('a second signal while the program stops (Ctrl-C through `npx tsx`)', () => {
  test('a TCP server with an open connection finishes its clean-up and exits 0', async () => {
    const child = await runWithTsx(TCP);
    const socket = net.connect({ host: '127.0.0.1', port: child.port });
    cleanups.push(() => socket.destroy());
    socket.on('error', () => {});
    await bounded(new Promise((resolve) => socket.once('data', resolve)), 'the greeting');
    process.kill(child.pid, 'SIGINT');
    process.kill(child.pid, 'SIGINT'); // what tsx relays when the program was slow to confirm
    expect(
      await bounded(child.exited, 'the program to exit'),
      `the second SIGINT must not kill the program mid-clean-up (exit 130). stdout:\n${child.stdout()}`,
    ).toBe(0);
    expect(child.stdout()).toContain('tcp-hold.ts: SIGINT, closing 1 connection(s) and stopping\n');
    expect(child.stdout(), 'the clean-up a closing connection started finishes').toContain('cleaned up\n');
  });

  test('a UDP server exits 0', async () => {
    const child = await runWithTsx(UDP);
    process.kill(child.pid, 'SIGINT');
    process.kill(child.pid, 'SIGINT');
    expect(await bounded(child.exited, 'the program to exit'), child.stdout()).toBe(0);
  });

  test('SIGINT, SIGINT and SIGTERM in a burst are one stop, not one each', async () => {
    const child = await runWithTsx(TCP);
    process.kill(child.pid, 'SIGINT');
    process.kill(child.pid, 'SIGINT');
    process.kill(child.pid, 'SIGTERM');
    expect(await bounded(child.exited, 'the program to exit'), child.stdout()).toBe(0);
    expect(child.stdout().match(/closing/g), child.stdout()).toHaveLength(1);
  });
});
