import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, lessonOf } from '@course/helpers';
import { describe, expect, test } from 'vitest';
import {
  expectAnswer,
  frame,
  listFiles,
  readAnswer,
  serverLine,
  sha256,
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
      lesson.startServer('server', ['--dir', dir, '--timeout', '1000']),
      lesson.run('client', ['--port', String(refusing.port), join(root, 'notes..txt')]),
      lesson.run('client', ['--port', String(refusing.port), join(root, 'nothing-here.txt')]),
    ]);
    expect(existsSync(dir), '--dir is created when it is missing').toBe(true);
    // --timeout: a client that sends nothing at all is answered once the header's time is up.
    const silent = await connect(server.port);
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
});
