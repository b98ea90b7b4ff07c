import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { basename, dirname, join } from 'node:path';
import { closeAfterTest, connect, startProxy, trickle } from '@course/helpers';
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
  trickleOn,
  uploadFrames,
} from './support.ts';

const EMPTY_SHA256 = sha256('');

/** Waits `ms`: the pace of a slow client, never a way to wait for the server. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a server that only has an idle timer (or no deadline at all) needs to hear. */
const SLOWLORIS_HINT =
  'a client sending one byte every 20 ms is never idle, so socket.setTimeout() never fires: ' +
  'restart a deadline (setTimeout) only when a frame is complete, and answer "too slow" when it passes';

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

  test('a slow client is never cut off while each frame comes in time, however long the upload takes', async () => {
    const { port, dir } = await startUploads({ frameTimeoutMs: 150 });
    const body = randomBytes(4000);
    const peer = await connect(port);
    await peer.write(frame({ name: 'patient.bin', size: body.length, sha256: sha256(body) }));
    // Four frames of 1000 bytes, each in two halves 40 ms apart: 160 ms in all, longer than the
    // 150 ms deadline, but every frame is complete within 40 ms of the one before.
    for (let offset = 0; offset < body.length; offset += 1000) {
      const bytes = frame(body.subarray(offset, offset + 1000));
      await peer.write(bytes.subarray(0, 500));
      await pause(40);
      await peer.write(bytes.subarray(500));
    }
    await peer.end();
    expect(
      await readAnswer(
        peer,
        'the deadline is for each frame, not for the whole upload: restart it on every complete frame',
      ),
    ).toMatchObject({ ok: true, name: 'patient.bin' });
    expect(listFiles(dir)).toEqual(['patient.bin']);
  });

  test('waiting for a slow disk never counts against the client; its clock starts again after', async () => {
    // Each write takes 250 ms, twice the client's 120 ms: here only the server is slow. (A
    // shorter deadline would also catch the test's own client when the machine is busy.)
    const disk = new RecordingDisk({ delayMs: 250 });
    const { port, dir } = await startUploads({ openFile: disk.openFile, frameTimeoutMs: 120 });
    const body = randomBytes(2 * 64 * 1024);
    const [prompt, trickler] = await Promise.all([connect(port), connect(port)]);
    // One client sends everything at once; its second frame waits in the socket for the disk.
    await prompt.write(uploadFrames('prompt.bin', body));
    await prompt.end();
    // The other sends its first frame, then trickles the second: once the disk has let the
    // socket go, the clock runs again, and the trickle is too slow.
    const frames = uploadFrames('trickled.bin', body);
    const secondFrame = frames.length - (4 + 64 * 1024);
    await trickler.write(frames.subarray(0, secondFrame));
    trickleOn(trickler, frames.subarray(secondFrame), 10);
    const [stored, refused] = await Promise.all([
      readAnswer(
        prompt,
        "while the socket is paused for the disk, the client cannot send: its clock must stand still (this.restartDeadline() on the file's 'drain', after this.waitingForDisk = false)",
      ),
      readAnswer(
        trickler,
        "after the file's 'drain', call this.restartDeadline(): the client's clock runs again once you read again",
      ),
    ]);
    expect(stored).toMatchObject({ ok: true, name: 'prompt.bin' });
    expect(refused).toEqual({
      ok: false,
      error: 'too slow: the next body frame was not complete within 120 ms (65536 of 131072 bytes received)',
    });
    expect(listFiles(dir)).toEqual(['prompt.bin']);
  });
});

describe('step 5: leave nothing behind when it goes wrong', () => {
  test('a client that disappears mid-way (a reset, or a plain close) leaves no file and no temporary file', async () => {
    const body = randomBytes(200_000);
    const all = uploadFrames('half.bin', body, { frameBytes: 50_000 });
    const vanish = async (how: 'reset' | 'close') => {
      const disk = new RecordingDisk();
      const { port, dir, log } = await startUploads({ openFile: disk.openFile });
      const peer = await connect(port);
      await peer.write(all.subarray(0, all.length / 2));
      await beforeClose(peer, disk.waitForBytes(50_000), 'the first body bytes written to the file');
      const during = listFiles(dir);
      expect(during.length, 'one temporary file while the upload runs').toBe(1);
      expect(during, 'the final name appears only once the file is checked').not.toContain('half.bin');
      // A reset (RST: a crashed client, a pulled cable), or a plain close() (FIN) in mid-body.
      if (how === 'reset') peer.reset();
      else peer.socket.destroy();
      await log.line(
        /"half\.bin" not stored: /,
        `after a ${how}, a log line \`client IP:PORT: "half.bin" not stored: ...\``,
      );
      expect(listFiles(dir), `after a ${how}: remove the temporary file in discard()`).toEqual([]);
    };
    await Promise.all([vanish('reset'), vanish('close')]);
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

  test('a client that trickles a frame a byte at a time (slowloris), or goes silent, is answered "too slow"; nothing is left', async () => {
    const { port, dir, log } = await startUploads({ frameTimeoutMs: 100 });
    const body = randomBytes(10_000);
    const all = uploadFrames('slow.bin', body);
    const bodyStart = all.length - (4 + body.length);
    // One byte every 20 ms from the first: the header frame is never complete.
    const onHeader = await trickle(port, all, 20);
    // The header at once, then the body frame one byte every 20 ms.
    const onBody = await connect(port);
    await onBody.write(all.subarray(0, bodyStart + 1000));
    trickleOn(onBody, all.subarray(bodyStart + 1000), 20);
    // An upload refused at once, by a client that never closes (net.connect's allowHalfOpen:
    // the server's FIN does not end our side): once answered, it has the same time to close.
    const lingering = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }).resume();
    lingering.on('error', () => {}); // a reset once the server lets it go is no failure here
    closeAfterTest(() => lingering.destroy());
    lingering.write(frame('not json'));
    const lingeringPort = await new Promise((resolve) =>
      lingering.once('connect', () => resolve(lingering.localPort)),
    );
    // The header, then nothing.
    const silent = await connect(port);
    await silent.write(frame({ name: 'silent.bin', size: 10, sha256: EMPTY_SHA256 }));
    // Meanwhile, everybody else is served.
    expect(await uploadTo(port, 'honest.txt', Buffer.from('hello'))).toMatchObject({ ok: true });

    const peers = [onHeader, onBody, silent];
    const [headerPort, bodyPort] = peers.map((peer) => peer.socket.localPort);
    const answers = await Promise.all(peers.map((peer) => readAnswer(peer, SLOWLORIS_HINT)));
    expect(answers).toEqual([
      { ok: false, error: 'too slow: the header frame was not complete within 100 ms' },
      {
        ok: false,
        error: 'too slow: the next body frame was not complete within 100 ms (0 of 10000 bytes received)',
      },
      {
        ok: false,
        error: 'too slow: the next body frame was not complete within 100 ms (0 of 10 bytes received)',
      },
    ]);
    for (const peer of peers) {
      await peer.closed({
        allowReset: true,
        hint: SLOWLORIS_HINT,
        expected: 'the server to close the slow connection',
      });
    }
    expect(log.lines).toContain(
      `client 127.0.0.1:${headerPort}: nothing stored: too slow: the header frame was not complete within 100 ms`,
    );
    expect(log.lines).toContain(
      `client 127.0.0.1:${bodyPort}: "slow.bin" not stored: too slow: the next body frame was not complete within 100 ms (0 of 10000 bytes received)`,
    );
    expect(listFiles(dir), 'no temporary file is left by a client too slow').toEqual(['honest.txt']);
    await log.line(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${lingeringPort} too slow: not closed 100 ms after the answer, closing$`,
      ),
      'a log line saying that the client which stayed after its answer was let go',
    );
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
