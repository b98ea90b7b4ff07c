/**
 * What differs between Windows and the other systems when the tests start, stop and kill a
 * program: in one place, both branches tested wherever they can run.
 *
 * POSIX: the program runs in a process group of its own, so that a signal reaches it and anything
 * it started, as Ctrl-C in a terminal does. Windows has neither process groups nor signals a
 * parent can send: there the program is asked to stop with a message on its IPC channel (the
 * program kit's onStopSignal() listens for it), and killed with its whole tree by taskkill.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

export const IS_WINDOWS = process.platform === 'win32';

/** How a program is asked to stop: a signal to its group, or a message on its IPC channel. */
export type StopHow = 'signal' | 'message';

/** Spawn options: a group of its own where groups exist, and always an IPC channel. */
export function programStdio(): Pick<SpawnOptions, 'detached' | 'stdio'> {
  return { detached: !IS_WINDOWS, stdio: ['pipe', 'pipe', 'pipe', 'ipc'] };
}

/** Asks the program to stop, as Ctrl-C (SIGINT) or `kill` (SIGTERM) would. */
export function askToStop(
  child: ChildProcess,
  signal: 'SIGINT' | 'SIGTERM',
  how: StopHow = IS_WINDOWS ? 'message' : 'signal',
): void {
  if (how === 'message') {
    if (child.connected) child.send(signal);
    return;
  }
  signalGroup(child, signal);
}

/** Kills the program and everything it started, at once. */
export function killTree(child: ChildProcess): void {
  if (!child.pid) return;
  if (IS_WINDOWS) {
    spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore' }).on('error', () => {});
    return;
  }
  signalGroup(child, 'SIGKILL');
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}
