import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { closeAfterTest, connect, lessonOf, listen } from '@course/helpers';
import { parseCommandLine } from '@course/program';
import { describe, expect, test, vi } from 'vitest';
import { serverProgram } from '#impl/server.ts';
import {
  expectAnswer,
  frame,
  listFiles,
  readAnswer,
  serverLine,
  sha256,
  splitFrames,
  startUploads,
  tempRoot,
} from './support.ts';

// The real programs, run as a learner runs them: `npx tsx lessons/09-file-upload/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

describe('the programs: server.ts and client.ts', () => {
  test('the client uploads (plain progress lines when not on a terminal), exit codes 0, 1 and 2; Ctrl-C stops the server', async () => {
    const { root, dir } = tempRoot();
    const body = randomBytes(300_000);
    writeFileSync(join(root, 'photo.jpg'), body);
    writeFileSync(join(root, 'notes..txt'), 'two dots');
    // Each program costs a moment of CPU to start: four in all, three of them at once. The
    // refusal comes from a server in this process, so that it needs no program of its own.
    const refusing = await startUploads();
    const [server, refused, usage] = await Promise.all([
      lesson.startServer('server', [
        '--dir',
        dir,
        '--timeout',
        '1000',
        '--max-frame',
        '65536',
        '--budget',
        '8000000',
        '--max-connections',
        '16',
      ]),
      lesson.run('client', ['--port', String(refusing.port), join(root, 'notes..txt')]),
      lesson.run('client', ['--port', String(refusing.port), join(root, 'nothing-here.txt')]),
    ]);
    expect(existsSync(dir), '--dir is created when it is missing').toBe(true);
    // --timeout: a client that sends nothing at all is answered once the header's time is up.
    const silent = await connect(server.port);
    // --max-frame: a body frame of 65537 bytes is refused as soon as its length is read.
    const big = await connect(server.port);
    const tooBig = Buffer.alloc(4);
    tooBig.writeUInt32BE(65_537);
    await big.write(Buffer.concat([frame({ name: 'big.bin', size: 65_537, sha256: sha256('x') }), tooBig]));
    expect(
      refused.code,
      `the server's error: exit 1 (the client printed ${JSON.stringify(refused.stdout.trim().split('\n').at(-1))})`,
    ).toBe(1);
    expect(refused.stderr, "the client prints the server's error on stderr").toBe(
      'the server refused the upload: refused name "notes..txt": it contains ".."\n',
    );
    expect(
      refused.stdout.split('\n').filter((line) => line.endsWith('(100%)')),
      'all sent is not stored: the progress line says "waiting for the answer" until the server said ok',
    ).toEqual([]);
    expect(usage.code, 'a FILE that cannot be read: exit 2').toBe(2);
    expect(usage.stderr, 'one line on stderr for a FILE that cannot be read').toBe(
      `client.ts: cannot read ${join(root, 'nothing-here.txt')}: no such file or directory (ENOENT) (see client.ts --help)\n`,
    );

    const ok = await lesson.run('client', ['--port', String(server.port), join(root, 'photo.jpg')]);
    expect(ok.stderr, `an upload to ${server.port} that works prints nothing on stderr`).toBe('');
    expect(ok.code, 'an upload the server stored: exit 0').toBe(0);
    const lines = ok.stdout.trimEnd().split('\n');
    const answer = { ok: true, name: 'photo.jpg', size: body.length, sha256: sha256(body) };
    expect(lines.at(-1), "the last line is the server's answer, as JSON").toBe(JSON.stringify(answer));
    expect(lines[0], 'stdout is not a terminal here: plain progress lines').toBe(
      `sent 0 of ${body.length} bytes (0%)`,
    );
    expect(lines, 'the last progress line, before the answer').toContain(
      `sent ${body.length} of ${body.length} bytes (100%), waiting for the answer`,
    );
    expect(lines.at(-2), 'once the server said ok: the total and the rate').toMatch(
      /^sent 293\.0 KiB in \d+\.\d\d s \(.+\/s\)$/,
    );
    expect(readFileSync(join(dir, 'photo.jpg')).equals(body), 'the stored photo.jpg is the file sent').toBe(
      true,
    );
    const silentExplain = {
      hint: 'the server program passes --timeout MS as the frameTimeoutMs option',
      repro: `${serverLine(['--timeout', '1000'])}\nnc 127.0.0.1 9000     # in another, and wait`,
      ms: 10_000,
    };
    const bigExplain = {
      hint: 'the server program passes --max-frame BYTES as the maxFrameBytes option',
      repro: serverLine(['--max-frame', '65536']),
    };
    expectAnswer(
      await readAnswer(big, bigExplain),
      { ok: false, error: 'a frame of 65537 bytes is over the limit of 65536 bytes' },
      { ...bigExplain, exact: true },
    );
    expectAnswer(
      await readAnswer(silent, silentExplain),
      { ok: false, error: 'too slow: the header frame was not complete within 1000 ms' },
      { ...silentExplain, exact: true },
    );

    await server.waitForLine(
      / stored "photo\.jpg" \(300000 bytes, sha256 [0-9a-f]{64}\)$/,
      'a `stored` log line',
    );
    // Ctrl-C in the middle of an upload: its temporary file is removed before the server exits.
    const half = await connect(server.port);
    await half.write(
      Buffer.concat([frame({ name: 'half.bin', size: 10, sha256: sha256('0123456789') }), frame('01234')]),
    );
    await server.waitForLine(/ uploads "half\.bin" \(10 bytes\)$/, 'an `uploads "half.bin"` log line');
    const stopped = await server.stop('SIGINT');
    expect(stopped.code, 'on SIGINT the server should exit 0').toBe(0);
    expect(
      listFiles(dir),
      'after Ctrl-C mid-upload, only the stored file is left: no temporary file',
    ).toEqual(['photo.jpg']);
  });

  test("the client: the server's error with its controls made visible, --timeout, and the usage errors (exit 2)", async () => {
    const { root } = tempRoot();
    const file = join(root, 'f.txt');
    writeFileSync(file, 'hi\n');
    mkdirSync(join(root, 'folder'));
    // A hostile server: its error would clear the screen, set the title and turn the line around.
    const hostile = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.resume();
      socket.end(frame({ ok: false, error: 'no\x1b[2J\x1b]0;pwned\x07\u202e\u009b5m\nthanks' }));
    });
    closeAfterTest(() => hostile.close());
    // A silent one: it reads, and never answers nor closes (allowHalfOpen: the client's FIN does not close it).
    const silent = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => {});
      socket.resume();
      closeAfterTest(() => socket.destroy());
    });
    closeAfterTest(() => silent.close());
    const [hostilePort, silentPort] = await Promise.all([listen(hostile), listen(silent)]);
    const [shown, timedOut, zero, folder] = await Promise.all([
      lesson.run('client', ['--port', String(hostilePort), file]),
      lesson.run('client', ['--port', String(silentPort), '--timeout', '600', file]),
      lesson.run('client', ['--port', String(silentPort), '--frame-bytes', '0', file]),
      lesson.run('client', ['--port', String(silentPort), join(root, 'folder')]),
    ]);
    expect(shown.code, "the server's error: exit 1").toBe(1);
    expect(
      shown.stderr,
      "the given runClient() prints the server's words through visible(): a peer's text never reaches the terminal raw",
    ).toBe(
      'the server refused the upload: no\\u001b[2J\\u001b]0;pwned\\u0007\\u202e\\u009b5m\\u000athanks\n',
    );
    expect(timedOut.code, 'a server silent for --timeout MS: exit 1').toBe(1);
    expect(timedOut.stderr, 'step 9: --timeout MS is the timeoutMs option').toBe(
      `127.0.0.1:${silentPort} sent nothing for 600 ms (ETIMEDOUT)\n`,
    );
    expect([zero.code, zero.stderr], '--frame-bytes 0 is bad usage').toEqual([
      2,
      "client.ts: --frame-bytes must be a whole number from 1 to 16777216, not '0' (see client.ts --help)\n",
    ]);
    expect([folder.code, folder.stderr], 'a directory is not a file to upload').toEqual([
      2,
      `client.ts: cannot upload ${join(root, 'folder')}: it is not a regular file (see client.ts --help)\n`,
    ]);
  });

  test('the server: --help names every option; a --dir it cannot use or write to is one clear line, exit 1', async () => {
    const { root } = tempRoot();
    writeFileSync(join(root, 'a-file'), 'not a directory');
    const [help, notDirectory] = await Promise.all([
      lesson.run('server', ['--help']),
      lesson.run('server', ['--dir', join(root, 'a-file', 'uploads')]),
    ]);
    expect(help.code, '--help exits 0').toBe(0);
    expect(help.stdout.split('\n').slice(0, 3), 'server.ts --help: its usage line and summary').toEqual([
      'usage: server.ts [options]',
      '',
      'Receives files (a header frame, then body frames) and stores them, checked, in --dir.',
    ]);
    for (const line of [
      '--dir DIR            where files are stored (default ./uploads, created if missing)',
      '--max-frame BYTES    largest frame accepted (default 1048576)',
      '--budget BYTES       most bytes all uploads together may hold in memory; an upload that would go over is answered "server busy" (default 67108864)',
      '--max-connections N  most connections open at once; more are closed at once (default 256)',
      '--timeout MS         each frame (the header, then each body frame) must be complete within MS of the one before it, or of connecting (default 30000)',
    ]) {
      expect(help.stdout, 'server.ts --help lists each option with its default').toContain(line);
    }
    expect([notDirectory.code, notDirectory.stderr], 'a --dir under a regular file').toEqual([
      1,
      `cannot use --dir ${join(root, 'a-file', 'uploads')}: not a directory (ENOTDIR)\n`,
    ]);
  });

  test('the server: a --dir it may not write to (read-only, permission) says `cannot write to`; others `cannot use`', () => {
    // Root may write anywhere, and a read-only file system cannot be made in a test: the server
    // is given a create() that fails as createUploadServer() would, with each error code.
    const dir = '/srv/uploads';
    const cases: [string, string][] = [
      ['EROFS', `cannot write to --dir ${dir}: read-only file system (EROFS)`],
      ['EACCES', `cannot write to --dir ${dir}: permission denied (EACCES)`],
      ['EPERM', `cannot write to --dir ${dir}: operation not permitted (EPERM)`],
      ['ENOTDIR', `cannot use --dir ${dir}: not a directory (ENOTDIR)`],
    ];
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => written.push(String(text)) > 0);
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw Object.assign(new Error('exit'), { exitCode: code });
    });
    closeAfterTest(() => vi.restoreAllMocks());
    const said = cases.map(([code]) => {
      written.length = 0;
      const program = serverProgram(() => {
        throw Object.assign(new Error(`${code}: it failed, mkdir '${dir}'`), { code });
      });
      try {
        program.create(parseCommandLine(program.spec, ['--dir', dir]));
        return 'no exit';
      } catch (error) {
        return `exit ${(error as { exitCode?: number }).exitCode}: ${written.join('')}`;
      }
    });
    vi.restoreAllMocks();
    expect(
      said,
      'the given serverProgram(): EROFS, EACCES and EPERM say `cannot write to --dir DIR`',
    ).toEqual(cases.map(([, message]) => `exit 1: ${message}\n`));
  });

  test('the server: a flag out of its range is bad usage, exit 2, one line', async () => {
    const { dir } = tempRoot();
    // --budget must hold two frames being assembled and a full file queue (1 MiB): with
    // --max-frame 70000, 2 * 70000 + 1048576.
    const cases: [string[], string][] = [
      [['--max-frame', '100'], "--max-frame must be a whole number from 4096 to 16777216, not '100'"],
      [['--budget', '1000'], "--budget must be a whole number of at least 3145728, not '1000'"],
      [
        ['--max-frame', '70000', '--budget', '100'],
        "--budget must be a whole number of at least 1188576, not '100'",
      ],
      [['--max-connections', '0'], "--max-connections must be a whole number of at least 1, not '0'"],
    ];
    const runs = await Promise.all(cases.map(([flags]) => lesson.run('server', ['--dir', dir, ...flags])));
    runs.forEach((run, i) => {
      const [flags, message] = cases[i] as [string[], string];
      expect([run.code, run.stderr], `server.ts ${flags.join(' ')}: the given serverProgram()`).toEqual([
        2,
        `server.ts: ${message} (see server.ts --help)\n`,
      ]);
    });
  });

  test('--hash-first: the hash in the header and no trailer; by default, a header without it and the trailer last', async () => {
    const { root } = tempRoot();
    const body = randomBytes(100_000);
    const file = join(root, 'data.bin');
    writeFileSync(file, body);
    // A stand-in server that records the frames of each upload and answers ok for them.
    const uploads: Buffer[][] = [];
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => {
        const { frames } = splitFrames(Buffer.concat(chunks));
        uploads.push(frames);
        const answer = frame({ ok: true, name: 'data.bin', size: body.length, sha256: sha256(body) });
        socket.end(answer);
      });
      socket.on('error', () => {});
    });
    closeAfterTest(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = await listen(server);
    const [first, oneRead] = await Promise.all([
      lesson.run('client', ['--port', String(port), '--hash-first', file]),
      lesson.run('client', ['--port', String(port), file]),
    ]);
    expect(
      [first.code, oneRead.code],
      `both uploads exit 0 (stderr: ${first.stderr}${oneRead.stderr})`,
    ).toEqual([0, 0]);
    const headers = uploads.map((frames) => JSON.parse((frames[0] as Buffer).toString()) as object);
    expect(headers, 'the header with --hash-first, and without').toContainEqual({
      name: 'data.bin',
      size: body.length,
      sha256: sha256(body),
    });
    expect(headers, 'the header with --hash-first, and without').toContainEqual({
      name: 'data.bin',
      size: body.length,
    });
    const trailing = uploads.find((frames) => !('sha256' in JSON.parse((frames[0] as Buffer).toString())));
    expect(
      JSON.parse((trailing?.at(-1) ?? Buffer.from('null')).toString()),
      'without --hash-first, the last frame is the trailer',
    ).toEqual({ sha256: sha256(body) });
    expect(oneRead.stdout, 'the closing line the bench reads').toMatch(/^sent .* in \d+\.\d+ s /m);
  });
});
