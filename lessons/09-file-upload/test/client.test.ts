import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { closedPort, lessonOf, startProxy, startServer, WireError, within } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { hashFile, sendBody, UploadError, upload } from '#impl/client.ts';
import {
  clientRepro,
  type Explain,
  expectFiles,
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
      upload({ port: server.port, file: fileOf(body, '3mb.bin'), frameBytes: 2_000_000 }),
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
      upload({ port: server.port, file: fileOf(Buffer.alloc(0), 'empty.txt') }),
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
      upload({ port: server.port, file: sparseFile(32 * 1024 * 1024), timeoutMs: 20_000 }),
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
      rejection(upload({ port: closed, file }), 'upload() to reject: nothing listens on that port', explain),
      rejection(
        upload({ port: silent.port, file }),
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
        'nc -l 9000 > /dev/null     # in one terminal: a server that reads everything and never answers',
        lesson.command('client', ['--port', '9000', '--timeout', '300', '/etc/hosts']),
      ].join('\n'),
      ms: 8_000,
    };
    const error = await rejection(
      upload({ port: server.port, file: fileOf(Buffer.from('hello')), timeoutMs: 300 }),
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
    const server = await fakeServer((frames) => ({ ...okFor(frames), sha256: sha256('something else') }));
    const explain = {
      hint: 'step 9: resolve only when the answer is ok AND its size and sha256 are yours; else reject with code EPROTO',
      repro: `${NO_REPRO}: the test's server answers ok with a wrong hash`,
    };
    const error = await rejection(
      upload({ port: server.port, file: fileOf(Buffer.from('hello')) }),
      'upload() to reject an ok answer for another file',
      explain,
    );
    if (!(error instanceof UploadError && error.code === 'EPROTO')) {
      throw new WireError(`upload() rejected with ${shownError(error)}`, {
        expected: 'an UploadError with code EPROTO',
        ...explain,
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
      upload({ port: server.port, file: fileOf(Buffer.from('hello')) }),
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

  test('3 MiB through a proxy that cuts at random arrive byte-identical at the real server', async () => {
    const { port, dir } = await startUploads();
    const proxy = await startProxy(port, { cut: { maxPiece: 64 * 1024 } });
    const body = randomBytes(3 * 1024 * 1024);
    const explain = {
      hint: 'step 9: collect the answer with a FrameDecoder: it may come in pieces too',
      repro: clientRepro('/tmp/three.bin', [], [randomFileLine(3 * 1024 * 1024, '/tmp/three.bin')]),
    };
    const answer = await bounded(
      upload({ port: proxy.port, file: fileOf(body, 'three.bin') }),
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
