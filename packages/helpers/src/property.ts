/**
 * Property tests that explain themselves. fast-check's own report is a raw counterexample
 * (`Counterexample: [[""],"",[1]]`, where the `""` may hold an invisible U+0080) and advice about
 * its verbose mode. checkProperty() runs the property with fc.check() and, when it fails, throws
 * one short message in the lesson's own words: the smallest failing input as the test shows it
 * (the chunks as hex), what went wrong, and the line that replays exactly that run.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { expect } from 'vitest';

/** The environment variable that replays one failed run: `<test id>:<seed>:<path>`. */
export const REPLAY_VARIABLE = 'PROPERTY_REPLAY';

export interface PropertyOptions<Ts extends unknown[]> {
  /** The input in the lesson's own words, one or more lines: `cut into [68 c3] [a9 0a]`. */
  show: (...values: Ts) => string;
  /** How many inputs to try (default 100). */
  numRuns?: number;
}

/** A property that failed, explained: its message is all a learner needs. */
export class PropertyFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyFailure';
  }
}

/**
 * Checks `property` on many generated inputs. On failure, throws a PropertyFailure that shows
 * the smallest failing input with `show`, the error it caused, and how to replay the run. An
 * error from a step not written yet (`TODO(n): …`) is thrown as it is, like any other test's.
 */
export function checkProperty<Ts extends unknown[]>(
  property: fc.IProperty<Ts>,
  { show, numRuns = 100 }: PropertyOptions<Ts>,
): void {
  const testName = expect.getState().currentTestName ?? '';
  const id = createHash('sha256').update(testName).digest('hex').slice(0, 6);
  const replay = replayFor(id);
  const details = fc.check(property, { numRuns, ...replay });
  if (!details.failed) return;
  const error = details.errorInstance;
  if (error instanceof Error && /^TODO\(\d+\)/.test(error.message)) throw error;

  const lines: string[] = [];
  if (details.counterexample === null) {
    lines.push(`the property could not be checked: ${firstLines(describeError(error))}`);
  } else {
    const runs = `failed on input ${details.numRuns} of ${numRuns}`;
    const shrunk = details.numShrinks > 0 ? `, shrunk ${details.numShrinks} times to the smallest` : '';
    lines.push(`the property ${runs}${shrunk}:`);
    let shown: string;
    try {
      shown = show(...details.counterexample);
    } catch (showError) {
      shown = `(cannot show it: ${describeError(showError)}) ${visible(safeStringify(details.counterexample))}`;
    }
    lines.push(indent(shown, '  '));
    lines.push('what went wrong:');
    lines.push(indent(firstLines(describeError(error)), '  '));
  }
  const path = details.counterexamplePath ?? '';
  lines.push(
    `replay this run: ${REPLAY_VARIABLE}=${id}:${details.seed}${path ? `:${path}` : ''} npm test -- ${lessonNumber()}`,
  );
  const failure = new PropertyFailure(lines.join('\n'));
  // Point at the line that failed (the learner's code, or the test's expect), not at this file.
  const frames =
    error instanceof Error ? (error.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)) : [];
  if (frames.length > 0) failure.stack = `${failure.name}: ${failure.message}\n${frames.join('\n')}`;
  throw failure;
}

/** The seed and path of `PROPERTY_REPLAY` when it names this test, else nothing. */
function replayFor(id: string): { seed?: number; path?: string } {
  const value = process.env[REPLAY_VARIABLE];
  if (!value) return {};
  const [which, seed, ...path] = value.split(':');
  if (which !== id || seed === undefined || !/^-?\d+$/.test(seed)) return {};
  return path.length > 0 ? { seed: Number(seed), path: path.join(':') } : { seed: Number(seed) };
}

/** `07`, from the test file's path, for the replay line. */
function lessonNumber(): string {
  const path = expect.getState().testPath ?? '';
  return /lessons[\\/](\d+)-/.exec(path)?.[1] ?? '';
}

function describeError(error: unknown): string {
  if (error instanceof Error) return visible(error.message);
  return visible(String(error));
}

/** At most 12 lines and 1,200 characters: a failure stays short whatever the values. */
function firstLines(text: string): string {
  const lines = text.split('\n');
  let out = lines.slice(0, 12).join('\n');
  if (out.length > 1_200) out = `${out.slice(0, 1_200)} …`;
  else if (lines.length > 12) out += '\n…';
  return out;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v) =>
      v instanceof Uint8Array ? `<${Buffer.from(v).toString('hex')}>` : v,
    );
  } catch {
    return String(value);
  }
}

/**
 * `text` with the characters a terminal does not show (controls but \n, format marks, odd spaces)
 * written as `\u{80}`: U+0080 is invisible, and `"\u{80}"` is not `""`.
 */
export function visible(text: string): string {
  return text.replace(/[^\S ]|[\p{C}\p{Z}]/gu, (ch) =>
    ch === '\n' || ch === ' ' ? ch : `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`,
  );
}

/** A string as a learner reads it in a failure: quoted, \n \r \t escaped, invisible characters by number. */
export function quote(text: string): string {
  return visible(JSON.stringify(text));
}
