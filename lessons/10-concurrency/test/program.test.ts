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
    // would wait for the hash) until its thread has it.
    await peer.write('hash 10000000 x\n');
    let asked = 1;
    for (;;) {
      await watcher.write('stats\n');
      asked += 1;
      const line = (await watcher.lines(asked, { ms: LIVENESS_MS })).at(-1) ?? '';
      if (/ busy=1 /.test(line) || asked >= 40) break;
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
});
