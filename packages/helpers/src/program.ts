/**
 * The lesson programs (server.ts, client.ts) run as real child processes, from exercise/ or
 * solution/ as COURSE_TARGET selects, as a learner runs them with tsx (bundled first: bundle.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { implPath } from '@course/config/target';
import { words } from '@course/words';
import { expect, onTestFinished } from 'vitest';
import { nodeArgs } from './bundle.ts';
import { closeAfterTest } from './cleanup.ts';
import { askToStop, killTree, programStdio, type StopHow } from './platform.ts';
import { ncLine } from './show.ts';
import { Changes, DEFAULT_WAIT_MS, LIVENESS_MS, WireError, waitUntil, within } from './wait.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A lesson, found from a test file's `import.meta.url`. */
export class Lesson {
  readonly dir: string;
  /** `02-tcp-server` */
  readonly name: string;

  constructor(dir: string) {
    this.dir = dir;
    this.name = relative(join(REPO_ROOT, 'lessons'), dir);
  }

  /** The path of one of the lesson's files, as COURSE_TARGET selects it. */
  file(name: string): string {
    return implPath(this.dir, name);
  }

  /** `npx tsx lessons/02-tcp-server/exercise/server.ts`: how a learner runs that program. */
  command(program: string, args: string[] = []): string {
    return ['npx tsx', relative(REPO_ROOT, this.file(program)), ...args.map(shellWord)].join(' ');
  }

  /**
   * Starts a server program with `args` (`--port 0` is added unless given) and waits for its
   * `listening on HOST:PORT` line. The process is stopped when the test ends.
   */
  async startServer(
    program: string,
    args: string[] = [],
    options: { ms?: number } = {},
  ): Promise<RunningProgram> {
    const withPort = args.includes('--port') ? args : [...args, '--port', '0'];
    const child = await this.spawn(program, withPort);
    await child.listening(options.ms);
    return child;
  }

  /** Runs a program to its end (for clients) and returns its exit code and output. */
  async run(
    program: string,
    args: string[] = [],
    options: { stdin?: string; ms?: number } = {},
  ): Promise<ProgramResult> {
    return (await this.spawn(program, args, options.stdin)).exit(options.ms ?? LIVENESS_MS);
  }

  private async spawn(program: string, args: string[], stdin?: string): Promise<RunningProgram> {
    const file = this.file(program);
    if (!existsSync(file)) throw new Error(`${relative(REPO_ROOT, file)} does not exist`);
    // Replayed by hand, a server needs a port that the client line can name.
    const shown = args.map((arg, i) => (args[i - 1] === '--port' && arg === '0' ? '9000' : arg));
    return new RunningProgram(process.execPath, await nodeArgs(file, args), {
      cwd: this.dir,
      stdin,
      display: this.command(program, shown),
    });
  }
}

/**
 * Starts any command as a child process (a Python server, say), stopped when the test ends.
 * Wait for its output with `waitForLine()`.
 */
export function startCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): RunningProgram {
  return new RunningProgram(command, args, {
    ...options,
    display: [command, ...args.map(shellWord)].join(' '),
  });
}

/** The lesson that holds the file at `moduleUrl` (a test's `import.meta.url`). */
export function lessonOf(moduleUrl: string): Lesson;
export function lessonOf(moduleUrl: string, options: { optional: true }): Lesson | undefined;
export function lessonOf(moduleUrl: string, options?: { optional: true }): Lesson | undefined {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(dir, 'lesson.json'))) {
    const up = dirname(dir);
    if (up === dir) {
      if (options?.optional) return undefined;
      throw new Error(`no lesson.json above ${fileURLToPath(moduleUrl)}`);
    }
    dir = up;
  }
  return new Lesson(dir);
}

/**
 * How a test's exchange is replayed by hand when it differs from the plain one: the flags the
 * test's server was started with, a trickle instead of one write, or a note on what a pasted line
 * cannot reproduce. Set for one test with reproSetup().
 */
export interface ReproSetup {
  /** Flags for the lesson's server program, beside `--port 9000` (`['--timeout', '150']`). */
  serverArgs?: string[];
  /** Send one byte every `trickleMs` ms (a python3 line: nc sends everything at once). */
  trickleMs?: number;
  /** What the lines cannot reproduce, said plainly (`this test's server takes 1000 bytes at most`). */
  note?: string;
}

let setup: ReproSetup = {};

/**
 * Makes every repro line of the current test (a Peer's, reproLines(), udpReproLines()) carry the
 * test's own setup. Call it inside the test; it is forgotten when the test ends.
 */
export function reproSetup(more: ReproSetup): void {
  setup = { ...setup, ...more };
  onTestFinished(() => {
    setup = {};
  });
}

/** The current test's ReproSetup (for the UDP repro lines). */
export function currentReproSetup(): ReproSetup {
  return setup;
}

/**
 * The exchange as a learner replays it by hand. In a lesson with a server program: start it on
 * port 9000 in one terminal (with the test's flags), send the same bytes in another (the
 * course's nc, trickling them if the test did). Elsewhere: send them to `port`.
 */
export function reproLines(
  sent: Uint8Array,
  port: number,
  { trickleMs = setup.trickleMs, halfClose = true }: { trickleMs?: number; halfClose?: boolean } = {},
): string {
  const send = (to: number) => ncLine(sent, to, { trickleMs, halfClose });
  return withServer(send, port, (lesson) =>
    lesson.command('server', ['--port', '9000', ...(setup.serverArgs ?? [])]),
  );
}

/**
 * `send(port)` alone, or after a line that starts the lesson's server on port 9000, plus the
 * test's note. Shared by the TCP and UDP repro lines.
 */
export function withServer(
  send: (port: number) => string,
  port: number,
  serverCommand: (lesson: Lesson) => string,
): string {
  const testPath = expect.getState().testPath;
  const lesson = testPath ? lessonOf(pathToFileURL(testPath).href, { optional: true }) : undefined;
  const note = setup.note ? `\n# note: ${setup.note}` : '';
  if (!lesson || !existsSync(lesson.file('server'))) return `${send(port)}${note}`;
  return `${serverCommand(lesson)}     # in one terminal\n${send(9000)}     # in another${note}`;
}

export interface ProgramResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A lesson program running as a child process; its output is collected as it arrives. */
export class RunningProgram {
  readonly process: ChildProcess;
  stdout = '';
  stderr = '';
  /** Set from the `listening on HOST:PORT` line. */
  host = '';
  port = 0;
  private result: ProgramResult | undefined;
  private readonly ended: Promise<ProgramResult>;
  /**
   * The process has exited. Heard from the start: 'exit' comes before 'close', which waits for
   * the pipes, and a kill() between the two that listened for 'exit' only then waited for it
   * forever (under load, one run of npm test in six: a test held to vitest's 30 s backstop).
   */
  private readonly gone: Promise<void>;
  private readonly changes = new Changes();

  /** How a learner runs the same thing, for messages. */
  readonly command: string;

  constructor(
    command: string,
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string; display: string },
  ) {
    this.command = options.display;
    const stdin = options.stdin;
    this.process = spawn(command, args, {
      // A process group of its own where groups exist (a signal reaches the program and anything
      // it started, as Ctrl-C in a terminal does), and an IPC channel to ask it to stop on Windows.
      ...programStdio(),
      cwd: options.cwd,
      env: { ...process.env, ...options.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    this.process.stdout?.setEncoding('utf8').on('data', (text: string) => {
      this.stdout += text;
      this.changes.notify();
    });
    this.process.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
      this.changes.notify();
    });
    this.process.stdin?.on('error', () => {}); // the program may exit before reading stdin
    this.process.stdin?.end(stdin ?? '');
    this.gone = new Promise((resolve) => this.process.once('exit', () => resolve()));
    this.ended = new Promise((resolve) => {
      this.process.once('close', (code, signal) => {
        this.result = { code, signal, stdout: this.stdout, stderr: this.stderr };
        this.changes.notify();
        resolve(this.result);
      });
    });
    closeAfterTest(() => this.kill());
  }

  get exited(): boolean {
    return this.result !== undefined;
  }

  /** Stdout as lines, without the last one if it is not complete yet. */
  get lines(): string[] {
    return this.stdout.split('\n').slice(0, -1);
  }

  /** Waits for the first stdout line matching `pattern`, failing early if the program exits. */
  waitForLine(
    pattern: RegExp,
    expected: string,
    options: { ms?: number; hint?: string } = {},
  ): Promise<string> {
    return this.waitFor(() => this.lines.find((l) => pattern.test(l)), expected, options);
  }

  /**
   * Waits until stdout matches `pattern`, in lines or not (a UDP reply printed by nc has no
   * newline), failing early if the program exits; returns stdout so far.
   */
  waitForOutput(
    pattern: RegExp,
    expected: string,
    options: { ms?: number; hint?: string } = {},
  ): Promise<string> {
    return this.waitFor(() => (pattern.test(this.stdout) ? this.stdout : undefined), expected, options);
  }

  private waitFor<T>(
    found: () => T | undefined,
    expected: string,
    options: { ms?: number; hint?: string },
  ): Promise<T> {
    return waitUntil<T>(
      this.changes,
      () => {
        const value = found();
        if (value !== undefined) return { value };
        if (!this.result) return undefined;
        return {
          error: this.failure(`the program exited (${exitWords(this.result)}) first`, expected, options.hint),
        };
      },
      () => this.explanation(expected, options.hint),
      { ms: options.ms ?? DEFAULT_WAIT_MS },
    );
  }

  /** Waits for `listening on HOST:PORT` as the first line of stdout and records the address. */
  async listening(ms = LIVENESS_MS): Promise<void> {
    const expected = 'the first line on stdout to be `listening on HOST:PORT`';
    const line = await this.waitForLine(/.*/, expected, {
      ms,
      hint: 'print it with console.log once the server is listening (in the listen callback)',
    });
    const match = /^listening on \[?([^\]]+?)\]?:(\d+)$/.exec(line);
    if (!match) throw this.failure(`the first line was ${JSON.stringify(line)}`, expected);
    this.host = match[1] as string;
    this.port = Number(match[2]);
  }

  /**
   * Asks the program to stop as Ctrl-C (SIGINT) or `kill` (SIGTERM) would, and waits for it to
   * exit; returns how it exited. `how` is the system's way unless a test picks one (platform.ts).
   */
  async stop(
    signal: 'SIGINT' | 'SIGTERM' = 'SIGINT',
    ms = LIVENESS_MS,
    how?: StopHow,
  ): Promise<ProgramResult> {
    askToStop(this.process, signal, how);
    return this.exit(ms);
  }

  /** Waits for the program to exit by itself. */
  async exit(ms = DEFAULT_WAIT_MS): Promise<ProgramResult> {
    return within(this.ended, () => this.explanation('the program to exit'), { ms });
  }

  /**
   * Stops the process if it still runs: SIGKILL, so cleanup never waits on a stuck program. Its
   * pipes are closed too: a grandchild it left behind could otherwise hold them open.
   */
  async kill(): Promise<void> {
    if (this.result) return;
    killTree(this.process);
    await this.gone;
    this.process.stdout?.destroy();
    this.process.stderr?.destroy();
    await this.ended;
  }

  failure(headline: string, expected: string, hint?: string): WireError {
    return new WireError(headline, this.explanation(expected, hint));
  }

  private explanation(expected: string, hint?: string) {
    // A starter's TODO stopped the program: that step, not the test's own advice, comes first.
    const todo = /TODO\((\d+)\)/.exec(this.stderr)?.[1];
    if (todo) {
      hint = words().harness.programAtTodo(todo);
    }
    const out = [
      `${this.result ? exitWords(this.result) : words().harness.stillRunning}`,
      `    stdout: ${quoteOutput(this.stdout)}`,
      `    stderr: ${quoteOutput(this.stderr)}`,
    ].join('\n');
    return { expected, received: out, hint, repro: this.command };
  }
}

function exitWords(result: ProgramResult): string {
  return result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`;
}

function quoteOutput(text: string): string {
  if (!text) return '(nothing)';
  const trimmed = text.length > 1500 ? `${text.slice(0, 1500)}…` : text;
  return `\n      ${trimmed.trimEnd().split('\n').join('\n      ')}`;
}

function shellWord(word: string): string {
  return /^[\w./:=@-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
