/**
 * `npm run stress`: the solution tests under load, to find timing that only holds on an idle
 * machine. Starts busy-loop processes (default 8, four per core on a 2-core laptop), then runs
 * every lesson's tests against solution/ several times (default 10), each in an order shuffled
 * from its own seed, and prints each run's failures with the seed that replays them:
 * `COURSE_SHUFFLE=<seed> npm run test:solutions`.
 *
 *   npm run stress                         10 runs, 8 busy loops
 *   npm run stress -- --runs 3 --hogs 4 07 lessons named as for npm test
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { passedAll } from '@course/cli/report';
import { runLessonTests } from '@course/cli/run-tests';
import { findLesson, listLessons } from '@course/model/lessons';

const { values, positionals } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    hogs: { type: 'string', default: '8' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
  },
  allowPositionals: true,
});
const lessons = positionals.length
  ? positionals.map((name) => findLesson(name) ?? usage(`no lesson '${name}'`))
  : listLessons();
const runs = Number(values.runs);
const firstSeed = Number(values.seed);

function usage(problem: string): never {
  console.error(`stress: ${problem}`);
  process.exit(2);
}

const hogs: ChildProcess[] = Array.from({ length: Number(values.hogs) }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
const stopHogs = () => {
  for (const hog of hogs) hog.kill('SIGKILL');
};
process.on('exit', stopHogs);
process.on('SIGINT', () => process.exit(130));

let failures = 0;
try {
  for (let run = 0; run < runs; run++) {
    const seed = firstSeed + run;
    // The shuffle is read by the shared vitest config when the run starts.
    process.env.COURSE_SHUFFLE = String(seed);
    const started = performance.now();
    const results = await runLessonTests(lessons, 'solution');
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const failed = results.filter((r) => !passedAll(r));
    failures += failed.reduce((n, r) => n + r.failed.length + r.stray.length + r.loadErrors.length, 0);
    console.log(
      `run ${run + 1}/${runs}  seed ${seed}  ${seconds} s  ${failed.length ? `FAILED: ${failed.map((r) => r.lesson.id).join(', ')}` : 'all pass'}`,
    );
    for (const r of failed) {
      for (const f of r.failed)
        console.log(
          `  ✗ ${r.lesson.id} › ${f.name}\n    ${f.message.split('\n').slice(0, 6).join('\n    ')}`,
        );
      for (const e of r.stray)
        console.log(`  ✗ ${r.lesson.id} › ${e.test ?? 'outside any test'}: ${e.message.split('\n')[0]}`);
      for (const e of r.loadErrors) console.log(`  ✗ ${r.lesson.id}: ${e.split('\n')[0]}`);
    }
  }
} finally {
  stopHogs();
}
console.log(`\n${runs} runs with ${hogs.length} busy loops: ${failures} failure(s)`);
process.exitCode = failures === 0 ? 0 : 1;
