import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { closedPort, startProxy, startServer, within } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { hashFile, sendBody, UploadError, upload } from '#impl/client.ts';
import { listFiles, sha256, splitFrames, startUploads, tempRoot } from './support.ts';

/** A file of `bytes` in a fresh temporary folder (in a subfolder, to check that only its base name is sent). */
function fileOf(bytes: Uint8Array, name = 'data.bin'): string {
  const { root } = tempRoot();
  mkdirSync(join(root, 'some', 'folder'), { recursive: true });
  const path = join(root, 'some', 'folder', name);
  writeFileSync(path, bytes);
  return path;
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
 * frame is in. `null`: close without answering.
 */
async function fakeServer(
  answer: (frames: Buffer[]) => object | null,
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
        if (frames.length > 0) reply(frames);
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

describe('step 7: hash the file first, as a stream', () => {
  test('size and SHA-256 of an empty file, a 1-byte file and a 1 MiB file', async () => {
    const big = randomBytes(1024 * 1024);
    const [empty, one, large] = await Promise.all([
      hashFile(fileOf(Buffer.alloc(0))),
      hashFile(fileOf(Buffer.from('x'))),
      hashFile(fileOf(big)),
    ]);
    expect(empty).toEqual({ size: 0, sha256: sha256('') });
    expect(one).toEqual({ size: 1, sha256: sha256('x') });
    expect(large).toEqual({ size: big.length, sha256: sha256(big) });
  });

  test('a missing file rejects with ENOENT', async () => {
    const { root } = tempRoot();
    const error = await hashFile(join(root, 'nothing-here')).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('step 8: send the body in frames, with backpressure', () => {
  test('chunks of any size become frames of at most frameBytes, carrying every byte in order', async () => {
    const chunks = [randomBytes(100_000), randomBytes(10), randomBytes(65_536), randomBytes(1)];
    const all = Buffer.concat(chunks);
    const { out, written } = slowSocket();
    const progress: number[] = [];
    await sendBody(Readable.from(chunks), out, {
      size: all.length,
      onProgress: (sent, total) => {
        expect(total).toBe(all.length);
        progress.push(sent);
      },
    });
    const { frames, rest } = splitFrames(Buffer.concat(written));
    expect(rest, 'only whole frames: a 4-byte big-endian length, then the bytes').toBe(0);
    for (const f of frames) expect(f.length, 'a body frame holds at most 64 KiB').toBeLessThanOrEqual(65_536);
    expect(Buffer.concat(frames).equals(all), 'the frames carry the bytes, in order').toBe(true);
    expect(progress.at(-1), 'the last progress report is the whole size').toBe(all.length);
    expect(
      [...progress].sort((a, b) => a - b),
      'progress only goes up',
    ).toEqual(progress);

    const small = slowSocket();
    await sendBody(Readable.from([all.subarray(0, 2500)]), small.out, { size: 2500, frameBytes: 1000 });
    const sizes = splitFrames(Buffer.concat(small.written)).frames.map((f) => f.length);
    expect(sizes, 'frameBytes sets the frame size').toEqual([1000, 1000, 500]);
  });

  test('never writes while the socket’s buffer is full: waits for "drain"', async () => {
    const chunks = Array.from({ length: 32 }, () => randomBytes(64 * 1024));
    const socket = slowSocket();
    await sendBody(Readable.from(chunks), socket.out, { size: 32 * 64 * 1024 });
    expect(
      socket.writesWhileFull(),
      'when out.write() returns false, wait for "drain" before the next write',
    ).toBe(0);
    expect(
      Buffer.concat(splitFrames(Buffer.concat(socket.written)).frames).equals(Buffer.concat(chunks)),
    ).toBe(true);
  });

  test('a file that grew or shrank since it was hashed rejects', async () => {
    const grew = await sendBody(Readable.from([Buffer.alloc(10)]), slowSocket().out, { size: 8 }).catch(
      (e: unknown) => e,
    );
    expect(grew).toBeInstanceOf(UploadError);
    expect((grew as Error).message).toBe('the file grew while it was being sent (more than 8 bytes)');
    const shrank = await sendBody(Readable.from([Buffer.alloc(5)]), slowSocket().out, { size: 8 }).catch(
      (e: unknown) => e,
    );
    expect((shrank as Error).message).toBe('the file shrank while it was being sent (5 of 8 bytes)');
  });
});

describe('step 9: the whole upload', () => {
  test('a header with the base name, size and hash, body frames of 64 KiB, FIN, and the answer', async () => {
    const body = randomBytes(200_000);
    const server = await fakeServer(okFor);
    const answer = await upload({ port: server.port, file: fileOf(body, 'report.pdf') });
    expect(answer).toEqual({ ok: true, name: 'report.pdf', size: body.length, sha256: sha256(body) });
    const { frames, rest, fin } = await within(server.received, () => ({
      expected: 'the client to send FIN',
    }));
    expect(fin, 'socket.end() once the body is sent: the FIN says "that is all"').toBe(true);
    expect(rest).toBe(0);
    expect(
      JSON.parse((frames[0] as Buffer).toString()),
      'the header frame: the base name, never the path',
    ).toEqual({
      name: 'report.pdf',
      size: body.length,
      sha256: sha256(body),
    });
    const bodyFrames = frames.slice(1);
    expect(bodyFrames.map((f) => f.length)).toEqual([65_536, 65_536, 65_536, 3392]);
    expect(Buffer.concat(bodyFrames).equals(body)).toBe(true);
  });

  test('an empty file is a header with size 0 and no body frame', async () => {
    const server = await fakeServer(okFor);
    const answer = await upload({ port: server.port, file: fileOf(Buffer.alloc(0), 'empty.txt') });
    expect(answer).toMatchObject({ ok: true, name: 'empty.txt', size: 0 });
    const { frames } = await server.received;
    expect(frames.length, 'only the header frame').toBe(1);
  });

  test("the server's error rejects with its words (ESERVER), even when it comes before the body is sent", async () => {
    const server = await fakeServer(() => ({ ok: false, error: 'refused name "x": no reason' }), 'header');
    const error = await upload({ port: server.port, file: fileOf(randomBytes(1024 * 1024)) }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UploadError);
    expect((error as UploadError).code).toBe('ESERVER');
    expect((error as UploadError).message).toBe('refused name "x": no reason');
  });

  test('refused, or closed without an answer: a clear rejection', async () => {
    const [closed, silent] = await Promise.all([closedPort(), fakeServer(() => null)]);
    const file = fileOf(Buffer.from('hello'));
    const [refused, unanswered] = await Promise.all([
      upload({ port: closed, file }).catch((e: unknown) => e),
      upload({ port: silent.port, file }).catch((e: unknown) => e),
    ]);
    expect((refused as UploadError).message).toBe(
      `cannot connect to 127.0.0.1:${closed}: connection refused (ECONNREFUSED)`,
    );
    expect((unanswered as UploadError).message).toBe(
      `127.0.0.1:${silent.port} closed the connection without answering`,
    );
  });

  test('3 MiB through a proxy that cuts at random arrive byte-identical at the real server', async () => {
    const { port, dir } = await startUploads();
    const proxy = await startProxy(port, { cut: { maxPiece: 64 * 1024 } });
    const body = randomBytes(3 * 1024 * 1024);
    const answer = await upload({ port: proxy.port, file: fileOf(body, 'three.bin') });
    expect(answer).toEqual({ ok: true, name: 'three.bin', size: body.length, sha256: sha256(body) });
    expect(listFiles(dir)).toEqual(['three.bin']);
    expect(readFileSync(join(dir, 'three.bin')).equals(body), 'the stored file, byte for byte').toBe(true);
  });
});
