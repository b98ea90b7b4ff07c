import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { closedPort, lessonOf, startProxy, startServer, WireError, within } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import {
  formatBytes,
  hashFile,
  hashWhileReading,
  progressReporter,
  sendBody,
  UploadError,
  upload,
} from '#impl/client.ts';
import {
  clientRepro,
  type Explain,
  expectFiles,
  frame,
  NO_REPRO,
  randomFileLine,
  sha256,
  splitFrames,
  startUploads,
  tempRoot,
} from './support.ts';

const lesson = lessonOf(import.meta.url);

/** A file of `bytes` in a fresh temporary folder (in a subfolder, to check that only its base name is sent). */
function fileOf(bytes: Uint8Array, name = 'data.bin'): string {
  const { root } = tempRoot();
  mkdirSync(join(root, 'some', 'folder'), { recursive: true });
  const path = join(root, 'some', 'folder', name);
  writeFileSync(path, bytes);
  return path;
}

/** A file of `size` zero bytes that takes no room on the disk (sparse): for big sizes. */
function sparseFile(size: number, name = 'zeros.bin'): string {
  const path = fileOf(Buffer.alloc(0), name);
  truncateSync(path, size);
  return path;
}

/** Waits for the learner's promise at most `ms`, explaining what was expected if it never settles. */
function bounded<T>(promise: Promise<T>, expected: string, explain: Explain): Promise<T> {
  return within(promise, () => ({ expected, hint: explain.hint, repro: explain.repro }), {
    ms: explain.ms ?? 10_000,
  });
}

/** The rejection of `promise` (bounded), or a WireError if it resolves instead. */
async function rejection(
  promise: Promise<unknown>,
  expected: string,
  explain: Explain,
): Promise<UploadError> {
  const outcome = await bounded(
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    expected,
    explain,
  );
  if ('value' in outcome) {
    throw new WireError(`upload() resolved with ${JSON.stringify(outcome.value)}`, {
      expected,
      hint: explain.hint,
      repro: explain.repro,
    });
  }
  return outcome.error as UploadError;
}

/** Checks an UploadError's code and message, showing both when they differ. */
function expectUploadError(error: UploadError, code: string, message: string, explain: Explain): void {
  if (
    error instanceof UploadError &&
    error.name === 'UploadError' &&
    error.code === code &&
    error.message === message
  ) {
    return;
  }
  throw new WireError(`upload() rejected with ${shownError(error)}`, {
    expected: `an UploadError, code ${code}: ${JSON.stringify(message)}`,
    hint: explain.hint,
    repro: explain.repro,
  });
}

function shownError(error: unknown): string {
  if (!(error instanceof Error)) return JSON.stringify(error);
  const code = (error as NodeJS.ErrnoException).code;
  return `${error.name}${code ? `, code ${code}` : ''}: ${JSON.stringify(error.message)}`;
}

/** Everything a client sent, as frames, and how its stream ended. */
interface Received {
  frames: Buffer[];
  rest: number;
  fin: boolean;
}

/**
 * A stand-in server: collects what the client sends, and answers `answer(frames)` (a JSON value
 * or raw bytes) when `when` says so: after the client's FIN (default), or as soon as the header
 * frame is in (and then it stops reading, as a server that is done with a client may).
 * `null`: close without answering; `'never'`: read everything, never answer, never close.
 */
async function fakeServer(
  answer: (frames: Buffer[]) => object | null | 'never',
  when: 'fin' | 'header' = 'fin',
): Promise<{ port: number; received: Promise<Received> }> {
  let report: (received: Received) => void = () => {};
  const received = new Promise<Received>((resolve) => {
    report = resolve;
  });
  const port = await startServer((socket: net.Socket) => {
    const chunks: Buffer[] = [];
    let answered = false;
    const reply = (frames: Buffer[]) => {
      answered = true;
      const value = answer(frames);
      if (value === 'never') return;
      if (value === null) return void socket.end();
      const payload = Buffer.from(JSON.stringify(value));
      const head = Buffer.alloc(4);
      head.writeUInt32BE(payload.length);
      socket.end(Buffer.concat([head, payload]));
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (when === 'header' && !answered) {
        const { frames } = splitFrames(Buffer.concat(chunks));
        if (frames.length > 0) {
          reply(frames);
          socket.pause();
        }
      }
    });
    socket.on('end', () => {
      const { frames, rest } = splitFrames(Buffer.concat(chunks));
      report({ frames, rest, fin: true });
      if (!answered) reply(frames);
    });
    socket.on('close', () => report({ ...splitFrames(Buffer.concat(chunks)), fin: false }));
  });
  return { port, received };
}

/** The ok answer a correct server gives to this header. */
function okFor(frames: Buffer[]) {
  return { ok: true, ...JSON.parse((frames[0] as Buffer).toString()) };
}

/** A stand-in socket whose buffer drains one frame per event-loop turn; counts writes made while it is full. */
function slowSocket() {
  const written: Buffer[] = [];
  let writesWhileFull = 0;
  const out = new Writable({
    highWaterMark: 64 * 1024,
    write(_chunk: Buffer, _encoding, callback) {
      setImmediate(callback);
    },
  });
  const write = out.write.bind(out) as (chunk: Buffer) => boolean;
  out.write = ((chunk: Buffer) => {
    if (out.writableNeedDrain) writesWhileFull += 1;
    written.push(Buffer.from(chunk));
    return write(chunk);
  }) as typeof out.write;
  return { out, written, writesWhileFull: () => writesWhileFull };
}

/** sendBody() needs no network: the failures of step 7 and 8 say so. */
const UNIT = 'this test calls your function directly, with no network: run it again after a fix';

describe('step 7: hash the file first, as a stream', () => {
  test('size and SHA-256 of an empty file, a 1-byte file and a 1 MiB file', async () => {
    const big = randomBytes(1024 * 1024);
    const explain = {
      hint: "step 7: hash.update(chunk) and size += chunk.length for each chunk; return { size, sha256: hash.digest('hex') }",
      repro: UNIT,
    };
    const [empty, one, large] = await bounded(
      Promise.all([
        hashFile(fileOf(Buffer.alloc(0))),
        hashFile(fileOf(Buffer.from('x'))),
        hashFile(fileOf(big)),
      ]),
      'hashFile() to resolve for three files',
      explain,
    );
    expect(empty, `${explain.hint} (an empty file)`).toEqual({ size: 0, sha256: sha256('') });
    expect(one, `${explain.hint} (a 1-byte file)`).toEqual({ size: 1, sha256: sha256('x') });
    expect(large, `${explain.hint} (a 1 MiB file)`).toEqual({ size: big.length, sha256: sha256(big) });
  });

  test('a missing file rejects with ENOENT', async () => {
    const { root } = tempRoot();
    const explain = {
      hint: "step 7: let the read stream's error reject hashFile(): do not catch it",
      repro: UNIT,
    };
    const error = await bounded(
      hashFile(join(root, 'nothing-here')).then(
        () => undefined,
        (e: unknown) => e,
      ),
      'hashFile() to reject',
      explain,
    );
    expect((error as NodeJS.ErrnoException | undefined)?.code, explain.hint).toBe('ENOENT');
  });

  test('a 128 MiB file is hashed a chunk at a time, never held whole in memory', async () => {
    const size = 128 * 1024 * 1024;
    const path = sparseFile(size);
    // `head -c 134217728 /dev/zero | sha256sum`
    const expected = { size, sha256: '254bcc3fc4f27172636df4bf32de9f107f620d559b20d760197e452b97453917' };
    const explain = {
      hint: 'step 7: read with createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }) in a for await loop; readFile() holds the whole file in memory',
      repro: UNIT,
      ms: 25_000,
    };
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    };
    const timer = setInterval(sample, 10);
    try {
      const result = await bounded(hashFile(path), 'hashFile() to resolve for a 128 MiB file', explain);
      expect(result, explain.hint).toEqual(expected);
    } finally {
      clearInterval(timer);
    }
    sample();
    // Chunks of 1 MiB pile up as garbage until V8 frees them, about 32 MiB at a time; the whole
    // file would be 128 MiB at once.
    const peakMiB = Math.round(peak / (1024 * 1024));
    expect(peakMiB, `${explain.hint}: memory grew by ${peakMiB} MiB while hashing`).toBeLessThan(80);
  });
});

describe('step 8: send the body in frames, with backpressure', () => {
  test('chunks of any size become frames of at most frameBytes, carrying every byte in order', async () => {
    const chunks = [randomBytes(100_000), randomBytes(10), randomBytes(65_536), randomBytes(1)];
    const all = Buffer.concat(chunks);
    const { out, written } = slowSocket();
    const progress: number[] = [];
    const totals = new Set<number>();
    const explain = {
      hint: 'step 8: cut each chunk with chunk.subarray(offset, offset + frameBytes), write encodeFrame(piece), then onProgress?.(sent, size)',
      repro: UNIT,
    };
    await bounded(
      sendBody(Readable.from(chunks), out, {
        size: all.length,
        onProgress: (sent, total) => {
          totals.add(total);
          progress.push(sent);
        },
      }),
      'sendBody() to resolve',
      explain,
    );
    const { frames, rest } = splitFrames(Buffer.concat(written));
    expect(rest, `${explain.hint}: only whole frames, a 4-byte big-endian length, then the bytes`).toBe(0);
    const sizes = frames.map((f) => f.length);
    expect(Math.max(...sizes), `${explain.hint}: frames of ${sizes.join(', ')} bytes`).toBeLessThanOrEqual(
      65_536,
    );
    expect(Buffer.concat(frames).equals(all), `${explain.hint}: the frames carry the bytes, in order`).toBe(
      true,
    );
    expect([...totals], 'step 8: onProgress(sent, total) gets the size as its total').toEqual([all.length]);
    expect(progress.at(-1), 'step 8: the last progress report is the whole size').toBe(all.length);
    expect(
      [...progress].sort((a, b) => a - b),
      'step 8: progress only goes up',
    ).toEqual(progress);

    const small = slowSocket();
    await bounded(
      sendBody(Readable.from([all.subarray(0, 2500)]), small.out, { size: 2500, frameBytes: 1000 }),
      'sendBody() to resolve',
      explain,
    );
    const smallSizes = splitFrames(Buffer.concat(small.written)).frames.map((f) => f.length);
    expect(smallSizes, 'step 8: frameBytes sets the frame size').toEqual([1000, 1000, 500]);
  });

  test('never writes while the socket’s buffer is full: waits for "drain" after each write, even in the middle of a chunk', async () => {
    const explain = {
      hint: 'step 8: when out.write() returns false, await drained(out) before the next write, inside the loop over the frames of a chunk, not once per chunk',
      repro: UNIT,
    };
    // Chunks the size of a frame, then chunks of 1 MiB (as the file is read): 16 frames each.
    for (const [count, bytes] of [
      [32, 64 * 1024],
      [4, 1024 * 1024],
    ] as const) {
      const chunks = Array.from({ length: count }, () => randomBytes(bytes));
      const socket = slowSocket();
      await bounded(
        sendBody(Readable.from(chunks), socket.out, { size: count * bytes }),
        'sendBody() to resolve',
        explain,
      );
      expect(
        socket.writesWhileFull(),
        `${explain.hint}: with ${count} chunks of ${bytes} bytes, frames written while the buffer was full`,
      ).toBe(0);
      expect(
        Buffer.concat(splitFrames(Buffer.concat(socket.written)).frames).equals(Buffer.concat(chunks)),
        'step 8: the frames carry every byte, in order',
      ).toBe(true);
    }
  });

  test('a file that grew or shrank since it was hashed rejects', async () => {
    const explain = {
      hint: 'step 8: count the bytes sent: past size, throw at once; short of it after the loop, throw too (code ECHANGED)',
      repro: UNIT,
    };
    const grew = await bounded(
      sendBody(Readable.from([Buffer.alloc(10)]), slowSocket().out, { size: 8 }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      'sendBody() to reject',
      explain,
    );
    expectUploadError(
      grew as UploadError,
      'ECHANGED',
      'the file grew while it was being sent (more than 8 bytes)',
      explain,
    );
    const shrank = await bounded(
      sendBody(Readable.from([Buffer.alloc(5)]), slowSocket().out, { size: 8 }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      'sendBody() to reject',
      explain,
    );
    expectUploadError(
      shrank as UploadError,
      'ECHANGED',
      'the file shrank while it was being sent (5 of 8 bytes)',
      explain,
    );
  });

  test('no listener is left behind: after 64 waits for "drain", the socket has none more than before', async () => {
    const explain = {
      hint: "step 8: wait with the given drained(out), which removes its 'drain', 'close' and 'error' listeners once one fires: a listener added per write stays (MaxListenersExceededWarning) and keeps every old wait alive",
      repro: UNIT,
    };
    const socket = slowSocket();
    const events = ['drain', 'close', 'error'] as const;
    const before = events.map((event) => socket.out.listenerCount(event));
    const chunks = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
    await bounded(
      sendBody(Readable.from(chunks), socket.out, { size: 64 * 64 * 1024 }),
      'sendBody() to resolve',
      explain,
    );
    expect(
      Object.fromEntries(events.map((event) => [event, socket.out.listenerCount(event)])),
      `${explain.hint}: listeners on the socket once sendBody() resolved`,
    ).toEqual(Object.fromEntries(events.map((event, i) => [event, before[i]])));
  });

  test('a socket that closes or fails while sendBody() waits for "drain" rejects at once, never hangs', async () => {
    const explain = {
      hint: "step 8: await the given drained(out): it rejects when the socket closes ('the connection closed while sending', EPIPE) or fails (that error) before its 'drain'; a bare once(out, 'drain') waits for ever",
      repro: UNIT,
    };
    /** A socket whose peer stopped reading: nothing it is given ever leaves, so 'drain' never comes. */
    const stuck = () => {
      let written: () => void = () => {};
      const firstWrite = new Promise<void>((resolve) => {
        written = resolve;
      });
      const out = new Writable({
        highWaterMark: 1024,
        write() {
          written(); // and never calls back
        },
      });
      // A starter's sendBody() throws before it listens: the destroy(reset) below must fail the
      // test, not the whole run (an 'error' nobody listens to is an uncaught exception).
      out.on('error', () => {});
      return { out, firstWrite };
    };
    const body = () => Readable.from([randomBytes(20_000)]);
    const waitingThen = async (destroy: (out: Writable) => void) => {
      const { out, firstWrite } = stuck();
      const sending = sendBody(body(), out, { size: 20_000, frameBytes: 5000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      // write() said false: sendBody() is waiting for 'drain' (or never wrote: a starter).
      await bounded(Promise.race([firstWrite, sending]), 'sendBody() to write its first frame', explain);
      await new Promise((resolve) => setImmediate(resolve));
      destroy(out);
      return bounded(sending, 'sendBody() to reject', explain);
    };
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const [closed, failed, closedBefore] = await Promise.all([
      waitingThen((out) => out.destroy()),
      waitingThen((out) => out.destroy(reset)),
      // Closed before sendBody() even starts: write() says false, and 'close' has come already.
      (async () => {
        const { out } = stuck();
        out.destroy();
        await new Promise((resolve) => setImmediate(resolve));
        return bounded(
          sendBody(body(), out, { size: 20_000, frameBytes: 5000 }).then(
            () => undefined,
            (e: unknown) => e,
          ),
          'sendBody() to reject',
          explain,
        );
      })(),
    ]);
    expectUploadError(closed as UploadError, 'EPIPE', 'the connection closed while sending', explain);
    expectUploadError(closedBefore as UploadError, 'EPIPE', 'the connection closed while sending', explain);
    expect(failed, `${explain.hint}: a socket that fails rejects with its own error`).toBe(reset);
  });
});

describe('step 9: the whole upload', () => {
  test('a header with the base name, size and hash, body frames of 64 KiB, FIN, and the answer', async () => {
    const body = randomBytes(200_000);
    const server = await fakeServer(okFor);
    const explain = {
      hint: 'step 9: write jsonFrame({ name: basename(file), size, sha256 }), then sendBody(), then socket.end(); resolve with the ok answer',
      repro: clientRepro('/tmp/report.pdf', [], [randomFileLine(200_000, '/tmp/report.pdf')]),
    };
    const answer = await bounded(
      upload({ hashFirst: true, port: server.port, file: fileOf(body, 'report.pdf') }),
      'upload() to resolve',
      explain,
    );
    expect(answer, explain.hint).toEqual({
      ok: true,
      name: 'report.pdf',
      size: body.length,
      sha256: sha256(body),
    });
    const { frames, rest, fin } = await bounded(server.received, 'the client to send FIN', explain);
    expect(fin, 'step 9: socket.end() once the body is sent: the FIN says "that is all"').toBe(true);
    expect(rest, 'step 9: only whole frames').toBe(0);
    expect(
      JSON.parse((frames[0] as Buffer).toString()),
      'step 9: the header frame: the base name, never the path',
    ).toEqual({
      name: 'report.pdf',
      size: body.length,
      sha256: sha256(body),
    });
    const bodyFrames = frames.slice(1);
    expect(
      bodyFrames.map((f) => f.length),
      'step 9: body frames of frameBytes (64 KiB by default)',
    ).toEqual([65_536, 65_536, 65_536, 3392]);
    expect(Buffer.concat(bodyFrames).equals(body), 'step 9: the body frames carry the file').toBe(true);
  });

  test('frameBytes sets the size of the body frames, even beyond the 1 MiB read chunks', async () => {
    const body = randomBytes(3_000_000);
    const server = await fakeServer(okFor);
    const explain = {
      hint: 'step 9: read the body with highWaterMark: Math.max(READ_CHUNK_BYTES, frameBytes): sendBody() cuts frames out of chunks, so a 1 MiB chunk cannot give a 2,000,000-byte frame',
      repro: clientRepro(
        '/tmp/3mb.bin',
        ['--frame-bytes', '2000000'],
        [randomFileLine(3_000_000, '/tmp/3mb.bin')],
      ),
    };
    await bounded(
      upload({ hashFirst: true, port: server.port, file: fileOf(body, '3mb.bin'), frameBytes: 2_000_000 }),
      'upload() to resolve',
      explain,
    );
    const { frames } = await bounded(server.received, 'the client to send FIN', explain);
    expect(
      frames.slice(1).map((f) => f.length),
      `${explain.hint} (the reference server refuses frames over 1 MiB)`,
    ).toEqual([2_000_000, 1_000_000]);
  });

  test('an empty file is a header with size 0 and no body frame', async () => {
    const server = await fakeServer(okFor);
    const explain = {
      hint: 'step 9: for size 0, send no body frame: the header, then socket.end()',
      repro: clientRepro('/tmp/empty.txt', [], [': > /tmp/empty.txt']),
    };
    const answer = await bounded(
      upload({ hashFirst: true, port: server.port, file: fileOf(Buffer.alloc(0), 'empty.txt') }),
      'upload() to resolve',
      explain,
    );
    expect(answer, explain.hint).toMatchObject({ ok: true, name: 'empty.txt', size: 0 });
    const { frames } = await bounded(server.received, 'the client to send FIN', explain);
    expect(frames.length, `${explain.hint}: only the header frame`).toBe(1);
  });

  test("the server's error rejects with its words (ESERVER), as soon as it comes, even before the body is sent", async () => {
    // The server answers after the header and reads nothing more: a client that would read
    // the answer only once the body is sent waits for ever, its 32 MiB stuck in the buffers.
    const server = await fakeServer(() => ({ ok: false, error: 'refused name "x": no reason' }), 'header');
    const explain = {
      hint: "step 9: listen for 'data' from the start, while sending: an early answer settles the upload, and settle() destroys the socket and the file stream",
      repro: clientRepro('/tmp/big..bin', [], [randomFileLine(200_000_000, '/tmp/big..bin')]),
    };
    const error = await rejection(
      upload({ hashFirst: true, port: server.port, file: sparseFile(32 * 1024 * 1024), timeoutMs: 20_000 }),
      "upload() to reject with the server's answer, sent right after the header",
      explain,
    );
    expectUploadError(error, 'ESERVER', 'refused name "x": no reason', explain);
  });

  test('refused, or closed without an answer: a clear rejection', async () => {
    const [closed, silent] = await Promise.all([closedPort(), fakeServer(() => null)]);
    const file = fileOf(Buffer.from('hello'));
    const explain = {
      hint: "step 9: on 'error', reject with describeFailure(error, where, connected); on 'end' before any answer, reject \"127.0.0.1:PORT closed the connection without answering\"",
      repro: `${lesson.command('client', ['--port', '9000', '/etc/hosts'])}     # with nothing listening on port 9000`,
    };
    const [refused, unanswered] = await Promise.all([
      rejection(
        upload({ hashFirst: true, port: closed, file }),
        'upload() to reject: nothing listens on that port',
        explain,
      ),
      rejection(
        upload({ hashFirst: true, port: silent.port, file }),
        'upload() to reject: the server closed without answering',
        explain,
      ),
    ]);
    expectUploadError(
      refused,
      'ECONNREFUSED',
      `cannot connect to 127.0.0.1:${closed}: connection refused (ECONNREFUSED)`,
      explain,
    );
    expectUploadError(
      unanswered,
      'ECONNRESET',
      `127.0.0.1:${silent.port} closed the connection without answering`,
      explain,
    );
  });

  test('a server silent for timeoutMs: rejects with ETIMEDOUT', async () => {
    const server = await fakeServer(() => 'never');
    const explain = {
      hint: 'step 9: socket.setTimeout(timeoutMs, ...) rejects "127.0.0.1:PORT sent nothing for 300 ms (ETIMEDOUT)"',
      repro: [
        'npx course nc -l 127.0.0.1 9000 --hex     # in one terminal: a server that reads everything and never answers',
        lesson.command('client', ['--port', '9000', '--timeout', '300', '/etc/hosts']),
      ].join('\n'),
      ms: 8_000,
    };
    const error = await rejection(
      upload({ hashFirst: true, port: server.port, file: fileOf(Buffer.from('hello')), timeoutMs: 300 }),
      'upload() to reject once the server has been silent for 300 ms',
      explain,
    );
    expectUploadError(
      error,
      'ETIMEDOUT',
      `127.0.0.1:${server.port} sent nothing for 300 ms (ETIMEDOUT)`,
      explain,
    );
  });

  test('an ok for another file (another size or hash) is no success', async () => {
    const explain = {
      hint: "step 9: resolve only when the answer is ok AND its size and sha256 are yours; else reject new UploadError(where + ' answered ok for another file: ' + frame, 'EPROTO')",
      repro: `${NO_REPRO}: the test's servers answer ok with a wrong hash, or a wrong size`,
    };
    const wrong: Record<string, (frames: Buffer[]) => object> = {
      hash: (frames) => ({ ...okFor(frames), sha256: sha256('something else') }),
      size: (frames) => ({ ...okFor(frames), size: 6 }),
    };
    for (const [what, answer] of Object.entries(wrong)) {
      const server = await fakeServer(answer);
      const error = await rejection(
        upload({ hashFirst: true, port: server.port, file: fileOf(Buffer.from('hello')) }),
        `upload() to reject an ok answer with another ${what}`,
        explain,
      );
      const frames = [frame({ name: 'data.bin', size: 5, sha256: sha256('hello') })];
      const sent = JSON.stringify(answer(splitFrames(Buffer.concat(frames)).frames));
      expectUploadError(error, 'EPROTO', `127.0.0.1:${server.port} answered ok for another file: ${sent}`, {
        ...explain,
        hint: `${explain.hint} (an ok with another ${what})`,
      });
    }
  });

  test('an answer that is not an answer rejects (EPROTO), saying what was wrong with it', async () => {
    const server = await fakeServer(() => ({ hello: 'world' }));
    const explain = {
      hint: "step 9: when parseAnswer() throws, reject with new UploadError(where + ' sent something that is not an answer: ' + error.message, 'EPROTO')",
      repro: `${NO_REPRO}: the test's server answers {"hello": "world"}`,
    };
    const error = await rejection(
      upload({ hashFirst: true, port: server.port, file: fileOf(Buffer.from('hello')) }),
      'upload() to reject an answer that is neither ok nor an error',
      explain,
    );
    expectUploadError(
      error,
      'EPROTO',
      `127.0.0.1:${server.port} sent something that is not an answer: the answer is not {"ok": true, ...} or {"ok": false, "error": ...}`,
      explain,
    );
  });

  test('an answer announced longer than 64 KiB is refused as soon as its length is read (EPROTO)', async () => {
    // The length of a 1 MB answer, and nothing after it: a client that waits for its bytes waits
    // until its own timeout.
    const port = await startServer((socket) => {
      socket.resume();
      const length = Buffer.alloc(4);
      length.writeUInt32BE(1_000_000);
      socket.write(length);
    });
    const explain = {
      hint: 'step 9: read the answer with new FrameDecoder({ maxFrameBytes: MAX_ANSWER_BYTES }): an answer is a few hundred bytes, and a peer must not make you wait for (or hold) a megabyte; what push() throws is "not an answer" (EPROTO)',
      repro: `${NO_REPRO}: the test's server announces a 1 MB answer`,
    };
    const error = await rejection(
      upload({ hashFirst: true, port, file: fileOf(Buffer.from('hello')), timeoutMs: 3_000 }),
      'upload() to reject the announced length at once',
      explain,
    );
    expectUploadError(
      error,
      'EPROTO',
      `127.0.0.1:${port} sent something that is not an answer: a frame of 1000000 bytes is over the limit of 65536 bytes`,
      explain,
    );
  });

  test('an answer that arrives a byte at a time is read whole', async () => {
    const { port } = await startUploads();
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'reply' });
    const explain = {
      hint: "step 9: push each 'data' chunk into the FrameDecoder, and wait while push() returns no frame: the answer may come in pieces",
      repro: `${NO_REPRO}: the test's proxy cuts the server's answer into single bytes`,
    };
    const answer = await bounded(
      upload({ hashFirst: true, port: proxy.port, file: fileOf(Buffer.from('hello'), 'bytes.txt') }),
      'upload() to resolve',
      explain,
    );
    expect(answer, explain.hint).toEqual({ ok: true, name: 'bytes.txt', size: 5, sha256: sha256('hello') });
  });

  test('a file that cannot be read rejects with its reason, before connecting', async () => {
    const { root } = tempRoot();
    const missing = join(root, 'nothing-here.bin');
    const explain = {
      hint: "step 9: await hashFile(file) first, and turn its failure into new UploadError('cannot read ' + file + ': ' + fileProblem(error), error.code)",
      repro: `${lesson.command('client', ['--port', '9000', '/tmp/nothing-here.bin'])}     # the program checks FILE first; upload() must too`,
    };
    // Nothing listens on the port: a client that connects before it reads the file says ECONNREFUSED.
    const error = await rejection(
      upload({ hashFirst: true, port: await closedPort(), file: missing }),
      'upload() to reject: the file does not exist',
      explain,
    );
    expectUploadError(error, 'ENOENT', `cannot read ${missing}: no such file or directory (ENOENT)`, explain);
  });

  test('what was hashed is what is sent: a file that grows meanwhile is sent as hashed, one that shrinks rejects (ECHANGED)', async () => {
    // onProgress(0, size) comes once connected, before the first body byte is read: the test
    // changes the file there, as a program still writing it would.
    const explain = {
      hint: 'step 9: read the body with createReadStream(file, { start: 0, end: size - 1, ... }): exactly the bytes hashed (end is inclusive); and when sendBody() rejects, reject upload() with its error',
      repro: `${NO_REPRO}: the test appends to the file (or cuts it) between the hash and the send`,
    };
    const change = (file: string, how: (file: string) => void) => {
      let done = false;
      return (sent: number) => {
        if (sent === 0 && !done) {
          done = true;
          how(file);
        }
      };
    };
    const grows = fileOf(Buffer.from('hello'), 'grows.log');
    const growing = await fakeServer(okFor);
    const grown = await bounded(
      upload({
        hashFirst: true,
        port: growing.port,
        file: grows,
        onProgress: change(grows, (file) => writeFileSync(file, ' world', { flag: 'a' })),
      }),
      'upload() to resolve with the 5 bytes hashed',
      explain,
    );
    expect(grown, `${explain.hint}: the file grew after its hash`).toEqual({
      ok: true,
      name: 'grows.log',
      size: 5,
      sha256: sha256('hello'),
    });
    const { frames } = await bounded(growing.received, 'the client to send FIN', explain);
    expect(
      Buffer.concat(frames.slice(1)).toString(),
      `${explain.hint}: the body sent for a file that grew after its hash`,
    ).toBe('hello');

    const shrinks = fileOf(Buffer.from('hello'), 'shrinks.log');
    const shrinking = await fakeServer(okFor);
    const error = await rejection(
      upload({
        hashFirst: true,
        port: shrinking.port,
        file: shrinks,
        onProgress: change(shrinks, (file) => truncateSync(file, 2)),
      }),
      'upload() to reject: the file shrank after its hash',
      explain,
    );
    expectUploadError(error, 'ECHANGED', 'the file shrank while it was being sent (2 of 5 bytes)', explain);
  });

  test('a connection reset in the middle of the body rejects: `connection to … failed`', async () => {
    // The server resets the connection as soon as the header is in; 32 MiB cannot all be sent by then.
    const port = await startServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const explain = {
      hint: "step 9: on the socket's 'error', reject with describeFailure(error, where, connected), connected being true once 'connect' came: it says `connection to 127.0.0.1:PORT failed: ...`, not `cannot connect to ...`",
      repro: `${NO_REPRO}: the test's server resets the connection after the header`,
    };
    const error = await rejection(
      upload({ hashFirst: true, port, file: sparseFile(32 * 1024 * 1024) }),
      'upload() to reject: the server reset the connection',
      explain,
    );
    const code = (error as UploadError | undefined)?.code ?? '';
    const reasons: Record<string, string> = {
      ECONNRESET: 'connection reset by peer (ECONNRESET)',
      EPIPE: 'the other side closed the connection (EPIPE)',
    };
    expectUploadError(
      error,
      code in reasons ? code : 'ECONNRESET',
      `connection to 127.0.0.1:${port} failed: ${reasons[code] ?? reasons.ECONNRESET}`,
      explain,
    );
  });

  test('3 MiB through a proxy that cuts at random arrive byte-identical at the real server', async () => {
    const { port, dir } = await startUploads();
    const proxy = await startProxy(port, { cut: { maxPiece: 64 * 1024 } });
    const body = randomBytes(3 * 1024 * 1024);
    const explain = {
      hint: 'step 9: collect the answer with a FrameDecoder: it may come in pieces too',
      repro: clientRepro('/tmp/three.bin', [], [randomFileLine(3 * 1024 * 1024, '/tmp/three.bin')]),
    };
    const answer = await bounded(
      upload({ hashFirst: true, port: proxy.port, file: fileOf(body, 'three.bin') }),
      'upload() to resolve',
      explain,
    );
    expect(answer, explain.hint).toEqual({
      ok: true,
      name: 'three.bin',
      size: body.length,
      sha256: sha256(body),
    });
    expectFiles(dir, ['three.bin'], explain);
    expect(
      readFileSync(join(dir, 'three.bin')).equals(body),
      `${explain.hint}: the stored file differs`,
    ).toBe(true);
  });
});

describe('the client program: progress for people', () => {
  const MiB = 1024 * 1024;

  test('formatBytes() gives sizes for people: bytes, then KiB to TiB with one decimal', () => {
    const cases: [number, string][] = [
      [0, '0 bytes'],
      [1023, '1023 bytes'],
      [1024, '1.0 KiB'],
      [1536, '1.5 KiB'],
      [200 * MiB, '200.0 MiB'],
      [1024 * MiB, '1.0 GiB'],
      [2 * 1024 * 1024 * MiB, '2.0 TiB'],
      [5000 * 1024 * 1024 * MiB, '5000.0 TiB'],
    ];
    for (const [bytes, text] of cases) {
      expect(formatBytes(bytes), `formatBytes(${bytes}): the given code`).toBe(text);
    }
  });

  test('on a terminal: one bar redrawn in place at most 10 times a second, with the rate; done() ends the line', () => {
    let now = 1000;
    const written: string[] = [];
    const progress = progressReporter({ isTTY: true, write: (text) => written.push(text) }, () => now);
    progress.update(0, 200 * MiB);
    now = 2000;
    progress.update(100 * MiB, 200 * MiB);
    now = 2050; // 50 ms after the last drawing: not again yet
    progress.update(150 * MiB, 200 * MiB);
    now = 2100; // 100 ms after it: again
    progress.update(160 * MiB, 200 * MiB);
    now = 2110; // and the last update always is
    progress.update(200 * MiB, 200 * MiB);
    now = 3000;
    progress.done(200 * MiB);
    expect(
      written,
      "the README's bar: `[##########----------]  50%  100.0 MiB of 200.0 MiB  100.0 MiB/s`",
    ).toEqual([
      '\r[--------------------]   0%  0 bytes of 200.0 MiB  0 bytes/s\x1b[K',
      '\r[##########----------]  50%  100.0 MiB of 200.0 MiB  100.0 MiB/s\x1b[K',
      '\r[################----]  80%  160.0 MiB of 200.0 MiB  145.5 MiB/s\x1b[K',
      '\r[####################] 100%  200.0 MiB of 200.0 MiB  180.2 MiB/s, waiting for the answer\x1b[K',
      '\n',
      'sent 200.0 MiB in 2.00 s (100.0 MiB/s)\n',
    ]);
    const aborted: string[] = [];
    const failing = progressReporter({ isTTY: true, write: (text) => aborted.push(text) }, () => now);
    failing.update(0, 10);
    failing.abort();
    expect(aborted.at(-1), 'abort() ends the bar’s line, so that the error starts a line of its own').toBe(
      '\n',
    );
  });

  test('elsewhere: a plain line each time another tenth is sent, the first one always', () => {
    let now = 0;
    const written: string[] = [];
    const progress = progressReporter({ write: (text) => written.push(text) }, () => now);
    for (const sent of [15, 19, 20, 55, 99, 100]) progress.update(sent, 100);
    now = 500;
    progress.done(100);
    progress.abort();
    expect(written, 'the given progressReporter() off a terminal').toEqual([
      'sent 15 of 100 bytes (15%)\n',
      'sent 20 of 100 bytes (20%)\n',
      'sent 55 of 100 bytes (55%)\n',
      'sent 99 of 100 bytes (99%)\n',
      'sent 100 of 100 bytes (100%), waiting for the answer\n',
      'sent 100 bytes in 0.50 s (200 bytes/s)\n',
    ]);
    const empty: string[] = [];
    progressReporter({ write: (text) => empty.push(text) }, () => 0).update(0, 0);
    expect(empty, 'an empty file is all sent at once').toEqual([
      'sent 0 of 0 bytes (100%), waiting for the answer\n',
    ]);
  });

  test('client.ts --help names FILE and every option, with its value and default', async () => {
    const help = await lesson.run('client', ['--help']);
    expect(help.code, `--help exits 0; stderr: ${help.stderr}`).toBe(0);
    for (const line of [
      'usage: client.ts [options] FILE',
      "Uploads FILE to a lesson 09 server and prints the server's answer.",
      '  FILE             the file to upload',
      '  --timeout MS     give up when the server is silent this long (default 30000)',
      '  --frame-bytes N  size of the body frames (default 65536)',
      '  --hash-first     hash the file before sending it, the hash in the header (two reads), instead of in a trailer after the body (one read)',
    ]) {
      expect(help.stdout.split('\n'), 'client.ts --help').toContain(line);
    }
  });
});

/** The ok answer a correct server gives to a header without hash and its trailer (the last frame). */
function okForTrailer(frames: Buffer[]) {
  const trailer = JSON.parse((frames.at(-1) as Buffer).toString()) as { sha256?: string };
  return { ...okFor(frames), sha256: trailer.sha256 };
}

describe('step 10: hash while sending, the hash in a trailer', () => {
  test('hashWhileReading() passes every chunk on unchanged, and feeds each to the hash', async () => {
    const chunks = [randomBytes(1000), Buffer.alloc(0), randomBytes(70_000)];
    const hash = createHash('sha256');
    const seen: Uint8Array[] = [];
    for await (const chunk of hashWhileReading(Readable.from(chunks, { objectMode: true }), hash))
      seen.push(chunk);
    const hint = `step 10: for await over source, hash.update(chunk), yield chunk (${UNIT})`;
    expect(seen, hint).toEqual(chunks);
    expect(hash.digest('hex'), hint).toBe(sha256(Buffer.concat(chunks)));
  });

  test('by default: a header without "sha256", the body frames, one trailer frame {"sha256"}, FIN', async () => {
    const body = randomBytes(200_000);
    const server = await fakeServer(okForTrailer);
    const explain = {
      hint: 'step 10: without hashFirst, the header is { name, size }; the body goes through hashWhileReading(), and once sendBody() is done, socket.write(jsonFrame({ sha256: hash.digest("hex") })) before socket.end()',
      repro: clientRepro('/tmp/report.pdf', [], [randomFileLine(200_000, '/tmp/report.pdf')]),
    };
    const answer = await bounded(
      upload({ port: server.port, file: fileOf(body, 'report.pdf') }),
      'upload() to resolve',
      explain,
    );
    expect(answer, explain.hint).toEqual({
      ok: true,
      name: 'report.pdf',
      size: body.length,
      sha256: sha256(body),
    });
    const { frames, rest, fin } = await bounded(server.received, 'the client to send FIN', explain);
    expect(fin && rest === 0, `${explain.hint}: whole frames, then FIN`).toBe(true);
    expect(JSON.parse((frames[0] as Buffer).toString()), `${explain.hint}: the header`).toEqual({
      name: 'report.pdf',
      size: body.length,
    });
    expect(
      Buffer.concat(frames.slice(1, -1)).equals(body),
      `${explain.hint}: the body frames carry the file`,
    ).toBe(true);
    expect(JSON.parse((frames.at(-1) as Buffer).toString()), `${explain.hint}: the last frame`).toEqual({
      sha256: sha256(body),
    });
  });

  test('an empty file: the header, no body frame, the trailer with the hash of nothing', async () => {
    const server = await fakeServer(okForTrailer);
    const explain = {
      hint: 'step 10: the trailer goes out even when there is no body: the hash of nothing is e3b0c442…',
      repro: clientRepro('/tmp/empty.txt', [], [': > /tmp/empty.txt']),
    };
    const answer = await bounded(
      upload({ port: server.port, file: fileOf(Buffer.alloc(0), 'empty.txt') }),
      'upload() to resolve',
      explain,
    );
    expect(answer, explain.hint).toEqual({ ok: true, name: 'empty.txt', size: 0, sha256: sha256('') });
    const { frames } = await bounded(server.received, 'the client to send FIN', explain);
    expect(
      frames.map((f) => JSON.parse(f.toString())),
      explain.hint,
    ).toEqual([{ name: 'empty.txt', size: 0 }, { sha256: sha256('') }]);
  });

  /** A file even root may not open for reading, where there is one: a write-only sysfs attribute. */
  const WRITE_ONLY = '/sys/bus/pci/rescan';

  test('a file that cannot be read while it is sent (a directory; a file we may not open) rejects with its reason', async () => {
    const { port } = await startUploads();
    const { root } = tempRoot();
    // A directory has a size, and opens on Linux and macOS: reading it fails (EISDIR). On
    // Windows, opening it fails already, before anything is read.
    const folder = join(root, 'a-folder');
    mkdirSync(folder);
    const cases: [string, string][] = [[folder, 'is a directory (EISDIR)']];
    // A file its owner may not read fails when it is opened, after stat() saw it: not on
    // Windows, where chmod() cannot take the right to read, nor as root, who may read any file
    // but a write-only kernel attribute (Linux's /sys/bus/pci/rescan: 4096 bytes, open denied).
    if (process.getuid?.() !== 0 && process.platform !== 'win32') {
      const locked = fileOf(Buffer.from('secret'), 'locked.bin');
      chmodSync(locked, 0o000);
      cases.push([locked, 'permission denied (EACCES)']);
    } else if (process.platform === 'linux' && existsSync(WRITE_ONLY)) {
      cases.push([WRITE_ONLY, 'permission denied (EACCES)']);
    }
    for (const [file, problem] of cases) {
      const explain = {
        hint: "step 10: the read stream's errors are the file's: listen for its 'error' from the start (it opens in the background, before the body is read), and turn a failure of sendBody() that is no UploadError into new UploadError('cannot read ' + file + ': ' + fileProblem(error), error.code)",
        repro: clientRepro(file),
      };
      const error = await rejection(
        upload({ port, file }),
        'upload() to reject: the file cannot be read',
        explain,
      );
      const code = /\((\w+)\)$/.exec(problem)?.[1] as string;
      expectUploadError(error, code, `cannot read ${file}: ${problem}`, explain);
    }
  });

  test('against the server: stored, both ways, and an ok for another hash is rejected', async () => {
    const { port, dir } = await startUploads();
    const body = randomBytes(300_000);
    const explain = {
      hint: 'step 10: upload() by default, and with hashFirst, stores the same file',
      repro: clientRepro('/tmp/data.bin', [], [randomFileLine(300_000, '/tmp/data.bin')]),
    };
    const file = fileOf(body, 'one.bin');
    const one = await bounded(upload({ port, file }), 'upload() to resolve', explain);
    const two = await bounded(upload({ port, file, hashFirst: true }), 'upload() to resolve', explain);
    expect([one.sha256, two.sha256], explain.hint).toEqual([sha256(body), sha256(body)]);
    expect(readFileSync(join(dir, 'one.bin')).equals(body), explain.hint).toBe(true);

    const liar = await fakeServer((frames) => ({ ...okFor(frames), sha256: sha256('other') }));
    const error = await rejection(
      upload({ port: liar.port, file: fileOf(Buffer.from('hello')) }),
      'upload() to reject an ok answer for another hash than the trailer carried',
      { hint: 'step 10: compare the answer with the hash sent in the trailer', repro: NO_REPRO },
    );
    expect(error.code, 'step 10: an ok for another file is EPROTO').toBe('EPROTO');
  });
});
