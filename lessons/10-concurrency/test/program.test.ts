import { connect, LIVENESS_MS, lessonOf, reproSetup } from '@course/helpers';
import { describe, expect, test } from 'vitest';

// The real program, run as a learner runs it: `npx tsx lessons/10-concurrency/exercise/server.ts`.
const lesson = lessonOf(import.meta.url);

describe('the program: server.ts', () => {
  test('documents its flags in --help, exits 2 on a bad value, and 0 on Ctrl-C even mid-hash', async () => {
    const [server, help, badMode, badWorkers] = await Promise.all([
      lesson.startServer('server', ['--workers', '1', '--max-connections', '2']),
      lesson.run('server', ['--help']),
      lesson.run('server', ['--mode', 'fast']),
      lesson.run('server', ['--workers', '0']),
    ]);
    expect(help.code, '--help exits 0').toBe(0);
    for (const flag of [
      '--mode',
      '--workers',
      '--max-queue',
      '--max-rounds',
      '--max-line',
      '--timeout',
      '--port',
    ])
      expect(help.stdout, `--help lists ${flag}`).toContain(`${flag} `);
    expect(badMode.code, '--mode fast is bad usage: exit 2').toBe(2);
    expect(badMode.stderr, 'one clear line on stderr').toMatch(/--mode must be inline, workers or processes/);
    expect(badWorkers.code, '--workers 0 is bad usage: exit 2').toBe(2);

    reproSetup({ serverArgs: ['--workers', '1', '--max-connections', '2'] });
    const [peer, watcher] = await Promise.all([connect(server.port), connect(server.port)]);
    // One more than --max-connections: told so, and closed.
    await watcher.write('ping\n');
    await watcher.lines(1, { ms: LIVENESS_MS });
    const third = await connect(server.port);
    expect((await third.closed({ ms: LIVENESS_MS, allowReset: true })).toString()).toBe(
      'ERR too many connections\n',
    );
    // A hash far too long to finish (about 30 s here); stats on another connection (on this one it
    // would wait for the hash) until its thread has it. A server without stats yet (ERR unknown
    // command) is not asked again: there is nothing to wait for.
    await peer.write('hash 10000000 x\n');
    let asked = 1;
    for (;;) {
      await watcher.write('stats\n');
      asked += 1;
      const line = (await watcher.lines(asked, { ms: LIVENESS_MS })).at(-1) ?? '';
      if (/ busy=1 /.test(line) || !line.startsWith('stats ') || asked >= 40) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stopAsked = performance.now();
    const result = await server.stop('SIGINT');
    const took = performance.now() - stopAsked;
    expect(result.code, 'Ctrl-C mid-hash: the threads are stopped and the program exits 0').toBe(0);
    // The hash alone would take about 30 s: a program that waits for it (or for its thread to
    // notice) has not stopped its threads. Within a second on an idle machine; 5 s for a busy one.
    expect(
      took,
      `Ctrl-C mid-hash took ${Math.round(took)} ms: terminate the threads (worker.terminate()) instead of waiting for the hash`,
    ).toBeLessThan(5_000);
  });

  test('inline too, Ctrl-C stops the program cleanly (exit 0)', async () => {
    const server = await lesson.startServer('server', ['--mode', 'inline']);
    const result = await server.stop('SIGINT');
    expect(result.code, `Ctrl-C with --mode inline (no pool to close); stderr: ${result.stderr}`).toBe(0);
  });

  test('--help gives each flag with its default; a value out of range exits 2 and names the range', async () => {
    const refused: [string[], string][] = [
      [['--workers', '257'], '--workers must be a whole number from 1 to 256'],
      [['--max-queue=-1'], '--max-queue must be a whole number of at least 0'],
      [['--max-rounds', '0'], '--max-rounds must be a whole number of at least 1'],
      [['--max-line', '16777217'], '--max-line must be a whole number from 1 to 16777216'],
      [['--max-connections', '0'], '--max-connections must be a whole number of at least 1'],
      [['--timeout', '0'], '--timeout must be a whole number from 1 to 2147483647'],
      [['--mode', 'processes', '--processes', '65'], '--processes must be a whole number from 1 to 64'],
    ];
    const [help, ...runs] = await Promise.all([
      lesson.run('server', ['--help']),
      ...refused.map(([args]) => lesson.run('server', args)),
    ]);
    expect(help?.stdout, '--help says what the program does').toMatch(
      /^Answers ping, hash .+ stats, many clients at once\.$/m,
    );
    for (const [flag, value, fallback] of [
      ['mode', 'MODE', 'workers'],
      ['processes', 'N', ': os.availableParallelism()'],
      ['workers', 'N', ': os.availableParallelism()'],
      ['max-queue', 'N', '1000'],
      ['max-rounds', 'N', '10000000'],
      ['max-line', 'BYTES', '65536'],
      ['max-connections', 'N', '1000'],
      ['timeout', 'MS', '30000'],
    ])
      expect(help?.stdout, `--help: --${flag}, what it is for and its default`).toMatch(
        new RegExp(
          `^  --${flag} ${value} +\\S.* \\(default ?${fallback?.replace(/[().]/g, '\\$&')}\\)$`,
          'm',
        ),
      );
    for (const [i, [args, message]] of refused.entries()) {
      expect(runs[i]?.code, `${args.join(' ')}: bad usage, exit 2`).toBe(2);
      expect(runs[i]?.stderr, `${args.join(' ')}: one line that names the range`).toMatch(
        new RegExp(
          `^server\\.ts: ${message.replace(/[-.]/g, '\\$&')}, not '[^']*' \\(see server\\.ts --help\\)\\n$`,
        ),
      );
    }
  });
});
