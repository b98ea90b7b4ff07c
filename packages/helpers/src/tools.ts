/**
 * Other clients and servers the tests talk to (nc, python3, curl). They are optional on a
 * learner's machine: a test that needs one is skipped, saying so, where it is missing.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { closeAfterTest } from './cleanup.ts';

/** True when `command` is an executable on the PATH. */
export function hasCommand(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

/** Runs `command` to its end (10 s at most) and returns its stdout; fails with its stderr. */
export function runCommand(command: string, args: string[], ms = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { encoding: 'buffer', timeout: ms }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${command} failed: ${error.message}\n${stderr.toString()}`))
        : resolve(stdout),
    );
    closeAfterTest(() => child.kill());
  });
}
