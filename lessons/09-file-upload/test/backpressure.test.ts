/**
 * Lesson 09's server, step 4: the body goes to disk with backpressure, and a slow disk never
 * counts against the client. Beside server.test.ts, so that the two run side by side: one after
 * the other, they took 7.2 s.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import { connect, ncLine, startProxy, WireError } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import {
  beforeClose,
  DISCARD_HINT,
  expectAnswer,
  expectFiles,
  expectOkOrLater,
  finish,
  frame,
  IN_PLACE_HINT,
  NO_REPRO,
  RecordingDisk,
  randomFileLine,
  readAnswer,
  referenceClient,
  send,
  serverRepro,
  sha256,
  startUploads,
  trickleOn,
  uploadFrames,
} from './support.ts';

describe('step 4: write the body, with backpressure', () => {
  test('the body reaches the file whole and in order, however the network cut it', async () => {
    const disk = new RecordingDisk();
    const { port } = await startUploads({ openFile: disk.openFile });
    const body = randomBytes(300_000);
    const proxy = await startProxy(port, { cut: { maxPiece: 32 * 1024 }, direction: 'request' });
    const peer = await connect(proxy.port);
    const explain = {
      hint: 'step 4: receive() writes every body frame to this.file, in order',
      repro: serverRepro(
        [],
        randomFileLine(300_000, '/tmp/cut.bin'),
        referenceClient('/tmp/cut.bin', ['--frame-bytes', '50000']),
      ),
    };
    await send(peer, uploadFrames('cut.bin', body, { frameBytes: 50_000 }), explain);
    await beforeClose(
      peer,
      disk.waitForHanded(body.length, explain),
      'every body byte written to the file',
      explain,
    );
    const written = Buffer.concat(disk.handedChunks);
    if (!written.equals(body)) {
      throw new WireError('the bytes written to the file are not the body sent', {
        expected: `the ${body.length} bytes of the body frames, in order (sha256 ${sha256(body)})`,
        received: `${written.length} bytes, sha256 ${sha256(written)}`,
        ...explain,
      });
    }
  });

  test('bytes beyond the announced size never reach the disk', async () => {
    const disk = new RecordingDisk();
    const { port } = await startUploads({ openFile: disk.openFile });
    const bytes = Buffer.concat([
      frame({ name: 'ten.bin', size: 10, sha256: sha256('0123456789') }),
      frame('012345'),
      frame('6789AB'),
    ]);
    const explain = {
      hint: 'step 4: in receive(), check this.received + frame.length against the size BEFORE this.file.write(frame)',
      repro: serverRepro([], ncLine(bytes, 9000)),
    };
    const peer = await connect(port);
    await send(peer, bytes, explain);
    expectAnswer(
      await readAnswer(peer, explain),
      { ok: false, error: 'the body is longer than the 10 bytes announced' },
      { ...explain, exact: true },
    );
    if (disk.handed !== 6) {
      throw new WireError(`the server handed ${disk.handed} bytes to the file`, {
        expected: '6 bytes (the first frame); the second frame runs past the 10 bytes announced',
        hint: explain.hint,
        repro: NO_REPRO,
      });
    }
    // Removing the temporary file is step 5's (discard()), tested there with the same bytes.
  });

  test('a slow disk pauses the socket: the server never queues more than a little for it', async () => {
    const disk = new RecordingDisk({ slow: true });
    const { port } = await startUploads({ openFile: disk.openFile });
    const body = randomBytes(8 * 1024 * 1024);
    const peer = await connect(port);
    const explain = {
      hint: 'step 4: when this.file.write() returns false, this.socket.pause() until the file emits "drain"',
      repro: `${NO_REPRO}: the test gives the server a slow disk. By hand, watch the server's memory during a big upload (README, "Play with the real programs")`,
    };
    void peer.write(uploadFrames('big.bin', body)).catch(() => {});
    await beforeClose(
      peer,
      disk.waitForHanded(body.length, explain),
      'every body byte written to the file',
      explain,
    );
    // A well-behaved server stops reading when write() returns false: the file's queue holds its
    // 64 KiB, plus what one chunk from the socket completed. Without the pause it holds megabytes.
    expect(disk.maxQueued, explain.hint).toBeLessThanOrEqual(512 * 1024);
  });

  test('a slow client is never cut off while each frame comes in time, however long the upload takes', async () => {
    // Six frames, each in two halves 200 ms apart: 1.2 s in all, longer than the 1000 ms
    // deadline, but every frame is complete well within it of the frame before.
    const timeoutMs = 1000;
    const { port, dir } = await startUploads({ frameTimeoutMs: timeoutMs });
    const body = randomBytes(6000);
    const header = frame({ name: 'patient.bin', size: body.length, sha256: sha256(body) });
    const explain = {
      hint: 'step 4: the deadline is for each frame, not for the whole upload: the given onData() restarts it on every complete frame; do not start a timer of your own',
      repro: serverRepro(
        ['--timeout', String(timeoutMs)],
        `${ncLine(uploadFrames('b.txt', Buffer.from('hello'), { frameBytes: 1 }), 9000, { trickleMs: 100 })}     # each byte 100 ms apart, each frame far within the deadline`,
      ),
      ms: 10_000,
    };
    const peer = await connect(port);
    await send(peer, header, explain);
    for (let offset = 0; offset < body.length; offset += 1000) {
      const bytes = frame(body.subarray(offset, offset + 1000));
      await send(peer, bytes.subarray(0, 500), explain);
      await pause(200);
      await send(peer, bytes.subarray(500), explain);
    }
    await finish(peer, explain);
    // Once step 4 is done, the answer is ok, or the TODO of a step after it: never "too slow".
    if (expectOkOrLater(await readAnswer(peer, explain), { ok: true, name: 'patient.bin' }, 4, explain)) {
      expectFiles(dir, ['patient.bin'], { hint: IN_PLACE_HINT, repro: explain.repro });
    }
  });

  test('waiting for a slow disk never counts against the client; its clock starts again after', async () => {
    // Each write takes 1200 ms, more than twice the client's 500 ms: here only the server is
    // slow. The margins are wide, so that a busy machine does not make the test's clients late.
    const timeoutMs = 500;
    const disk = new RecordingDisk({ delayMs: 1200 });
    const { port, dir } = await startUploads({ openFile: disk.openFile, frameTimeoutMs: timeoutMs });
    const body = randomBytes(2 * 64 * 1024);
    const [prompt, trickler] = await Promise.all([connect(port), connect(port)]);
    const repro = `${NO_REPRO}: the test gives the server a disk slower than the deadline`;
    const stillClock = {
      hint: "step 4: while the socket is paused for the disk, the client cannot send: its clock must stand still (set this.waitingForDisk = true when you pause; on the file's 'drain', false, then resume and this.restartDeadline())",
      repro,
      ms: 10_000,
    };
    // One client sends everything at once; its second frame waits in the socket for the disk.
    await send(prompt, uploadFrames('prompt.bin', body), stillClock);
    await finish(prompt, stillClock);
    // The other sends its first frame, then trickles the second: once the disk has let the
    // socket go, the clock runs again, and the trickle is too slow.
    const frames = uploadFrames('trickled.bin', body);
    const secondFrame = frames.length - (4 + 64 * 1024);
    const clockAgain = {
      hint: "step 4: after the file's 'drain', call this.restartDeadline(): the client's clock runs again once you read again",
      repro,
      ms: 10_000,
    };
    await send(trickler, frames.subarray(0, secondFrame), clockAgain);
    trickleOn(trickler, frames.subarray(secondFrame), 10);
    // The prompt client first: its answer says whether the disk's wait was counted against it.
    const stored = await readAnswer(prompt, stillClock);
    const isStored = expectOkOrLater(stored, { ok: true, name: 'prompt.bin' }, 4, stillClock);
    const refused = await readAnswer(trickler, clockAgain);
    expectAnswer(
      refused,
      {
        ok: false,
        error: `too slow: the next body frame was not complete within ${timeoutMs} ms (65536 of 131072 bytes received)`,
      },
      { ...clockAgain, exact: true },
    );
    if (isStored) expectFiles(dir, ['prompt.bin'], { hint: `${IN_PLACE_HINT}; and ${DISCARD_HINT}`, repro });
  });
});
