/**
 * Bounded waits. Every wait in the course ends: when it ends without what the test wanted, the
 * error tells a learner what was expected, what arrived (text and hex), a hint, and a shell line
 * to try the same exchange by hand.
 */
import { learnerLanguage } from '@course/model/editions';
import { words } from '@course/words';
import { testWords } from '@course/words/tests';
import { describeBytes } from './show.ts';

/**
 * The default bound of one wait: a correct solution answers on loopback in a few milliseconds,
 * so this is generous, and short enough that an unfinished step fails fast.
 */
export const DEFAULT_WAIT_MS = 1_500;

/**
 * The bound of a wait for something that always happens, only later on a busy machine: a
 * program starting (tsx compiles it first), a client run to its end, a process exiting once
 * signalled. Generous, so that a laptop busy with an editor and a video call never fails a test
 * that is right; shorter than the test's own time-out, so that the learner reads our message.
 */
export const LIVENESS_MS = 10_000;

export interface Explanation {
  /** What the test was waiting for, in words: `the server to close the connection`. */
  expected: string;
  /** What had arrived when the wait ended: bytes (shown as text and hex) or words. */
  received?: Uint8Array | string;
  /** What to check in the code. */
  hint?: string;
  /** A shell line that reproduces the exchange. */
  repro?: string;
}

/** A failed expectation about what crossed the wire, worded for a learner. */
export class WireError extends Error {
  constructor(headline: string, explanation: Explanation) {
    super(formatExplanation(headline, explanation));
    this.name = 'WireError';
  }
}

/**
 * The labels and the test's sentences in the learner's language (COURSE_LANG, or the system's;
 * the sentences from the lesson's test.LANG.json); the bytes and the shell line as they are.
 */
export function formatExplanation(headline: string, e: Explanation): string {
  const lang = learnerLanguage();
  const say = words(lang).harness;
  const t = (text: string) => testWords(text, lang);
  const lines = [t(headline), `  ${say.expected}: ${t(e.expected)}`];
  if (e.received !== undefined) {
    lines.push(
      typeof e.received === 'string'
        ? `  ${say.received}: ${t(e.received)}`
        : `  ${say.received}:\n${describeBytes(e.received, '    ')}`,
    );
  }
  if (e.hint) lines.push(`  ${say.hint}: ${t(e.hint)}`);
  if (e.repro) lines.push(`  ${say.tryIt}:\n    ${e.repro.split('\n').join('\n    ')}`);
  return lines.join('\n');
}

/** For an error that is a starter's `TODO(n)`: the hint is to do that step, whatever the test. */
export function unlessTodo<T extends string | undefined>(error: unknown, hint: T): string | T {
  const todo = /TODO\(\d+\)/.exec(String(error))?.[0];
  return todo ? words().harness.todoFirst(todo) : hint;
}

export interface WaitOptions {
  /** The bound, in milliseconds (default 2000). */
  ms?: number;
  hint?: string;
  repro?: string;
}

/**
 * Waits for `promise` at most `ms`. On time-out it throws a WireError built from `explain()`,
 * called then so that it reports what had arrived by that moment.
 */
export async function within<T>(
  promise: Promise<T>,
  explain: () => Explanation,
  { ms = DEFAULT_WAIT_MS, hint, repro }: WaitOptions = {},
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = explain();
      reject(
        new WireError(`gave up after waiting ${ms} ms`, {
          ...e,
          hint: hint ?? e.hint,
          repro: repro ?? e.repro,
        }),
      );
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Listeners to call whenever something a test may be waiting for has changed. */
export class Changes {
  private readonly listeners = new Set<() => void>();

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** What a check says: done with a value, failed at once with an error, or (undefined) not yet. */
export type Outcome<T> = { value: T } | { error: Error } | undefined;

/**
 * Waits, at most `options.ms`, until `check()` gives an outcome; it is checked now and after
 * each change. On time-out, fails with `explain()` as of that moment.
 */
export async function waitUntil<T>(
  changes: Changes,
  check: () => Outcome<T>,
  explain: () => Explanation,
  options: WaitOptions = {},
): Promise<T> {
  let unsubscribe = () => {};
  const settled = new Promise<T>((resolve, reject) => {
    const listener = () => {
      const outcome = check();
      if (outcome && 'value' in outcome) resolve(outcome.value);
      else if (outcome) reject(outcome.error);
    };
    unsubscribe = changes.subscribe(listener);
    listener();
  });
  try {
    return await within(settled, explain, options);
  } finally {
    unsubscribe();
  }
}

/**
 * Fails with a WireError (text, hex, hint, repro) unless `actual` holds exactly `expected`:
 * clearer than a string diff when the difference is a byte a learner cannot see.
 */
export function assertBytes(
  actual: Uint8Array,
  expected: string | Uint8Array,
  explanation: { what: string; hint?: string; repro?: string },
): void {
  const want = typeof expected === 'string' ? Buffer.from(expected) : Buffer.from(expected);
  if (Buffer.from(actual).equals(want)) return;
  // A starter's server answers with the line of the step still to do: that line is the whole
  // story, the same for every test that reaches it (the report then shows it once).
  const todo = /^TODO\(\d+\):[^\n]*/.exec(Buffer.from(actual).toString('utf8'))?.[0];
  if (todo) throw new Error(todo);
  throw new WireError(`${explanation.what} is not what was expected`, {
    expected: `\n${describeBytes(want, '    ')}`,
    received: actual,
    hint: explanation.hint,
    repro: explanation.repro,
  });
}
