/**
 * Test helpers of lesson 07 that the shared harness does not have: feeding a LineDecoder a list
 * of chunks, cutting bytes into chunks, catching what a server's listeners throw, and the
 * learner's server started in this process, for server.test.ts and line-limits.test.ts.
 */
import type net from 'node:net';
import {
  asHex,
  assertBytes,
  LogLines,
  listen,
  type Peer,
  reproSetup,
  WireError,
  within,
} from '@course/helpers';
import { LineDecoder, type LineDecoderOptions, LineTooLongError } from '#impl/line-decoder.ts';
import { createLineServer, type LineServerOptions } from '#impl/server.ts';

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

/**
 * The learner's server, in this process, on a free port, with its log lines collected. What its
 * listeners throw (a LineTooLongError nobody caught) fails the test at its next guard()ed wait.
 */
export async function startLines(options: LineServerOptions = {}) {
  const log = new LogLines();
  const server = createLineServer({ log: log.add, ...options });
  const { guard } = catchListenerThrows(server, (error, event) => {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const tooLong = error instanceof Error && error.name === 'LineTooLongError';
    return {
      headline: `the server's '${event}' listener threw ${what}, and nothing caught it`,
      expected: tooLong
        ? 'the server to catch it, answer the lines before it, send `error: <message>` and close this connection (step 7)'
        : 'no exception out of a listener',
      hint: tooLong
        ? "step 7: wrap decoder.push() in the 'data' listener (and decoder.end() in 'end') in try/catch. " +
          'Nothing outside a listener can catch what it throws: in the real server it ends the process, and every client with it'
        : 'an exception thrown in a listener escapes every try/catch around your calls, and ends the real server: find it at the line below',
    };
  });
  const port = await listen(server);
  // The repro lines start the real server with the same limits as this test's.
  const serverArgs = [
    ...(options.maxLineBytes === undefined ? [] : ['--max-line', String(options.maxLineBytes)]),
    ...(options.lineTimeoutMs === undefined ? [] : ['--timeout', String(options.lineTimeoutMs)]),
    ...(options.budgetBytes === undefined ? [] : ['--budget', String(options.budgetBytes)]),
    ...(options.maxConnections === undefined ? [] : ['--max-connections', String(options.maxConnections)]),
  ];
  if (serverArgs.length > 0) reproSetup({ serverArgs });
  return { port, log, server, guard };
}

export type Guard = <T>(promise: Promise<T>) => Promise<T>;

/**
 * Waits for as many answer lines as `expected` holds, then checks them byte for byte
 * (text and hex on failure, and an nc line to try it by hand).
 */
export async function expectAnswers(guard: Guard, peer: Peer, expected: string, hint?: string) {
  const count = expected.split('\n').length - 1;
  await guard(
    peer.lines(count, {
      hint: hint ?? 'answer each complete line with `<n> <line>\\n` as soon as its \\n has arrived',
    }),
  );
  assertBytes(peer.received, expected, { what: 'the reply', hint, repro: peer.repro });
}

/** The server's side of each connection it accepts, in order (this listener runs after the server's). */
export function serverSides(server: net.Server): net.Socket[] {
  const sockets: net.Socket[] = [];
  server.on('connection', (socket: net.Socket) => sockets.push(socket));
  return sockets;
}

/** Waits, polling every 5 ms, until `ready()` is true; `expected` says what for, if it never is. */
export function eventually(ready: () => boolean, expected: string, ms = 10_000): Promise<void> {
  let check: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    check = setInterval(() => {
      if (ready()) resolve();
    }, 5);
  });
  return within(done, () => ({ expected }), { ms }).finally(() => clearInterval(check));
}
