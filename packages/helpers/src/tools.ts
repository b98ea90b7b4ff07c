/**
 * Other clients and servers the tests talk to: the course's own nc, always there, and python3 or
 * curl, optional on a learner's machine: a test that needs one is skipped, saying so, where it is
 * missing.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeAfterTest } from './cleanup.ts';
import { RunningProgram } from './program.ts';

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

const COURSE_BIN = fileURLToPath(new URL('../../cli/bin/course.mjs', import.meta.url));

/**
 * The words of a `npx course nc …` line as a shell splits them (single quotes kept literal, as
 * bash, zsh and PowerShell all do), without the `npx course` in front.
 */
export function courseLineWords(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/'([^']*)'|(\S+)/g)) words.push(match[1] ?? match[2] ?? '');
  if (words[0] !== 'npx' || words[1] !== 'course') throw new Error(`not a course line: ${line}`);
  return words.slice(2);
}

/**
 * Runs a `npx course …` line the way a learner who pastes it does, on this machine's node, and
 * returns its stdout (20 s at most: it starts tsx, slow on a busy machine).
 */
export function runCourseLine(line: string, ms = 20_000): Promise<Buffer> {
  return runCommand(process.execPath, [COURSE_BIN, ...courseLineWords(line)], ms);
}

/**
 * Starts a `npx course …` line as runCourseLine() does, without waiting for its end: a line that
 * waits by design (`nc -u -w 5` listens five seconds for more replies) is read while it runs
 * (`waitForOutput()`), and stopped when the test ends.
 */
export function startCourseLine(line: string): RunningProgram {
  return new RunningProgram(process.execPath, [COURSE_BIN, ...courseLineWords(line)], { display: line });
}
