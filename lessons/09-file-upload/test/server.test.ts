import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { connect, startProxy } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { createUploadServer } from '#impl/server.ts';
import {
  beforeClose,
  frame,
  listFiles,
  RecordingDisk,
  readAnswer,
  sha256,
  startUploads,
  tempRoot,
  tree,
  uploadFrames,
} from './support.ts';

const EMPTY_SHA256 = sha256('');

/** Sends the header and body of an upload, half-closes, and returns the server's answer. */
async function uploadTo(port: number, name: string, body: Uint8Array, header: object = {}) {
  const peer = await connect(port);
  await peer.write(uploadFrames(name, body, { header }));
  await peer.end();
  return readAnswer(peer);
}

describe('step 2: read the header, trusting nothing', () => {
  test('hostile names are refused over the wire, and nothing is written anywhere', async () => {
    const { port, root } = await startUploads();
    const names = [
      '../escaped.txt',
      'a/../../escaped2.txt',
      'sub/evil.txt',
      '..\\escaped3.txt',
      'a\0b.txt',
      '',
      '.',
      '..',
    ];
    const answers = await Promise.all(names.map((name) => uploadTo(port, name, Buffer.from('owned'))));
    answers.forEach((answer, i) => {
      expect(answer, `the answer to the name ${JSON.stringify(names[i])}`).toMatchObject({ ok: false });
      expect(answer.error, 'the answer says why').toMatch(/^refused name /);
    });
    expect(tree(root), 'nothing may be written inside or outside the upload directory').toEqual(['uploads']);
  });

  test('a header that is not JSON is refused', async () => {
    const { port } = await startUploads();
    const peer = await connect(port);
    await peer.write(frame('this is not json'));
    expect(await readAnswer(peer)).toEqual({ ok: false, error: 'the header is not valid JSON' });
    await peer.closed({ expected: 'the server to close the connection after its answer' });
  });
});

describe('step 3: start the upload in a temporary file', () => {
  test('the temporary file is in the upload directory, under another name, and the upload is logged', async () => {
    const disk = new RecordingDisk();
    const { port, dir, log } = await startUploads({ openFile: disk.openFile });
    const peer = await connect(port);
    await peer.write(frame({ name: 'report.pdf', size: 10, sha256: sha256('0123456789') }));
    const expected = 'a log line `client IP:PORT uploads "report.pdf" (10 bytes)`';
    const line = await beforeClose(peer, log.line(/ uploads /, expected), expected);
    expect(line).toBe(`client 127.0.0.1:${peer.socket.localPort} uploads "report.pdf" (10 bytes)`);
    expect(disk.opened.length, 'open one file with this.settings.openFile(path)').toBe(1);
    const [path] = disk.opened as [string];
    expect(dirname(path), 'the temporary file belongs in the upload directory: rename() stays atomic').toBe(
      dir,
    );
    expect(basename(path), 'never write to the final name before the upload is checked').not.toBe(
      'report.pdf',
    );
  });

  test('a header that arrives in pieces of 1 to 3 bytes still starts the upload', async () => {
    const { port, log } = await startUploads();
    const proxy = await startProxy(port, { cut: { maxPiece: 3 }, direction: 'request' });
    const peer = await connect(proxy.port);
    await peer.write(frame({ name: 'slow.txt', size: 3, sha256: sha256('abc') }));
    const expected = 'a log line saying the upload of slow.txt began';
    await beforeClose(peer, log.line(/ uploads "slow\.txt" \(3 bytes\)$/, expected), expected);
  });
});

describe('step 4: write the body, with backpressure', () => {
  test('the body reaches the file whole and in order, however the network cut it', async () => {
    const disk = new RecordingDisk();
    const { port } = await startUploads({ openFile: disk.openFile });
    const body = randomBytes(300_000);
    const proxy = await startProxy(port, { cut: { maxPiece: 32 * 1024 }, direction: 'request' });
    const peer = await connect(proxy.port);
    await peer.write(uploadFrames('cut.bin', body, { frameBytes: 50_000 }));
    await beforeClose(peer, disk.waitForBytes(body.length), 'every body byte written to the file');
    expect(readFileSync(disk.opened[0] as string).equals(body), 'the bytes written, in order').toBe(true);
  });

  test('a slow disk pauses the socket: the server never queues more than a little for it', async () => {
    const disk = new RecordingDisk({ slow: true });
    const { port } = await startUploads({ openFile: disk.openFile });
    const body = randomBytes(8 * 1024 * 1024);
    const peer = await connect(port);
    void peer.write(uploadFrames('big.bin', body)).catch(() => {});
    await beforeClose(peer, disk.waitForBytes(body.length), 'every body byte written to the file');
    // A well-behaved server stops reading when write() returns false: the file's queue holds its
    // 64 KiB, plus what one chunk from the socket completed. Without the pause it holds megabytes.
    expect(
      disk.maxQueued,
      'when this.file.write() returns false, this.socket.pause() until the file emits "drain"',
    ).toBeLessThanOrEqual(512 * 1024);
  });
});

describe('step 5: leave nothing behind when it goes wrong', () => {
  test('a client that disconnects mid-way leaves no file and no temporary file', async () => {
    const disk = new RecordingDisk();
    const { port, dir, log } = await startUploads({ openFile: disk.openFile });
    const body = randomBytes(200_000);
    const all = uploadFrames('half.bin', body, { frameBytes: 50_000 });
    const peer = await connect(port);
    await peer.write(all.subarray(0, all.length / 2));
    await beforeClose(peer, disk.waitForBytes(50_000), 'the first body bytes written to the file');
    const during = listFiles(dir);
    expect(during.length, 'one temporary file while the upload runs').toBe(1);
    expect(during, 'the final name appears only once the file is checked').not.toContain('half.bin');
    peer.reset();
    await log.line(/"half\.bin" not stored: /, 'a log line `client IP:PORT: "half.bin" not stored: ...`');
    expect(listFiles(dir), 'remove the temporary file in discard()').toEqual([]);
  });

  test('a body that ends early (FIN) or runs past its size is refused; nothing is left', async () => {
    const { port, dir } = await startUploads();
    const body = randomBytes(10);
    const short = await connect(port);
    await short.write(
      Buffer.concat([
        frame({ name: 'short.bin', size: 10, sha256: sha256(body) }),
        frame(body.subarray(0, 4)),
      ]),
    );
    await short.end();
    const long = await connect(port);
    await long.write(
      Buffer.concat([frame({ name: 'long.bin', size: 10, sha256: sha256(body) }), frame(randomBytes(11))]),
    );
    const [shortAnswer, longAnswer] = await Promise.all([readAnswer(short), readAnswer(long)]);
    expect(shortAnswer).toEqual({ ok: false, error: 'the connection ended after 4 of 10 bytes' });
    expect(longAnswer).toEqual({ ok: false, error: 'the body is longer than the 10 bytes announced' });
    expect(listFiles(dir)).toEqual([]);
  });

  test('a body frame over the server’s limit is refused before its bytes arrive', async () => {
    const { port, dir } = await startUploads({ maxFrameBytes: 4096 });
    const peer = await connect(port);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(5000);
    await peer.write(Buffer.concat([frame({ name: 'huge.bin', size: 5000, sha256: EMPTY_SHA256 }), head]));
    const answer = await readAnswer(peer);
    expect(answer.ok).toBe(false);
    // The words are lesson 08's FramingError: `a frame of 5000 bytes is over the limit of 4096 bytes`.
    expect(answer.error).toMatch(/5000.*4096/);
    expect(listFiles(dir)).toEqual([]);
  });

  test('a client that goes silent is dropped after the idle time, and its upload discarded', async () => {
    const { port, dir, log } = await startUploads({ idleTimeoutMs: 50 });
    const peer = await connect(port);
    await peer.write(frame({ name: 'idle.bin', size: 10, sha256: EMPTY_SHA256 }));
    await log.line(
      /"idle\.bin" not stored: no data for 50 ms$/,
      'a log line saying the idle upload was dropped',
    );
    await peer.closed({ allowReset: true, expected: 'the server to drop the silent client' });
    expect(listFiles(dir)).toEqual([]);
  });

  test('a directory the server cannot write to gives a clean error', async () => {
    const { port, dir, root } = await startUploads();
    // As root, permissions do not stop writes (tests may run as root in a container): make the
    // upload directory a regular file instead. Either way, opening a file in it fails.
    if (process.getuid?.() === 0) {
      rmSync(dir, { recursive: true });
      writeFileSync(dir, 'not a directory');
    } else {
      chmodSync(dir, 0o555);
    }
    // The header alone: the answer must come from opening the file, not from a later step.
    const peer = await connect(port);
    await peer.write(frame({ name: 'nowhere.txt', size: 10, sha256: EMPTY_SHA256 }));
    const answer = await readAnswer(peer, "listen for the file's 'error' event in begin()");
    expect(answer.ok).toBe(false);
    expect(answer.error).toMatch(
      /^cannot store the file: (permission denied \(EACCES\)|not a directory \(ENOTDIR\))$/,
    );
    expect(answer.error, 'never send the server’s own paths to a client').not.toContain(root);
    expect(listFiles(root)).toEqual(['uploads']);
  });
});

describe('step 6: check, rename, answer', () => {
  test('an empty file and a 1-byte file are stored, in place before the answer', async () => {
    const { port, dir } = await startUploads();
    const [empty, one] = await Promise.all([
      uploadTo(port, 'empty.txt', Buffer.alloc(0)),
      uploadTo(port, 'one.txt', Buffer.from('x')),
    ]);
    expect(empty).toEqual({ ok: true, name: 'empty.txt', size: 0, sha256: EMPTY_SHA256 });
    expect(one).toEqual({ ok: true, name: 'one.txt', size: 1, sha256: sha256('x') });
    expect(listFiles(dir), 'both files in place, no temporary file left').toEqual(['empty.txt', 'one.txt']);
    expect(readFileSync(join(dir, 'empty.txt')).length).toBe(0);
    expect(readFileSync(join(dir, 'one.txt'), 'utf8')).toBe('x');
  });

  test('a 1 MiB file arrives byte-identical, and replaces an older file of the same name', async () => {
    const { port, dir } = await startUploads();
    writeFileSync(join(dir, 'data.bin'), 'the old version');
    const body = randomBytes(1024 * 1024);
    expect(await uploadTo(port, 'data.bin', body)).toEqual({
      ok: true,
      name: 'data.bin',
      size: body.length,
      sha256: sha256(body),
    });
    expect(readFileSync(join(dir, 'data.bin')).equals(body), 'the stored file, byte for byte').toBe(true);
    expect(listFiles(dir)).toEqual(['data.bin']);
  });

  test('a wrong hash is refused and nothing is stored', async () => {
    const { port, dir } = await startUploads();
    const body = Buffer.from('hello');
    const claimed = sha256('HELLO');
    const answer = await uploadTo(port, 'hello.txt', body, { sha256: claimed });
    expect(answer).toEqual({
      ok: false,
      error: `the SHA-256 of the 5 bytes received is ${sha256(body)}, not ${claimed}`,
    });
    expect(listFiles(dir), 'a file that fails its check must not stay, under any name').toEqual([]);
  });

  test('a failed upload leaves the older file of that name untouched', async () => {
    const disk = new RecordingDisk();
    const { port, dir } = await startUploads({ openFile: disk.openFile });
    writeFileSync(join(dir, 'keep.txt'), 'the good version');
    const body = Buffer.from('a new version, with a wrong hash');
    const answer = await uploadTo(port, 'keep.txt', body, { sha256: sha256('something else') });
    expect(answer.ok).toBe(false);
    expect(
      readFileSync(join(dir, 'keep.txt'), 'utf8'),
      'until a new version is checked, the old one must stay as it was',
    ).toBe('the good version');
    expect(listFiles(dir)).toEqual(['keep.txt']);
  });

  test('two uploads at once, their frames interleaved, are both stored intact', async () => {
    const { port, dir } = await startUploads();
    const bodies = [randomBytes(150_000), randomBytes(90_000)];
    const streams = bodies.map((body, i) => uploadFrames(`file${i}.bin`, body, { frameBytes: 20_000 }));
    const peers = await Promise.all([connect(port), connect(port)]);
    for (let offset = 0; offset < 160_000; offset += 30_000) {
      for (const [i, peer] of peers.entries()) {
        const part = (streams[i] as Buffer).subarray(offset, offset + 30_000);
        if (part.length > 0) await peer.write(part);
      }
    }
    await Promise.all(peers.map((peer) => peer.end()));
    const answers = await Promise.all(peers.map((peer) => readAnswer(peer)));
    answers.forEach((answer, i) => {
      expect(answer).toMatchObject({ ok: true, name: `file${i}.bin` });
      expect(readFileSync(join(dir, `file${i}.bin`)).equals(bodies[i] as Buffer)).toBe(true);
    });
    expect(listFiles(dir)).toEqual(['file0.bin', 'file1.bin']);
  });
});

describe('the upload directory', () => {
  test('temporary files an earlier server left behind are removed at start; other files stay', async () => {
    const { dir } = tempRoot();
    mkdirSync(dir);
    const stale = '.upload-0123456789abcdef.part';
    for (const name of [stale, 'keep.txt', '.upload-notours.part']) writeFileSync(join(dir, name), 'x');
    createUploadServer({ dir });
    expect(listFiles(dir)).toEqual(['.upload-notours.part', 'keep.txt']);
  });
});
