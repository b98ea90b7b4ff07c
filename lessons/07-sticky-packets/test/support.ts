/**
 * Test helpers of lesson 07 that the shared harness does not have: feeding a LineDecoder a list
 * of chunks, cutting bytes into chunks, and catching what a server's listeners throw.
 */
import type net from 'node:net';
import { asHex, WireError } from '@course/helpers';
import { LineDecoder, type LineDecoderOptions, LineTooLongError } from '#impl/line-decoder.ts';

export interface Decoded {
  /** Every line onLine received, in order. */
  lines: string[];
  /** The LineTooLongError thrown, if one was (any other error is thrown on). */
  error: LineTooLongError | undefined;
  /** The most bytes the decoder held at once, after any push(). */
  mostHeld: number;
}

/**
 * Pushes `chunks` into a new LineDecoder, one push() each, then calls end() unless told not to.
 * Stops at a LineTooLongError and reports it with the lines delivered before it.
 */
export function decodeChunks(
  chunks: (string | Uint8Array)[],
  { end = true, ...options }: LineDecoderOptions & { end?: boolean } = {},
): Decoded {
  const decoder = new LineDecoder(options);
  const result: Decoded = { lines: [], error: undefined, mostHeld: 0 };
  const onLine = (line: string) => {
    if (typeof line !== 'string') throw new Error(`onLine should get a string, got ${typeof line}`);
    result.lines.push(line);
  };
  try {
    for (const chunk of chunks) {
      decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, onLine);
      result.mostHeld = Math.max(result.mostHeld, decoder.pendingBytes);
    }
    if (end) decoder.end(onLine);
  } catch (error) {
    if (!(error instanceof LineTooLongError)) throw error;
    result.error = error;
  }
  return result;
}

/** Every byte of `text` (UTF-8) in a chunk of its own. */
export function byteChunks(text: string): Buffer[] {
  return [...Buffer.from(text)].map((byte) => Buffer.of(byte));
}

/**
 * `bytes` cut at `points` (each taken modulo length + 1, in any order, repeats giving empty
 * chunks): the chunks a network might deliver.
 */
export function cutAt(bytes: Buffer, points: number[]): Buffer[] {
  const cuts = points.map((p) => p % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

/** `c3 a9 e4 ...`, for messages about bytes. */
export function show(bytes: Uint8Array): string {
  return asHex(bytes);
}

/** `[68 69 0a] [] [c3] [a9 0a]`: the chunks fed to the decoder, in messages. */
export function showChunks(chunks: Uint8Array[]): string {
  return chunks.map((chunk) => `[${asHex(chunk)}]`).join(' ');
}

/** What a server's connection listeners threw, turned into a failure of the test that caused it. */
export interface ListenerThrows {
  /** Waits for `promise`, but fails at once, with the explanation, if a listener has thrown. */
  guard<T>(promise: Promise<T>): Promise<T>;
  /** The first error thrown, if any. */
  readonly first: unknown;
}

/**
 * Watches every connection of `server`: an exception thrown by one of its socket's listeners
 * ('data', 'end', ...) would escape every test (nothing can catch it) and, in the real program,
 * end the process. Here it is caught, that connection destroyed, and the test fails with
 * `explain(error, event)` at its next guard()ed wait, instead of a stray error reported later
 * and once per chunk. Call it before the server listens.
 */
export function catchListenerThrows(
  server: net.Server,
  explain: (error: unknown, event: string) => { headline: string; expected: string; hint: string },
): ListenerThrows {
  let first: unknown;
  let fail: (error: Error) => void = () => {};
  const crashed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  crashed.catch(() => {}); // reported through guard(), never as an unhandled rejection
  server.on('connection', (socket: net.Socket) => {
    const emit = socket.emit;
    socket.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]): boolean {
      try {
        return (emit as (...all: unknown[]) => boolean).call(this, event, ...args);
      } catch (error) {
        if (first === undefined) {
          first = error;
          const { headline, expected, hint } = explain(error, String(event));
          const failure = new WireError(headline, { expected, hint });
          // Point at the listener in the learner's server, where the catch belongs.
          const frames =
            error instanceof Error ? (error.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)) : [];
          const order = [
            ...frames.filter((l) => /server\.ts/.test(l)),
            ...frames.filter((l) => !/server\.ts/.test(l)),
          ];
          failure.stack = `${failure.name}: ${failure.message}\n${order.join('\n')}`;
          fail(failure);
        }
        socket.destroy();
        return true;
      }
    } as typeof socket.emit;
  });
  return {
    guard: <T>(promise: Promise<T>) => Promise.race([crashed, promise]),
    get first() {
      return first;
    },
  };
}
