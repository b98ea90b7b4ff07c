/**
 * What lesson 08's tests need beyond @course/helpers: frames built by the tests themselves (so a
 * server test does not depend on the learner's encoder), a stream cut into pieces, a meter of
 * the bytes copied while decoding, a bounded wait for many bytes that does not join the
 * received chunks again at every arrival (Peer.bytes() does, which is slow for megabytes), and
 * catching what a server's listeners throw (the same as lesson 07's).
 */
import type net from 'node:net';
import { describeBytes, WireError, within } from '@course/helpers';

/** A frame as the protocol says: 4-byte unsigned big-endian length, then the payload. */
export function frame(payload: string | Uint8Array): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Several frames, back to back, as one stream. */
export function frames(...payloads: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(payloads.map(frame));
}

/** `bytes` cut into pieces of the given sizes, used in turn (views: nothing is copied). */
export function cut(bytes: Uint8Array, sizes: number[]): Buffer[] {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < all.length; i++) {
    const size = sizes[i % sizes.length] as number;
    pieces.push(all.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

/** Payloads as text, for readable comparisons in failures. */
export function texts(payloads: Uint8Array[]): string[] {
  return payloads.map((p) => Buffer.from(p).toString('utf8'));
}

/**
 * Runs `run` and counts the bytes copied meanwhile by the usual ways of copying bytes in Node:
 * Buffer.concat, Buffer.from(view), Buffer.copyBytesFrom, buf.copy, Uint8Array's set and slice.
 * (Buffer's own slice and subarray are views: they copy nothing.)
 */
export function countCopies<T>(run: () => T): { result: T; copied: number } {
  let copied = 0;
  const { concat, from, copyBytesFrom } = Buffer;
  const { copy } = Buffer.prototype;
  const { set, slice } = Uint8Array.prototype;
  Buffer.concat = (list, totalLength) => {
    const out = concat.call(Buffer, list, totalLength);
    copied += out.length;
    return out;
  };
  Buffer.from = ((value: unknown, ...rest: unknown[]) => {
    const out = (from as (...args: unknown[]) => Buffer).call(Buffer, value, ...rest);
    if (ArrayBuffer.isView(value) || Array.isArray(value)) copied += out.length;
    return out;
  }) as typeof Buffer.from;
  Buffer.copyBytesFrom = (view, offset, length) => {
    const out = copyBytesFrom.call(Buffer, view, offset, length);
    copied += out.length;
    return out;
  };
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>) {
    const n = copy.apply(this, args);
    copied += n;
    return n;
  };
  Uint8Array.prototype.set = function (this: Uint8Array, array: ArrayLike<number>, offset?: number) {
    copied += array.length;
    return set.call(this, array, offset);
  };
  Uint8Array.prototype.slice = function (this: Uint8Array, start?: number, end?: number) {
    const out = slice.call(this, start, end);
    copied += out.length;
    return out;
  } as typeof Uint8Array.prototype.slice;
  try {
    const result = run();
    return { result, copied };
  } finally {
    Object.assign(Buffer, { concat, from, copyBytesFrom });
    Buffer.prototype.copy = copy;
    Uint8Array.prototype.set = set;
    Uint8Array.prototype.slice = slice;
  }
}

/**
 * Waits, at most `ms`, until `socket` has received `n` bytes, counting them as they come, and
 * returns them. For megabytes: the harness's Peer joins everything received at every chunk.
 */
export async function receive(socket: net.Socket, n: number, expected: string, ms = 10_000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let stop = () => {};
  const done = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= n) resolve();
    };
    const onClose = () => reject(new Error(`the connection closed after ${size} of ${n} bytes: ${expected}`));
    socket.on('data', onData);
    socket.once('close', onClose);
    stop = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
    };
  });
  try {
    await within(
      done,
      () => ({
        expected,
        received: `${size} of ${n} bytes${size > 0 ? `, starting with\n${describeBytes(chunks[0] as Buffer, '    ')}` : ''}`,
      }),
      { ms },
    );
    return Buffer.concat(chunks);
  } finally {
    stop();
  }
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
