import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { basename, dirname, join } from 'node:path';
import { closeAfterTest, connect, ncLine, type Peer, startProxy, trickle, WireError } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { createUploadServer, TEMPORARY_NAME } from '#impl/server.ts';
import {
  type Answer,
  beforeClose,
  DISCARD_HINT,
  type Explain,
  expectAnswer,
  expectFiles,
  expectOkOrLater,
  expectStored,
  finish,
  frame,
  IN_PLACE_HINT,
  listFiles,
  NO_REPRO,
  RecordingDisk,
  randomFileLine,
  readAnswer,
  referenceClient,
  send,
  serverRepro,
  sha256,
  startUploads,
  tempRoot,
  tree,
  trickleLine,
  trickleOn,
  uploadFrames,
  waitForFiles,
} from './support.ts';

const EMPTY_SHA256 = sha256('');

/** What a server that only has an idle timer (or no deadline at all) needs to hear. */
const SLOWLORIS_HINT =
  'step 4: a client sending one byte every 20 ms is never idle, so socket.setTimeout() never fires: ' +
  'the given restartDeadline() must run (on connecting and on each complete frame), and answer "too slow" when it passes';

/** Sends the header and body of an upload, half-closes, and returns the server's answer. */
async function uploadTo(
  port: number,
  name: string,
  body: Uint8Array,
  explain: Explain,
  header: object = {},
  frameBytes = 64 * 1024,
): Promise<Answer> {
  const peer = await connect(port);
  await send(peer, uploadFrames(name, body, { header, frameBytes }), explain);
  await finish(peer, explain);
  return readAnswer(peer, explain);
}

/** The bytes of an upload by nc: header and body frames, for a repro. */
const ncUpload = (name: string, body: Uint8Array, header: object = {}) =>
  ncLine(uploadFrames(name, body, { header }), 9000);

describe('step 2: read the header, trusting nothing', () => {
  test('hostile names are refused over the wire, and nothing is written anywhere', async () => {
    const { port, root } = await startUploads();
    const refused: [string, string][] = [
      ['../escaped.txt', 'it contains a slash (/)'],
      ['a/../../escaped2.txt', 'it contains a slash (/)'],
      ['sub/evil.txt', 'it contains a slash (/)'],
      ['..\\escaped3.txt', 'it contains a backslash (\\)'],
      ['a\0b.txt', 'it contains a NUL byte'],
      ['', 'it is empty'],
      ['.', 'it is "." (the directory itself)'],
      ['..', 'it contains ".."'],
    ];
    const body = Buffer.from('owned');
    const explainFor = (name: string): Explain => ({
      hint: 'step 2: parseHeader() throws a ProtocolError, `refused name "NAME": REASON`, when checkName(name) gives a reason',
      repro: serverRepro([], ncUpload(name, body)),
    });
    const answers = await Promise.all(refused.map(([name]) => uploadTo(port, name, body, explainFor(name))));
    answers.forEach((answer, i) => {
      const [name, reason] = refused[i] as [string, string];
      expectAnswer(
        answer,
        { ok: false, error: `refused name ${JSON.stringify(name)}: ${reason}` },
        { ...explainFor(name), exact: true, what: `to the name ${JSON.stringify(name)}, the server` },
      );
    });
    const written = tree(root);
    if (written.join() !== 'uploads') {
      throw new WireError('a refused upload wrote files', {
        expected: 'nothing written, inside or outside the upload directory',
        received: JSON.stringify(written.filter((path) => path !== 'uploads')),
        hint: 'step 2: refuse the name before begin() opens anything',
      });
    }
  });

  test('a header that is not JSON is refused', async () => {
    const { port } = await startUploads();
    const peer = await connect(port);
    const explain = {
      hint: 'step 2: JSON.parse() in a try/catch; on failure throw new ProtocolError("the header is not valid JSON")',
      repro: serverRepro([], ncLine(frame('this is not json'), 9000)),
    };
    await send(peer, frame('this is not json'), explain);
    expectAnswer(
      await readAnswer(peer, explain),
      { ok: false, error: 'the header is not valid JSON' },
      { ...explain, exact: true },
    );
    await peer.closed({ expected: 'the server to close the connection after its answer', ...explain });
  });
});

describe('step 3: start the upload in a temporary file', () => {
  test('the temporary file is in the upload directory, under a random hidden name, and the upload is logged', async () => {
    const disk = new RecordingDisk();
    const { port, dir, log } = await startUploads({ openFile: disk.openFile });
    const peer = await connect(port);
    const header = frame({ name: 'report.pdf', size: 10, sha256: sha256('0123456789') });
    const explain = {
      hint: 'step 3: begin() logs `client IP:PORT uploads "report.pdf" (10 bytes)`: this.peer, JSON.stringify(header.name), header.size',
      repro: serverRepro([], ncLine(header, 9000)),
    };
    await send(peer, header, explain);
    const expected = 'a log line `client IP:PORT uploads "report.pdf" (10 bytes)`';
    const line = await beforeClose(peer, log.line(/ uploads /, expected), expected, explain);
    expect(line, explain.hint).toBe(
      `client 127.0.0.1:${peer.socket.localPort} uploads "report.pdf" (10 bytes)`,
    );
    expect(disk.opened.length, 'step 3: open one file with this.settings.openFile(path)').toBe(1);
    const [path] = disk.opened as [string];
    expect(
      dirname(path),
      'step 3: the temporary file belongs in the upload directory (this.settings.dir): rename() stays atomic',
    ).toBe(dir);
    expect(basename(path), 'step 3: never write to the final name before the upload is checked').not.toBe(
      'report.pdf',
    );
    if (!TEMPORARY_NAME.test(basename(path))) {
      throw new WireError(`the temporary file is called ${basename(path)}`, {
        expected: 'a name made by temporaryName(), like .upload-1f2e3d4c5b6a7988.part',
        hint: 'step 3: this.temporaryPath = join(this.settings.dir, temporaryName()): random, so that two uploads of one name never share a file; hidden; and removed by the next start if the server died',
        repro: explain.repro,
      });
    }
  });

  test('a header that arrives in pieces of 1 to 3 bytes still starts the upload', async () => {
    const { port, log } = await startUploads();
    const proxy = await startProxy(port, { cut: { maxPiece: 3 }, direction: 'request' });
    const peer = await connect(proxy.port);
    const header = frame({ name: 'slow.txt', size: 3, sha256: sha256('abc') });
    const explain = {
      hint: 'step 3: the given onData() collects frames with a FrameDecoder; begin() runs once for the whole header',
      repro: serverRepro([], ncLine(header, 9000, { trickleMs: 10, halfClose: false })),
    };
    await send(peer, header, explain);
    const expected = 'a log line saying the upload of slow.txt began';
    await beforeClose(peer, log.line(/ uploads "slow\.txt" \(3 bytes\)$/, expected), expected, explain);
  });
});

describe('step 5: leave nothing behind when it goes wrong', () => {
  test('a client that disappears mid-way (a reset, or a plain close) leaves no file and no temporary file', async () => {
    const body = randomBytes(200_000);
    const all = uploadFrames('half.bin', body, { frameBytes: 50_000 });
    const explain = {
      hint: "step 5: discard() destroys the file stream, waits for its 'close', then unlink()s this.temporaryPath",
      repro: serverRepro(
        [],
        randomFileLine(200_000_000, '/tmp/big.bin'),
        `${referenceClient('/tmp/big.bin')}     # press Ctrl-C half-way`,
        'ls -a /tmp/uploads     # no .upload-….part left',
      ),
    };
    const vanish = async (how: 'reset' | 'close') => {
      const disk = new RecordingDisk();
      const { port, dir, log } = await startUploads({ openFile: disk.openFile });
      const peer = await connect(port);
      await send(peer, all.subarray(0, all.length / 2), explain);
      await beforeClose(
        peer,
        disk.waitForBytes(50_000, { hint: 'step 4: receive() writes each body frame to this.file' }),
        'the first body bytes written to the file',
        explain,
      );
      const during = listFiles(dir);
      expect(during.length, 'step 3: one temporary file while the upload runs').toBe(1);
      expect(during, 'step 3: the final name appears only once the file is checked').not.toContain(
        'half.bin',
      );
      // A reset (RST: a crashed client, a pulled cable), or a plain close() (FIN) in mid-body.
      if (how === 'reset') peer.reset();
      else peer.socket.destroy();
      await log.line(
        /"half\.bin" not stored: /,
        `after a ${how}, a log line \`client IP:PORT: "half.bin" not stored: ...\``,
      );
      expectFiles(dir, [], { ...explain, hint: `after a ${how}: ${explain.hint}` });
    };
    await Promise.all([vanish('reset'), vanish('close')]);
  });

  test('a body that ends early (FIN) or runs past its size is refused; nothing is left', async () => {
    const { port, dir } = await startUploads();
    const body = Buffer.from('0123456789');
    const shortBytes = Buffer.concat([
      frame({ name: 'short.bin', size: 10, sha256: sha256(body) }),
      frame(body.subarray(0, 4)),
    ]);
    const longBytes = Buffer.concat([
      frame({ name: 'long.bin', size: 10, sha256: sha256(body) }),
      frame('0123456789A'),
    ]);
    const shortExplain = {
      hint: 'step 5: the given onEnd() answers a FIN in mid-body; discard() must not fail, and the answer follows',
      repro: serverRepro([], ncLine(shortBytes, 9000)),
    };
    const longExplain = {
      hint: 'step 4: receive() throws a ProtocolError, `the body is longer than the 10 bytes announced`, before writing',
      repro: serverRepro([], ncLine(longBytes, 9000)),
    };
    const short = await connect(port);
    await send(short, shortBytes, shortExplain);
    await finish(short, shortExplain);
    const long = await connect(port);
    await send(long, longBytes, longExplain);
    const [shortAnswer, longAnswer] = await Promise.all([
      readAnswer(short, shortExplain),
      readAnswer(long, longExplain),
    ]);
    expectAnswer(
      shortAnswer,
      { ok: false, error: 'the connection ended after 4 of 10 bytes' },
      { ...shortExplain, exact: true },
    );
    expectAnswer(
      longAnswer,
      { ok: false, error: 'the body is longer than the 10 bytes announced' },
      { ...longExplain, exact: true },
    );
    expectFiles(dir, [], { hint: DISCARD_HINT });
  });

  test('a temporary file still being opened is removed too: discard() waits for the stream’s close', async () => {
    // This disk opens its files 200 ms late, as a busy disk does: the upload fails before.
    const disk = new RecordingDisk({ openDelayMs: 200 });
    const { port, dir } = await startUploads({ openFile: disk.openFile });
    const bytes = Buffer.concat([
      frame({ name: 'early.bin', size: 10, sha256: sha256('0123456789') }),
      frame('0123456789A'),
    ]);
    const explain = {
      hint: "step 5: in discard(), destroy() the stream and wait for its 'close' before unlink(): a stream still opening its file creates it after an early unlink()",
      repro: `${NO_REPRO}: the test gives the server a disk that opens files 200 ms late`,
    };
    const peer = await connect(port);
    await send(peer, bytes, explain);
    expectAnswer(
      await readAnswer(peer, explain),
      { ok: false, error: 'the body is longer than the 10 bytes announced' },
      { ...explain, exact: true },
    );
    await disk.waitForCreated(1, explain);
    expectFiles(dir, [], explain);
  });

  test('a body frame over the server’s limit is refused before its bytes arrive', async () => {
    const { port, dir } = await startUploads({ maxFrameBytes: 4096 });
    const peer = await connect(port);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(5000);
    const bytes = Buffer.concat([frame({ name: 'huge.bin', size: 5000, sha256: EMPTY_SHA256 }), head]);
    const explain = {
      hint: "step 5: the given FrameDecoder throws lesson 08's FramingError at the 4-byte header; fail() answers it and discard() removes the file",
      repro: serverRepro(['--max-frame', '4096'], ncLine(bytes, 9000)),
    };
    await send(peer, bytes, explain);
    expectAnswer(
      await readAnswer(peer, explain),
      { ok: false, error: 'a frame of 5000 bytes is over the limit of 4096 bytes' },
      { ...explain, exact: true },
    );
    expectFiles(dir, [], explain);
  });

  test('a client that trickles a frame a byte at a time (slowloris), or goes silent, is answered "too slow"; nothing is left', async () => {
    // The deadline is 500 ms; the trickles would need seconds to complete a frame.
    const ms = 500;
    const { port, dir, log } = await startUploads({ frameTimeoutMs: ms });
    const body = randomBytes(10_000);
    const all = uploadFrames('slow.bin', body);
    const bodyStart = all.length - (4 + body.length);
    const explain = {
      hint: SLOWLORIS_HINT,
      repro: serverRepro(['--timeout', String(ms)], trickleLine(all.subarray(0, bodyStart + 4), 20)),
      ms: 10_000,
    };
    // One byte every 20 ms from the first: the header frame is never complete.
    const onHeader = await trickle(port, all, 20);
    // Its port now: once the server has cut it (500 ms, or later on a busy machine), it has none.
    const headerPort = onHeader.socket.localPort;
    // The header at once, then the body frame one byte every 20 ms.
    const onBody = await connect(port);
    const bodyPort = onBody.socket.localPort;
    await send(onBody, all.subarray(0, bodyStart + 1000), explain);
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
    await send(silent, frame({ name: 'silent.bin', size: 10, sha256: EMPTY_SHA256 }), explain);
    // Meanwhile, everybody else is served.
    const honest = await uploadTo(port, 'honest.txt', Buffer.from('hello'), {
      hint: 'step 4: a slow client must not hold the others: never wait in a loop, only with timers and events',
    });
    const served = expectOkOrLater(honest, { ok: true }, 5, {
      hint: 'an honest client is served while slow ones wait',
      repro: explain.repro,
    });

    const peers: Peer[] = [onHeader, onBody, silent];
    const answers = await Promise.all(peers.map((peer) => readAnswer(peer, explain)));
    const expected = [
      `too slow: the header frame was not complete within ${ms} ms`,
      `too slow: the next body frame was not complete within ${ms} ms (0 of 10000 bytes received)`,
      `too slow: the next body frame was not complete within ${ms} ms (0 of 10 bytes received)`,
    ];
    answers.forEach((answer, i) => {
      const what = [
        'to a header trickled',
        'to a body frame trickled',
        'to a client silent after its header',
      ][i];
      expectAnswer(
        answer,
        { ok: false, error: expected[i] },
        { ...explain, exact: true, what: `${what}, the server` },
      );
    });
    for (const peer of peers) {
      await peer.closed({
        allowReset: true,
        expected: 'the server to close the slow connection',
        ...explain,
      });
    }
    expect(log.lines, 'step 4: the given tooSlow() logs why the upload was not stored').toContain(
      `client 127.0.0.1:${headerPort}: nothing stored: ${expected[0]}`,
    );
    expect(log.lines, 'step 4: the given tooSlow() logs why the upload was not stored').toContain(
      `client 127.0.0.1:${bodyPort}: "slow.bin" not stored: ${expected[1]}`,
    );
    expectFiles(dir, served ? ['honest.txt'] : [], {
      hint: `a client too slow: ${DISCARD_HINT}`,
      repro: explain.repro,
    });
    await log.line(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${lingeringPort} too slow: not closed ${ms} ms after the answer, closing$`,
      ),
      'a log line saying that the client which stayed after its answer was let go',
      { ms: 10_000, hint: 'the given answer() restarts the deadline: the client has that long to close' },
    );
  });

  test('a directory the server cannot write to gives a clean error', async () => {
    const { port, dir, root, log } = await startUploads();
    // As root, permissions do not stop writes (tests may run as root in a container): make the
    // upload directory a regular file instead. Either way, opening a file in it fails.
    if (process.getuid?.() === 0) {
      rmSync(dir, { recursive: true });
      writeFileSync(dir, 'not a directory');
    } else {
      chmodSync(dir, 0o555);
    }
    // The header alone: the answer must come from opening the file, not from a later step.
    const header = frame({ name: 'nowhere.txt', size: 10, sha256: EMPTY_SHA256 });
    const explain = {
      hint: "step 3: listen for the file's 'error' event in begin(), and fail with `cannot store the file: ` + fileProblem(error)",
      repro: serverRepro(
        [],
        'chmod 555 /tmp/uploads     # not as root: root may write anyway',
        ncLine(header, 9000),
      ),
    };
    const peer = await connect(port);
    await send(peer, header, explain);
    const answer = await readAnswer(peer, explain);
    const error = answer.error ?? '';
    if (
      answer.ok ||
      !/^cannot store the file: (permission denied \(EACCES\)|not a directory \(ENOTDIR\))$/.test(error)
    ) {
      throw new WireError(`the server answered ${JSON.stringify(answer)}`, {
        expected:
          '{"ok":false,"error":"cannot store the file: permission denied (EACCES)"} (or not a directory (ENOTDIR))',
        ...explain,
      });
    }
    expect(
      error,
      'never send the server’s own paths to a client: fileProblem(error) gives words and a code',
    ).not.toContain(root);
    expect(listFiles(root), 'step 5: nothing may be left').toEqual(['uploads']);
    expect(
      log.lines.filter((line) => line.includes('could not remove')),
      'step 5: a temporary file that was never created is nothing to remove: discard() ignores the ENOENT (or ENOTDIR) of its unlink()',
    ).toEqual([]);
  });

  test('an upload directory removed while the server runs gives a clean error too', async () => {
    const { port, dir, log } = await startUploads();
    rmSync(dir, { recursive: true });
    const header = frame({ name: 'gone.txt', size: 10, sha256: EMPTY_SHA256 });
    const explain = {
      hint: "step 3: listen for the file's 'error' event in begin(), and fail with `cannot store the file: ` + fileProblem(error); step 5: discard() then finds no file to remove, which is no error",
      repro: serverRepro([], 'rm -r /tmp/uploads', ncLine(header, 9000)),
    };
    const peer = await connect(port);
    await send(peer, header, explain);
    expectAnswer(
      await readAnswer(peer, explain),
      { ok: false, error: 'cannot store the file: no such file or directory (ENOENT)' },
      { ...explain, exact: true },
    );
    await log.line(
      /"gone\.txt" not stored: cannot store the file: /,
      'a log line: "gone.txt" not stored',
      explain,
    );
    expect(
      log.lines.filter((line) => line.includes('could not remove')),
      `${explain.hint}: the log`,
    ).toEqual([]);
  });

  test('a temporary file that cannot be removed is logged, and the server goes on', async () => {
    const { port, dir, log } = await startUploads();
    const body = randomBytes(100_000);
    const frames = uploadFrames('stuck.bin', body, { frameBytes: 50_000 });
    const explain = {
      hint: 'the given cleanUp() logs a discard() that throws, `client IP:PORT: could not remove the temporary file: ...`, and still answers: in discard(), let an unlink() error other than ENOENT or ENOTDIR go up',
      repro: `${NO_REPRO}: the test puts a directory in place of the temporary file`,
    };
    const peer = await connect(port);
    await send(peer, frames.subarray(0, frames.length - (4 + 50_000)), explain);
    const [temporary] = await beforeClose(peer, waitForFiles(dir, 1, explain), 'the temporary file', explain);
    // A directory in its place: unlink() cannot remove a directory (EISDIR; EPERM on macOS).
    renameSync(join(dir, temporary as string), join(dir, 'moved-away'));
    mkdirSync(join(dir, temporary as string));
    const client = peer.socket.localPort;
    peer.reset();
    await log.line(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${client}: could not remove the temporary file: .*\\((EISDIR|EPERM)\\)$`,
      ),
      'a log line `client IP:PORT: could not remove the temporary file: is a directory (EISDIR)`',
      explain,
    );
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${client}: "stuck\\.bin" not stored: `),
      'then the line saying why "stuck.bin" was not stored',
      explain,
    );
    // Once step 5 is done, the next upload is served (stored once step 6 is done too).
    expectOkOrLater(await uploadTo(port, 'next.txt', Buffer.from('next'), explain), { ok: true }, 5, explain);
  });

  test('an openFile() that throws at once is answered, and there is no temporary file to remove', async () => {
    const { port, log } = await startUploads({
      openFile: () => {
        throw new Error('the disk is gone');
      },
    });
    const header = frame({ name: 'nowhere.txt', size: 10, sha256: EMPTY_SHA256 });
    const explain = {
      hint: 'step 5: discard() destroys the file stream only when there is one (if (file)): when opening threw, this.file was never set, and there is nothing to destroy',
      repro: `${NO_REPRO}: the test gives the server an openFile() that throws`,
    };
    const peer = await connect(port);
    const client = peer.socket.localPort;
    await send(peer, header, explain);
    expectAnswer(await readAnswer(peer, explain), { ok: false }, explain);
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${client}: "nowhere\\.txt" not stored: `),
      'a log line `client IP:PORT: "nowhere.txt" not stored: ...`',
      explain,
    );
    expect(
      log.lines.filter((line) => line.includes('could not remove')),
      `${explain.hint}: the log`,
    ).toEqual([]);
  });
});

describe('step 6: check, rename, answer', () => {
  test('an empty file and a 1-byte file are stored, in place before the answer', async () => {
    const { port, dir } = await startUploads();
    const explain = {
      hint: 'step 6: finish() ends the file, checks it, rename()s it, and only then answers ok; step 3 calls it at once for size 0',
      repro: serverRepro(
        [],
        ': > /tmp/empty.txt; printf x > /tmp/one.txt',
        referenceClient('/tmp/empty.txt'),
        referenceClient('/tmp/one.txt'),
      ),
    };
    const [empty, one] = await Promise.all([
      uploadTo(port, 'empty.txt', Buffer.alloc(0), explain),
      uploadTo(port, 'one.txt', Buffer.from('x'), explain),
    ]);
    expectAnswer(
      empty,
      { ok: true, name: 'empty.txt', size: 0, sha256: EMPTY_SHA256 },
      { ...explain, exact: true },
    );
    expectAnswer(
      one,
      { ok: true, name: 'one.txt', size: 1, sha256: sha256('x') },
      { ...explain, exact: true },
    );
    expectFiles(dir, ['empty.txt', 'one.txt'], explain);
    expect(readFileSync(join(dir, 'empty.txt')).length, explain.hint).toBe(0);
    expect(readFileSync(join(dir, 'one.txt'), 'utf8'), explain.hint).toBe('x');
  });

  test('a 1 MiB file arrives byte-identical, and replaces an older file of the same name', async () => {
    const { port, dir } = await startUploads();
    writeFileSync(join(dir, 'data.bin'), 'the old version');
    const body = randomBytes(1024 * 1024);
    const explain = {
      hint: 'step 6: rename(this.temporaryPath, join(this.settings.dir, header.name)) replaces an older file',
      repro: serverRepro(
        [],
        'echo old > /tmp/uploads/data.bin',
        randomFileLine(1024 * 1024, '/tmp/data.bin'),
        referenceClient('/tmp/data.bin'),
        'cmp /tmp/data.bin /tmp/uploads/data.bin',
      ),
    };
    expectAnswer(
      await uploadTo(port, 'data.bin', body, explain),
      { ok: true, name: 'data.bin', size: body.length, sha256: sha256(body) },
      { ...explain, exact: true },
    );
    expectStored(dir, 'data.bin', body, { ...explain, hint: `${IN_PLACE_HINT}; ${explain.hint}` });
    expectFiles(dir, ['data.bin'], { hint: IN_PLACE_HINT, repro: explain.repro });
  });

  test('a wrong hash is refused and nothing is stored', async () => {
    const { port, dir } = await startUploads();
    const body = Buffer.from('hello');
    const claimed = sha256('HELLO');
    const explain = {
      hint: 'step 6: compare this.hash.digest("hex") with the header\'s sha256 before the rename; on a mismatch, return this.fail(...)',
      repro: serverRepro([], ncUpload('hello.txt', body, { sha256: claimed })),
    };
    const answer = await uploadTo(port, 'hello.txt', body, explain, { sha256: claimed });
    expectAnswer(
      answer,
      { ok: false, error: `the SHA-256 of the 5 bytes received is ${sha256(body)}, not ${claimed}` },
      { ...explain, exact: true },
    );
    expectFiles(dir, [], { ...explain, hint: 'a file that fails its check must not stay, under any name' });
  });

  test('a disk that lost bytes is caught: the size on disk is checked', async () => {
    // This disk drops the last byte of each write and says nothing: the hash of the frames
    // received is right, only the file's size shows it.
    const disk = new RecordingDisk({ lossy: true });
    const { port, dir } = await startUploads({ openFile: disk.openFile });
    const body = Buffer.from('0123456789');
    const explain = {
      hint: "step 6: after the close, stat() the temporary file: its size must be the header's, else fail with `9 bytes reached the disk, not the 10 announced`",
      repro: `${NO_REPRO}: the test gives the server a disk that loses bytes`,
    };
    const answer = await uploadTo(port, 'lost.bin', body, explain);
    expectAnswer(
      answer,
      { ok: false, error: '9 bytes reached the disk, not the 10 announced' },
      { ...explain, exact: true },
    );
    expectFiles(dir, [], explain);
  });

  test('a disk that fills up at the very end (the last flush fails) is answered once; nothing is stored or left', async () => {
    const disk = new RecordingDisk({ failAtEnd: true });
    const { port, dir, log } = await startUploads({ openFile: disk.openFile });
    const explain = {
      hint: "step 6: a file's 'error' while finish() ends it is answered by the given 'error' listener of begin(); finish() sees the same error and calls fail() again, which must do nothing the second time (the given fail() returns at once when the state is 'done')",
      repro: `${NO_REPRO}: the test gives the server a disk that fails when the file is closed`,
    };
    const peer = await connect(port);
    const client = peer.socket.localPort;
    await send(peer, uploadFrames('full.txt', Buffer.from('hello')), explain);
    await finish(peer, explain);
    const reason = 'cannot store the file: no space left on device (ENOSPC)';
    expectAnswer(await readAnswer(peer, explain), { ok: false, error: reason }, { ...explain, exact: true });
    expectFiles(dir, [], {
      ...explain,
      hint: `${explain.hint}; the given fail() answers only once its clean-up is over. ${DISCARD_HINT}`,
    });
    expect(
      log.lines.filter((line) => line.startsWith(`client 127.0.0.1:${client}: `)),
      `${explain.hint}: one failure, one log line`,
    ).toEqual([`client 127.0.0.1:${client}: "full.txt" not stored: ${reason}`]);
  });

  test('a failed upload leaves the older file of that name untouched', async () => {
    const disk = new RecordingDisk();
    const { port, dir } = await startUploads({ openFile: disk.openFile });
    writeFileSync(join(dir, 'keep.txt'), 'the good version');
    const body = Buffer.from('a new version, with a wrong hash');
    const explain = {
      hint: 'step 3: write to the temporary file, never to the final name: until a new version is checked, the old one must stay as it was',
      repro: serverRepro(
        [],
        "echo 'the good version' > /tmp/uploads/keep.txt",
        ncUpload('keep.txt', body, { sha256: sha256('something else') }),
        'cat /tmp/uploads/keep.txt',
      ),
    };
    const answer = await uploadTo(port, 'keep.txt', body, explain, { sha256: sha256('something else') });
    expectAnswer(answer, { ok: false }, explain);
    expectStored(dir, 'keep.txt', Buffer.from('the good version'), {
      ...explain,
      what: 'its older version, "the good version"',
    });
    expectFiles(dir, ['keep.txt'], explain);
  });

  test('the file is renamed before the answer: a rename that fails is answered as a failure', async () => {
    const { port, dir } = await startUploads();
    // A directory holds the name: rename() of a file onto it fails (EISDIR).
    mkdirSync(join(dir, 'taken', 'inside'), { recursive: true });
    const explain = {
      hint: 'step 6: await rename(...) and only then answer ok; an error on the way fails with `cannot store the file: ` + fileProblem(error)',
      repro: serverRepro(
        [],
        'mkdir -p /tmp/uploads/taken/inside; printf x > /tmp/taken',
        referenceClient('/tmp/taken'),
      ),
    };
    const answer = await uploadTo(port, 'taken', Buffer.from('x'), explain);
    expectAnswer(
      answer,
      { ok: false, error: 'cannot store the file: is a directory (EISDIR)' },
      { ...explain, exact: true },
    );
    expectFiles(dir, ['taken'], {
      ...explain,
      hint: 'step 5: a failed rename leaves the temporary file to discard()',
    });
  });

  test('two uploads at once, their frames interleaved, are both stored intact', async () => {
    const { port, dir } = await startUploads();
    const bodies = [randomBytes(150_000), randomBytes(90_000)];
    const streams = bodies.map((body, i) => uploadFrames(`file${i}.bin`, body, { frameBytes: 20_000 }));
    const explain = {
      hint: 'step 3: each connection has its own UploadSession: keep the upload in this.*, never in a variable shared by all',
      repro: serverRepro(
        [],
        `${randomFileLine(150_000, '/tmp/file0.bin')}; ${randomFileLine(90_000, '/tmp/file1.bin')}`,
        `${referenceClient('/tmp/file0.bin', ['--frame-bytes', '20000'])} & ${referenceClient('/tmp/file1.bin', ['--frame-bytes', '20000'])}; wait     # at once, though not interleaved as in the test`,
      ),
    };
    const peers = await Promise.all([connect(port), connect(port)]);
    for (let offset = 0; offset < 160_000; offset += 30_000) {
      for (const [i, peer] of peers.entries()) {
        const part = (streams[i] as Buffer).subarray(offset, offset + 30_000);
        if (part.length > 0) await send(peer, part, explain);
      }
    }
    await Promise.all(peers.map((peer) => finish(peer, explain)));
    const answers = await Promise.all(peers.map((peer) => readAnswer(peer, explain)));
    answers.forEach((answer, i) => {
      expectAnswer(answer, { ok: true, name: `file${i}.bin` }, explain);
      expectStored(dir, `file${i}.bin`, bodies[i] as Buffer, explain);
    });
    expectFiles(dir, ['file0.bin', 'file1.bin'], explain);
  });

  test('two uploads of one name at once each have their own temporary file: one failing leaves the other whole', async () => {
    const { port, dir, log } = await startUploads();
    const good = randomBytes(100_000);
    const goodFrames = uploadFrames('same.bin', good, { frameBytes: 50_000 });
    const half = goodFrames.length - (4 + 50_000);
    const explain = {
      hint: "step 3: name the temporary file with temporaryName(), random: a name made from the client's (NAME.part) is shared by two uploads of that name, and the failure of one removes (or overwrites) the other's file",
      repro: serverRepro(
        [],
        randomFileLine(200_000_000, '/tmp/same.bin'),
        `${referenceClient('/tmp/same.bin')} & sleep 0.5; ${ncUpload('same.bin', Buffer.from('bad'), { sha256: sha256('other') })}; wait`,
      ),
    };
    // The first upload sends its header and half its body, and waits.
    const first = await connect(port);
    await send(first, goodFrames.subarray(0, half), explain);
    const started = 'the first upload of same.bin to begin';
    await beforeClose(first, log.line(/ uploads "same\.bin"/, started), started, explain);
    await beforeClose(
      first,
      waitForFiles(dir, 1, explain),
      'its temporary file in the upload directory',
      explain,
    );
    // A second upload of the same name, whole, with a wrong hash: it fails.
    const second = await uploadTo(port, 'same.bin', Buffer.from('bad'), explain, { sha256: sha256('other') });
    // The first one goes on, and must be stored.
    await send(first, goodFrames.subarray(half), explain);
    await finish(first, explain);
    expectAnswer(
      await readAnswer(first, explain),
      { ok: true, name: 'same.bin', size: good.length },
      { ...explain, what: 'to the first upload, after the second one failed, the server' },
    );
    expectAnswer(
      second,
      { ok: false, error: `the SHA-256 of the 3 bytes received is ${sha256('bad')}, not ${sha256('other')}` },
      { ...explain, exact: true, what: 'to the second upload, the server' },
    );
    expectStored(dir, 'same.bin', good, explain);
    expectFiles(dir, ['same.bin'], explain);
  });

  test('a temporary file replaced under its name while the upload runs is never renamed into place', async () => {
    const { port, dir } = await startUploads();
    const body = randomBytes(100_000);
    const frames = uploadFrames('report.pdf', body, { frameBytes: 50_000 });
    const half = frames.length - (4 + 50_000);
    const explain = {
      hint: "step 6: rename() goes by name, and anyone who can write to the directory can put another file under it: before end(), await this.opened (the device and inode of the file you wrote, from its descriptor); after the close, stat() the path, and when its dev or ino differ, return this.fail('the temporary file was replaced while the upload ran')",
      repro: serverRepro(
        [],
        randomFileLine(200_000_000, '/tmp/report.pdf'),
        `${referenceClient('/tmp/report.pdf')} &     # then, while it runs:`,
        'head -c 200000000 /dev/zero > /tmp/uploads/evil; mv /tmp/uploads/evil /tmp/uploads/.upload-*.part',
      ),
    };
    const victim = await connect(port);
    await send(victim, frames.subarray(0, half), explain);
    const [temporary] = await beforeClose(
      victim,
      waitForFiles(dir, 1, explain),
      'the temporary file in the upload directory',
      explain,
    );
    // Someone who can write to the directory puts a file of the same size under that name.
    const forged = Buffer.alloc(body.length, 'A');
    writeFileSync(join(dir, 'forged'), forged);
    renameSync(join(dir, 'forged'), join(dir, temporary as string));
    await send(victim, frames.subarray(half), explain);
    await finish(victim, explain);
    expectAnswer(
      await readAnswer(victim, explain),
      { ok: false, error: 'the temporary file was replaced while the upload ran' },
      { ...explain, exact: true },
    );
    expectFiles(dir, [], { ...explain, hint: `nothing stored under report.pdf; ${DISCARD_HINT}` });
  });
});

describe('the memory budget', () => {
  test('an upload that would take the server over its budget is answered "server busy"; the others go on', async () => {
    // Three uploads hold 90,000 bytes each of an unfinished frame; 200,000 bytes are allowed.
    // Whichever comes third goes over: it alone is refused, and what it held is given back.
    const budgetBytes = 200_000;
    const { port, dir, log } = await startUploads({ budgetBytes });
    const bodies = [0, 1, 2].map(() => randomBytes(100_000));
    const streams = bodies.map((body, i) => uploadFrames(`held${i}.bin`, body, { frameBytes: 100_000 }));
    const busy = `server busy: uploads under way already hold the ${budgetBytes} bytes of memory this server allows them; try again later`;
    const explain = {
      hint: "the given onData() counts each session's unfinished frame in settings.budget (count()), and refuses the session that goes over",
      repro: serverRepro(
        ['--budget', String(budgetBytes), '--max-frame', '100000'],
        `${ncLine(Buffer.concat([Buffer.from([0, 1, 0x86, 0xa0]), Buffer.alloc(90_000)]), 9000, { halfClose: false })}     # in three more terminals at once: three unfinished 100000-byte frames`,
      ),
    };
    const peers = await Promise.all(streams.map(() => connect(port)));
    const ports = peers.map((peer) => peer.socket.localPort);
    const unfinished = (i: number) =>
      (streams[i] as Buffer).subarray(0, (streams[i] as Buffer).length - 10_000);
    await Promise.all(peers.map((peer, i) => send(peer, unfinished(i), explain)));
    const refused = await Promise.race(
      peers.map((peer, i) => readAnswer(peer, explain).then((answer) => ({ answer, i }))),
    );
    expectAnswer(refused.answer, { ok: false, error: busy }, { ...explain, exact: true });
    // The budget is back: a new upload is served, and the two others complete.
    const honest = await uploadTo(port, 'honest.txt', Buffer.from('hello'), explain);
    expectAnswer(honest, { ok: true, name: 'honest.txt' }, explain);
    const others = [0, 1, 2].filter((i) => i !== refused.i);
    for (const i of others) {
      const peer = peers[i] as Peer;
      await send(peer, (streams[i] as Buffer).subarray(unfinished(i).length), explain);
      await finish(peer, explain);
      expectAnswer(await readAnswer(peer, explain), { ok: true, name: `held${i}.bin` }, explain);
    }
    // Everything held was given back: one frame of nearly the whole budget is taken.
    const whole = randomBytes(190_000);
    const wholeExplain = {
      ...explain,
      hint: 'the given answer() and cleanUp() call count() once the upload is over: what a session held goes back to the budget',
    };
    const wholeAnswer = await uploadTo(port, 'whole.bin', whole, wholeExplain, {}, 190_000);
    expectAnswer(wholeAnswer, { ok: true, name: 'whole.bin', size: whole.length }, wholeExplain);
    expectFiles(dir, ['honest.txt', 'whole.bin', ...others.map((i) => `held${i}.bin`)], explain);
    expect(log.lines, 'the refusal is logged').toContain(
      `client 127.0.0.1:${ports[refused.i]}: "held${refused.i}.bin" not stored: ${busy}`,
    );
  });

  test('holding exactly the budget is allowed: only going over it is "server busy"', async () => {
    const budgetBytes = 50_000;
    const { port, dir } = await startUploads({ budgetBytes });
    // One body frame of 49,997 bytes: all of it but its last byte is 4 + 49,996 = 50,000 bytes,
    // the whole budget, held while the frame is being assembled.
    const body = randomBytes(budgetBytes - 3);
    const all = uploadFrames('edge.bin', body, { frameBytes: body.length });
    const explain = {
      hint: 'the given onData() refuses an upload when what all uploads hold goes OVER the budget (held > limit): exactly the budget is still allowed',
      repro: `${NO_REPRO}: the program's --budget is at least 3 MiB; the test gives the server 50,000 bytes`,
    };
    const peer = await connect(port);
    await send(peer, all.subarray(0, all.length - 1), explain);
    // One byte more, from another client: now the budget is over, and that client is refused.
    const probe = await connect(port);
    await send(probe, Buffer.from([0]), explain);
    const busy = `server busy: uploads under way already hold the ${budgetBytes} bytes of memory this server allows them; try again later`;
    const refused = await beforeClose(
      peer,
      readAnswer(probe, explain),
      'the server to go on with an upload that holds exactly the budget',
      explain,
    );
    expectAnswer(
      refused,
      { ok: false, error: busy },
      { ...explain, exact: true, what: 'to one byte over, the server' },
    );
    await send(peer, all.subarray(all.length - 1), explain);
    await finish(peer, explain);
    expectAnswer(await readAnswer(peer, explain), { ok: true, name: 'edge.bin', size: body.length }, explain);
    expectStored(dir, 'edge.bin', body, explain);
  });

  test('a header or a trailer still being assembled counts too: over the budget, "server busy"', async () => {
    const budgetBytes = 2_000;
    const { port, dir } = await startUploads({ budgetBytes });
    // 3,004 bytes of a 5,000-byte frame: over the 2,000 bytes allowed, whichever frame it is.
    const unfinished = Buffer.concat([Buffer.from([0, 0, 0x13, 0x88]), Buffer.alloc(3_000, 'x')]);
    const busy = `server busy: uploads under way already hold the ${budgetBytes} bytes of memory this server allows them; try again later`;
    const cases: [string, Buffer][] = [
      ['a header frame', unfinished],
      [
        'a trailer frame',
        Buffer.concat([trailerUpload('t.txt', Buffer.from('hello'), undefined), unfinished]),
      ],
    ];
    for (const [what, bytes] of cases) {
      const explain = {
        hint: `the given onData() counts the unfinished frame of a session that reads its header, its body or its trailer: ${what} being assembled is memory held like a body frame`,
        repro: `${NO_REPRO}: the program's --budget is at least 3 MiB; the test gives the server 2,000 bytes`,
      };
      const peer = await connect(port);
      await send(peer, bytes, explain);
      expectAnswer(
        await readAnswer(peer, explain),
        { ok: false, error: busy },
        { ...explain, exact: true, what: `to ${what} over the budget, the server` },
      );
    }
    expectFiles(dir, [], { hint: DISCARD_HINT });
  });

  test('an upload whose every byte is in is stored even when what waits for its disk goes over the budget; the others count it', async () => {
    // The budget is 3,000 bytes. G holds 1,000 (most of a frame); F sends 4,000 in one go, to a
    // disk that takes 1.5 s per write: F is all in, and stored, though the server now holds 5,000.
    const budgetBytes = 3_000;
    const fast = new RecordingDisk();
    const slow = new RecordingDisk({ delayMs: 1_500 });
    let opened = 0;
    const { port, dir, log } = await startUploads({
      budgetBytes,
      openFile: (path) => (opened++ === 1 ? slow : fast).openFile(path),
    });
    const busy = `server busy: uploads under way already hold the ${budgetBytes} bytes of memory this server allows them; try again later`;
    const explain = {
      hint: "the given onData() and count(): only a session still reading (header, body, trailer) whose holding GREW is refused; one whose bytes are all in ('finishing') is stored, and the body bytes queued for its disk (this.file.writableLength) count against the others",
      repro: `${NO_REPRO}: the test gives the server a slow disk and a budget of 3,000 bytes`,
      ms: 10_000,
    };
    // G: a body of two frames, 1,000 bytes and 1; the first short of its last 4 bytes for now.
    const gBody = randomBytes(1_001);
    const gAll = uploadFrames('g.bin', gBody, { frameBytes: 1_000 });
    const gFirstEnd = gAll.length - (4 + 1) - 4;
    const g = await connect(port);
    await send(g, gAll.subarray(0, gFirstEnd), explain);
    await beforeClose(
      g,
      log.line(/ uploads "g\.bin"/, 'the upload of g.bin to begin'),
      'g.bin begun',
      explain,
    );
    // F: the whole upload in one write; once it has begun, every byte of it is in.
    const fBody = randomBytes(4_000);
    const f = await connect(port);
    await send(f, uploadFrames('f.bin', fBody), explain);
    await beforeClose(
      f,
      log.line(/ uploads "f\.bin"/, 'the upload of f.bin to begin'),
      'f.bin begun',
      explain,
    );
    // G's last 4 bytes complete its frame: 1,000 bytes move from the decoder to the file's
    // queue, G holds no more than before, and is not refused though the server is over.
    await send(g, gAll.subarray(gFirstEnd, gFirstEnd + 4), explain);
    // K grows while F's bytes wait for the disk: refused.
    const k = await connect(port);
    await send(k, uploadFrames('k.bin', randomBytes(200)).subarray(0, -100), explain);
    expectAnswer(
      await readAnswer(k, explain),
      { ok: false, error: busy },
      {
        ...explain,
        exact: true,
        what: 'to an upload that grows while another one holds 4,000 bytes for its disk, the server',
      },
    );
    await send(g, gAll.subarray(gFirstEnd + 4), explain);
    await finish(g, explain);
    expectAnswer(
      await readAnswer(g, explain),
      { ok: true, name: 'g.bin', size: gBody.length },
      { ...explain, what: 'to an upload whose holding did not grow, the server' },
    );
    await finish(f, explain);
    expectAnswer(
      await readAnswer(f, explain),
      { ok: true, name: 'f.bin', size: fBody.length },
      { ...explain, what: 'to an upload all in, its bytes waiting for the disk, the server' },
    );
    expectFiles(dir, ['f.bin', 'g.bin'], explain);
  });

  test('an upload reset while its bytes wait for a slow disk gives them back to the budget', async () => {
    const budgetBytes = 30_000;
    const slow = new RecordingDisk({ delayMs: 1_000 });
    const fast = new RecordingDisk();
    let opened = 0;
    const { port, log } = await startUploads({
      budgetBytes,
      openFile: (path) => (opened++ === 0 ? slow : fast).openFile(path),
    });
    const explain = {
      hint: "the given abort() and cleanUp() call count() once the session is 'done', which then counts nothing: the bytes that were queued for the disk go back to the budget",
      repro: `${NO_REPRO}: the test gives the server a slow disk and a budget of 30,000 bytes`,
    };
    // 20,000 bytes of body in four frames, all queued for a disk that takes 1 s per write.
    const frames = uploadFrames('reset.bin', randomBytes(40_000), { frameBytes: 5_000 });
    const peer = await connect(port);
    const client = peer.socket.localPort;
    await send(peer, frames.subarray(0, frames.length - 4 * (4 + 5_000)), explain);
    await beforeClose(peer, slow.waitForHanded(20_000, explain), '20,000 bytes handed to the file', explain);
    peer.reset();
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${client}: "reset\\.bin" not stored: `),
      'a log line `client IP:PORT: "reset.bin" not stored: ...`',
      explain,
    );
    // A body frame of 25,000 bytes held while the body goes on (a 1-byte frame follows):
    // allowed only if those 20,000 were given back.
    const whole = randomBytes(25_001);
    const wholeFrames = uploadFrames('whole.bin', whole, { frameBytes: 25_000 });
    const next = await connect(port);
    await send(next, wholeFrames.subarray(0, -5), explain);
    await beforeClose(next, fast.waitForHanded(25_000, explain), '25,000 bytes handed to the file', explain);
    await send(next, wholeFrames.subarray(-5), explain);
    await finish(next, explain);
    expectAnswer(
      await readAnswer(next, explain),
      { ok: true, name: 'whole.bin', size: whole.length },
      explain,
    );
  });

  test('past maxConnections, a new connection is closed at once, and logged; a free place is taken again', async () => {
    const { port, log } = await startUploads({ maxConnections: 1 });
    const explain = {
      hint: 'the given createUploadServer() sets server.maxConnections and logs each connection Node drops',
      repro: serverRepro(
        ['--max-connections', '1'],
        'nc 127.0.0.1 9000 &',
        'nc 127.0.0.1 9000     # closed at once',
      ),
    };
    const first = await connect(port);
    await log.line(/^client connected from /, 'the first connection logged', explain);
    const second = await connect(port);
    const secondPort = second.socket.localPort;
    await second.closed({
      allowReset: true,
      expected: 'the server to close a connection past the limit',
      ...explain,
    });
    await log.line(
      new RegExp(
        `^refused a connection from 127\\.0\\.0\\.1:${secondPort}: 1 open already \\(--max-connections\\)$`,
      ),
      'a log line for the connection refused',
      explain,
    );
    first.socket.destroy();
    await log.line(/ closed$/, 'the first connection closed', explain);
    const answer = await uploadTo(port, 'after.txt', Buffer.from('x'), explain);
    expectAnswer(answer, { ok: true, name: 'after.txt' }, explain);
  });
});

describe('the upload directory', () => {
  test('an upload named like a temporary file is refused, and the next start removes nothing stored', async () => {
    const { port, dir } = await startUploads();
    const name = '.upload-0123456789abcdef.part';
    const body = Buffer.from('a stored file');
    const explain = {
      hint: 'step 1: refuse a name that starts with "." — the server\'s own temporary files do, and the sweep at start removes them',
      repro: serverRepro(
        [],
        ncUpload(name, body),
        '# then stop the server and start it again: ls -a /tmp/uploads',
      ),
    };
    expectAnswer(
      await uploadTo(port, name, body, explain),
      {
        ok: false,
        error: `refused name "${name}": it starts with "." (hidden, like the server's own temporary files)`,
      },
      { ...explain, exact: true },
    );
    writeFileSync(join(dir, 'kept.txt'), body);
    createUploadServer({ dir });
    expectFiles(dir, ['kept.txt'], explain);
  });

  test("a stored file can be read by the server's user only (mode 0600): uploads are not for every account on the machine", async () => {
    const { port, dir } = await startUploads();
    const explain = {
      hint: "the given settingsFrom() opens the temporary file with createWriteStream(path, { flags: 'wx', mode: 0o600, ... }), and rename() keeps its mode",
      repro: serverRepro(
        [],
        'printf secret > /tmp/secret.txt',
        referenceClient('/tmp/secret.txt'),
        'ls -l /tmp/uploads',
      ),
    };
    const answer = await uploadTo(port, 'secret.txt', Buffer.from('secret'), explain);
    if (!expectOkOrLater(answer, { ok: true, name: 'secret.txt' }, 6, explain)) return;
    const mode = statSync(join(dir, 'secret.txt')).mode & 0o777;
    expect(mode.toString(8), explain.hint).toBe('600');
  });

  test('temporary files an earlier server left behind are removed at start; other files stay', async () => {
    const { dir } = tempRoot();
    mkdirSync(dir);
    const stale = '.upload-0123456789abcdef.part';
    // Only whole names match: `my.upload-….part` may be a stored upload, `….part.txt` is not ours.
    const others = ['keep.txt', '.upload-notours.part', 'my.upload-0123456789abcdef.part', `${stale}.txt`];
    for (const name of [stale, ...others]) writeFileSync(join(dir, name), 'x');
    // A directory of such a name is none of the server's files: it stays, and the server starts.
    mkdirSync(join(dir, '.upload-fedcba9876543210.part'));
    createUploadServer({ dir });
    expectFiles(dir, ['.upload-fedcba9876543210.part', ...others], {
      hint: 'the given createUploadServer() removes the regular files TEMPORARY_NAME matches (the whole name, ^…$), and nothing else',
    });
  });

  test('a missing upload directory is created, with its missing parents', () => {
    const { root } = tempRoot();
    const dir = join(root, 'a', 'b', 'uploads');
    createUploadServer({ dir });
    expect(statSync(dir).isDirectory(), 'the given makeDirectory(): `mkdir -p`').toBe(true);
  });
});

describe('connections that end early, or fail after the answer', () => {
  test('half a header, then FIN, is answered; a FIN before any byte is closed without a word', async () => {
    const { port, log } = await startUploads();
    const half = frame({ name: 'half.txt', size: 1, sha256: EMPTY_SHA256 }).subarray(0, 20);
    const explain = {
      hint: 'the given onEnd(): a FIN in the middle of the header frame is answered `the connection ended in the middle of the header`; a FIN before any byte is no upload, and gets no answer, only our FIN',
      repro: serverRepro([], ncLine(half, 9000), `${ncLine('', 9000)}     # nothing, then FIN`),
    };
    const [cut, empty] = await Promise.all([connect(port), connect(port)]);
    const [cutPort, emptyPort] = [cut.socket.localPort, empty.socket.localPort];
    await send(cut, half, explain);
    await finish(cut, explain);
    expectAnswer(
      await readAnswer(cut, explain),
      { ok: false, error: 'the connection ended in the middle of the header' },
      { ...explain, exact: true },
    );
    await finish(empty, explain);
    const said = await empty.closed({
      allowReset: true,
      expected: 'the server to close the connection: a client that sent nothing and half-closed is done',
      ...explain,
    });
    expect(said.length, `${explain.hint}: bytes sent to the client that sent nothing`).toBe(0);
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${emptyPort} closed$`),
      'a log line `client IP:PORT closed` for the client that sent nothing',
      explain,
    );
    expect(log.lines, 'the log line of the header cut short').toContain(
      `client 127.0.0.1:${cutPort}: nothing stored: the connection ended in the middle of the header`,
    );
    expect(
      log.lines.filter((line) => line.startsWith(`client 127.0.0.1:${emptyPort}:`)),
      'a client that sent nothing made no upload: no `not stored` line for it',
    ).toEqual([]);
  });

  test('a client that resets after its answer: one `failed` line, and its file stays stored', async () => {
    const { port, dir, log } = await startUploads();
    const explain = {
      hint: "the given 'error' listener of the session: once the upload is answered (or all in and being stored), an error ends the connection only; it is logged `client IP:PORT failed: ...`",
      repro: `${NO_REPRO}: the test's client resets the connection once it has the answer`,
    };
    const peer = await connect(port);
    const client = peer.socket.localPort;
    // Every byte, but no FIN: the server answers and waits for the client to close.
    await send(peer, uploadFrames('kept.txt', Buffer.from('kept')), explain);
    if (!expectOkOrLater(await readAnswer(peer, explain), { ok: true, name: 'kept.txt' }, 6, explain)) return;
    peer.reset();
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${client} failed: connection reset by peer \\(ECONNRESET\\)$`),
      'a log line `client 127.0.0.1:PORT failed: connection reset by peer (ECONNRESET)`',
      explain,
    );
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${client} closed$`),
      'then `client IP:PORT closed`',
      explain,
    );
    expect(
      log.lines.filter((line) => line.includes('not stored')),
      'a reset after the answer undoes nothing: no `not stored` line',
    ).toEqual([]);
    expectFiles(dir, ['kept.txt'], explain);
  });

  test('a reset in the middle of the header is logged; a reset before any byte is no upload, and is not', async () => {
    const { port, log } = await startUploads();
    const half = frame({ name: 'half.txt', size: 1, sha256: EMPTY_SHA256 }).subarray(0, 20);
    const explain = {
      hint: 'the given abort(): a client that goes away after some bytes of its header had begun an upload, `client IP:PORT: nothing stored: connection reset by peer (ECONNRESET)`; one that sent nothing made none, and only its `closed` line is logged',
      repro: `${NO_REPRO}: the test's clients reset their connections`,
    };
    const cut = await connect(port);
    const cutPort = cut.socket.localPort;
    await send(cut, half, explain);
    const empty = await connect(port);
    const emptyPort = empty.socket.localPort;
    // Its connection is logged once the server has accepted it: by then it has read the bytes
    // that came before, the half header.
    await log.line(
      new RegExp(`^client connected from 127\\.0\\.0\\.1:${emptyPort}$`),
      'the second connection logged',
      explain,
    );
    cut.reset();
    empty.reset();
    await log.line(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${cutPort}: nothing stored: connection reset by peer \\(ECONNRESET\\)$`,
      ),
      'a log line `client IP:PORT: nothing stored: connection reset by peer (ECONNRESET)` for the half header',
      explain,
    );
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${emptyPort} closed$`),
      'a log line `client IP:PORT closed` for the client that sent nothing',
      explain,
    );
    expect(
      log.lines.filter((line) => line.startsWith(`client 127.0.0.1:${emptyPort}:`)),
      `${explain.hint}: the log`,
    ).toEqual([]);
  });

  test('a client that resets while its upload is being stored: one `failed` line, and the file is stored all the same', async () => {
    // A disk that takes 500 ms per write: the upload is all in, and still being stored, when
    // the client resets.
    const disk = new RecordingDisk({ delayMs: 500 });
    const { port, dir, log } = await startUploads({ openFile: disk.openFile });
    const body = randomBytes(1_000);
    const explain = {
      hint: "the given 'error' listener and abort(): once every byte is in ('finishing'), the upload is stored even if its client goes away; the error is only logged, `client IP:PORT failed: ...`",
      repro: `${NO_REPRO}: the test gives the server a slow disk, and its client resets once every byte is in`,
    };
    const peer = await connect(port);
    const client = peer.socket.localPort;
    await send(peer, uploadFrames('late.bin', body), explain);
    await beforeClose(
      peer,
      disk.waitForHanded(body.length, explain),
      'every body byte handed to the file',
      explain,
    );
    peer.reset();
    await log.line(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${client} stored "late\\.bin" \\(1000 bytes, sha256 ${sha256(body)}\\)$`,
      ),
      'a log line `client IP:PORT stored "late.bin" (1000 bytes, sha256 ...)`',
      { ...explain, ms: 5_000 },
    );
    expect(
      log.lines.filter((line) => line.startsWith(`client 127.0.0.1:${client}`)).sort(),
      `${explain.hint}: the log`,
    ).toEqual(
      [
        `client 127.0.0.1:${client} closed`,
        `client 127.0.0.1:${client} failed: connection reset by peer (ECONNRESET)`,
        `client 127.0.0.1:${client} stored "late.bin" (1000 bytes, sha256 ${sha256(body)})`,
        `client 127.0.0.1:${client} uploads "late.bin" (1000 bytes)`,
      ].sort(),
    );
    expectStored(dir, 'late.bin', body, explain);
    expectFiles(dir, ['late.bin'], explain);
  });

  test('a client that resets in the middle of its body is logged with the reason', async () => {
    const { port, dir, log } = await startUploads();
    const body = randomBytes(100_000);
    const frames = uploadFrames('reset.bin', body, { frameBytes: 50_000 });
    const explain = {
      hint: "the given 'error' listener of the session aborts an upload under way with the error's words: `\"reset.bin\" not stored: connection reset by peer (ECONNRESET)`",
      repro: serverRepro(
        [],
        randomFileLine(200_000_000, '/tmp/big.bin'),
        `${referenceClient('/tmp/big.bin')}     # kill -9 it half-way`,
      ),
    };
    const peer = await connect(port);
    const client = peer.socket.localPort;
    await send(peer, frames.subarray(0, frames.length - (4 + 50_000)), explain);
    await beforeClose(peer, waitForFiles(dir, 1, explain), 'the temporary file', explain);
    peer.reset();
    await log.line(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${client}: "reset\\.bin" not stored: connection reset by peer \\(ECONNRESET\\)$`,
      ),
      'a log line `client IP:PORT: "reset.bin" not stored: connection reset by peer (ECONNRESET)`',
      explain,
    );
    expectFiles(dir, [], { ...explain, hint: DISCARD_HINT });
  });
});

/** An upload whose header has no hash: header and body frames, then `trailer` (bytes as they are, or a frame of JSON). */
function trailerUpload(name: string, body: Uint8Array, trailer: Uint8Array | object | undefined): Buffer {
  const frames = [uploadFrames(name, body, { header: { sha256: undefined } })];
  if (trailer !== undefined)
    frames.push(trailer instanceof Uint8Array ? Buffer.from(trailer) : frame(trailer));
  return Buffer.concat(frames);
}

/** Sends `bytes`, half-closes, and returns the server's answer. */
async function exchange(port: number, bytes: Uint8Array, explain: Explain): Promise<Answer> {
  const peer = await connect(port);
  await send(peer, bytes, explain);
  await finish(peer, explain);
  return readAnswer(peer, explain);
}

const TRAILER_HINT =
  'step 10: with no "sha256" in the header, the frame after the announced size is the trailer: receiveTrailer() gives it to parseTrailer() and finish() checks the file against the hash it carries';

describe('step 10: the hash in a trailer, after the body', () => {
  test('a header without "sha256", the body, then {"sha256": ...}: stored, and answered with that hash', async () => {
    const { port, dir } = await startUploads();
    const body = randomBytes(200 * 1024);
    const explain = {
      hint: TRAILER_HINT,
      repro: serverRepro([], randomFileLine(200 * 1024, '/tmp/data.bin'), referenceClient('/tmp/data.bin')),
    };
    const answer = await exchange(
      port,
      trailerUpload('data.bin', body, { sha256: sha256(body).toUpperCase() }),
      explain,
    );
    expectAnswer(
      answer,
      { ok: true, name: 'data.bin', size: body.length, sha256: sha256(body) },
      { ...explain, exact: true },
    );
    expectStored(dir, 'data.bin', body, explain);
    expectFiles(dir, ['data.bin'], explain);

    const empty = trailerUpload('empty.txt', Buffer.alloc(0), { sha256: EMPTY_SHA256 });
    expectAnswer(
      await exchange(port, empty, explain),
      { ok: true, name: 'empty.txt', size: 0, sha256: EMPTY_SHA256 },
      explain,
    );
    expectFiles(dir, ['data.bin', 'empty.txt'], explain);
  });

  test('a trailer with another hash is refused: nothing stored, no temporary file left', async () => {
    const { port, dir } = await startUploads();
    const body = Buffer.from('hello');
    const bytes = trailerUpload('hello.txt', body, { sha256: sha256('HELLO') });
    const explain = {
      hint: "step 10: the trailer's hash is checked by finish() like a header's, before the rename: a mismatch is this.fail(...), which removes the temporary file",
      repro: serverRepro([], ncLine(bytes, 9000)),
    };
    const answer = await exchange(port, bytes, explain);
    expectAnswer(
      answer,
      { ok: false, error: `the SHA-256 of the 5 bytes received is ${sha256(body)}, not ${sha256('HELLO')}` },
      { ...explain, exact: true },
    );
    expectFiles(dir, [], explain);
  });

  test('a client that half-closes after the body, with no trailer, is refused (not left waiting)', async () => {
    const { port, dir } = await startUploads();
    const bytes = trailerUpload('hello.txt', Buffer.from('hello'), undefined);
    const explain = {
      hint: 'step 10: with no hash in the header, a FIN after the body is a missing trailer: the given onEnd() fails the upload in the "trailer" state',
      repro: serverRepro([], ncLine(bytes, 9000)),
    };
    const answer = await exchange(port, bytes, explain);
    expectAnswer(
      answer,
      {
        ok: false,
        error: 'the connection ended after the body, without the trailer frame (the header had no "sha256")',
      },
      { ...explain, exact: true },
    );
    expectFiles(dir, [], explain);
  });

  test('a trailer sent where a body frame was due counts as body bytes: too short, too long or wrong, never stored', async () => {
    const { port, dir } = await startUploads();
    const body = Buffer.from('hello, world');
    const trailer = frame({ sha256: sha256(body) });
    const explain = {
      hint: 'step 10: a frame is raw bytes; the server counts, and only the frame after the announced size is the trailer',
      repro: serverRepro(
        [],
        ncLine(Buffer.concat([frame({ name: 'early.txt', size: 200 }), frame(body), trailer]), 9000),
      ),
    };
    // 12 bytes, then the trailer's payload, where 200 were announced: the connection ends early.
    const received = body.length + trailer.length - 4;
    const short = Buffer.concat([frame({ name: 'early.txt', size: 200 }), frame(body), trailer]);
    expectAnswer(
      await exchange(port, short, explain),
      { ok: false, error: `the connection ended after ${received} of 200 bytes` },
      {
        ...explain,
        exact: true,
      },
    );
    // Announced 20: the trailer's payload makes the body longer than that.
    const long = Buffer.concat([frame({ name: 'early.txt', size: 20 }), frame(body), trailer]);
    expectAnswer(
      await exchange(port, long, explain),
      { ok: false, error: 'the body is longer than the 20 bytes announced' },
      {
        ...explain,
        exact: true,
      },
    );
    expectFiles(dir, [], explain);
  });

  test('a trailer that never comes is answered "too slow" once the deadline passes; nothing is stored', async () => {
    const ms = 300;
    const { port, dir, log } = await startUploads({ frameTimeoutMs: ms });
    const bytes = trailerUpload('late.txt', Buffer.from('hello'), undefined);
    const explain = {
      hint: "step 10: after the body's last byte the session is in the 'trailer' state, and the deadline runs for the trailer as for any frame: the given tooSlow() answers `too slow: the trailer frame was not complete within MS ms of the body's last byte`",
      repro: serverRepro(['--timeout', String(ms)], ncLine(bytes, 9000, { halfClose: false })),
      ms: 5_000,
    };
    const peer = await connect(port);
    const client = peer.socket.localPort;
    // The header without a hash, the body, then nothing: no trailer, no FIN.
    await send(peer, bytes, explain);
    const error = `too slow: the trailer frame was not complete within ${ms} ms of the body's last byte`;
    expectAnswer(await readAnswer(peer, explain), { ok: false, error }, { ...explain, exact: true });
    expect(log.lines, 'the given fail() logs why the upload was not stored').toContain(
      `client 127.0.0.1:${client}: "late.txt" not stored: ${error}`,
    );
    expectFiles(dir, [], { ...explain, hint: DISCARD_HINT });
  });

  test('with the hash in the header, a frame after the body is no trailer: the upload is stored all the same', async () => {
    const { port, dir } = await startUploads();
    const body = Buffer.from('hello');
    // A header with its hash has no trailer: the frame that follows the body is not read as one.
    const bytes = Buffer.concat([uploadFrames('hello.txt', body), frame({ sha256: 'not a hash' })]);
    const explain = {
      hint: 'step 10: a trailer follows the body only when the header had no "sha256"; the given bodyComplete() finishes at once otherwise, and the given onData() reads no frame in the \'finishing\' state',
      repro: serverRepro([], ncLine(bytes, 9000)),
    };
    expectAnswer(
      await exchange(port, bytes, explain),
      { ok: true, name: 'hello.txt', size: body.length, sha256: sha256(body) },
      { ...explain, exact: true },
    );
    expectStored(dir, 'hello.txt', body, explain);
  });

  test('a trailer that is not JSON, has no 64-hex "sha256", or is over 1 KiB is refused', async () => {
    const { port, dir } = await startUploads();
    const body = Buffer.from('hello');
    const shape = 'the trailer must be {"sha256": "<64 hexadecimal digits>"}';
    const cases: [Uint8Array | object, string][] = [
      [frame('{"sha256": '), 'the trailer is not valid JSON'],
      [frame('null'), shape],
      [{}, shape],
      [{ sha256: 'abc' }, shape],
      [{ sha256: `${sha256(body)}00` }, shape],
      [{ sha256: sha256(body), padding: 'x'.repeat(1024) }, 'the trailer is longer than 1024 bytes'],
    ];
    for (const [trailer, error] of cases) {
      const bytes = trailerUpload('hello.txt', body, trailer);
      const explain = {
        hint: 'step 10: parseTrailer() checks the size, the JSON and the hash, and throws a ProtocolError; receiveTrailer() lets it go to the given onData(), which answers it',
        repro: serverRepro([], ncLine(bytes, 9000)),
      };
      expectAnswer(await exchange(port, bytes, explain), { ok: false, error }, { ...explain, exact: true });
      expectFiles(dir, [], explain);
    }
  });
});
