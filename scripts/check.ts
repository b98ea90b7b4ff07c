/**
 * `npm run check`: the course's own check, the one CI runs. Turbo runs, and caches, for every
 * package: lint, typecheck, the harness's own tests, and per lesson the course check
 * (scripts/check-course.ts: solution passes, starter and mistakes fail, the steps turn green in
 * order, files complete); beside them, the short soak (scripts/soak.ts), the diagrams check
 * (scripts/diagrams.ts) and the portability scan (scripts/portability.ts). Four at a time, each
 * long one in a turbo process of its own, in an order of our own (ONE_AT_A_TIME and
 * LESSONS_LONGEST_FIRST), and a line says when each is done. Then one table of what each lesson's
 * check found, the slowest tasks, the CPU the machine spent (the time no order can beat), and a
 * closing line of totals.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { paint } from '@course/cli/paint';
import { LANGUAGES, parity, SOURCE_LANGUAGE } from '@course/model/editions';
import { listLessons, ROOT } from '@course/model/lessons';
import type { CheckRecord } from './check-course.ts';

const turbo = createRequire(import.meta.url).resolve('turbo/bin/turbo');
const TASKS = [
  'lint',
  'typecheck',
  'selftest',
  'check:lesson',
  'soak:short',
  'diagrams:check',
  'portability',
];
// Four at a time on this 2-core machine: a lesson's check spends most of its time waiting on
// sockets, children and its own liveness bounds (lesson 02's: 13 s of CPU in 75 s), so two at a
// time left the cores idle. Eight at a time was no faster (the cores are then busy throughout)
// and broke timing bounds. Every test, and the soak, must hold on a machine this busy.
/**
 * The tasks that keep both cores busy on their own, measured alone with the CPU the whole machine
 * spent (Chromium's included): the site's browser tests 125 s of CPU in 68 s, the course
 * command's tests 70 s in 36 s, the soak 36 s in 40 s. They run one after another, never two at
 * once beside the lessons' checks, whose tests hold timing bounds; then the short tasks.
 */
const ONE_AT_A_TIME = ['@course/site#selftest', '//#soak:short', '@course/cli#selftest'];
/**
 * Beside them, three lessons' checks at a time, longest first (measured alone, 94 s down to 20 s),
 * so that none starts last and runs on alone. Turbo's own order is arbitrary: the same check took
 * 289 s, 343 s and 345 s by it (lesson 09's check, 90 s, once started at 255 s); 312 s in this
 * order (304 s with all the long tasks in one queue, longest first). A lesson not named here (a
 * new one) starts first.
 */
const LESSONS_LONGEST_FIRST = [
  'chat',
  'concurrency',
  'file-upload',
  'struct-framing',
  'sticky-packets',
  'tcp-server',
  'udp',
  'oop-server',
  'port-reuse',
  'tcp-client',
].map((name) => `@course/${name}#check:lesson`);
const started = Date.now();
const cpuAtStart = machineCpu();
const passThrough = process.argv.slice(2);

// What turbo would run, and what it has cached: a cached task costs nothing, and joins the rest.
const plan = spawnSync(process.execPath, [turbo, 'run', ...TASKS, '--dry=json', ...passThrough], {
  cwd: ROOT,
  encoding: 'utf8',
  env: turboEnv(),
  maxBuffer: 64 * 1024 * 1024,
});
if (plan.status !== 0) {
  process.stderr.write(plan.stderr);
  process.exit(1);
}
const toRun = (
  JSON.parse(plan.stdout) as { tasks: { taskId: string; command: string; cache: { status: string } }[] }
).tasks.filter((t) => t.command !== '<NONEXISTENT>');
const missed = (id: string) => toRun.some((t) => t.taskId === id && t.cache.status !== 'HIT');
const lessons = toRun
  .map((t) => t.taskId)
  .filter((id) => id.endsWith('#check:lesson') && missed(id))
  .sort((a, b) => LESSONS_LONGEST_FIRST.indexOf(a) - LESSONS_LONGEST_FIRST.indexOf(b))
  .map((id) => [id]);
const heavy = ONE_AT_A_TIME.filter(missed).map((id) => [id]);
const rest = toRun
  .map((t) => t.taskId)
  .filter((id) => !lessons.some(([l]) => l === id) && !heavy.some(([h]) => h === id));
const short = rest.length ? [rest] : [];
let runFailed = false;
// One lane for the heavy tasks (and then any lesson left), three for the lessons; the short
// tasks, in one turbo run, go to the first lane with nothing else left to do (they ran last in the
// heavy lane, which then finished 30 s after the lessons').
await Promise.all(
  [
    [heavy, lessons, short],
    [lessons, short],
    [lessons, short],
    [lessons, short],
  ].map(async (queues) => {
    for (let group = next(queues); group; group = next(queues)) {
      const { code, output } = await turboRun(group, group.length > 1 ? 2 : 1);
      const what = group.length > 1 ? `${group.length} short or cached tasks` : group[0];
      const seconds = `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
      console.log(`${code === 0 ? paint.green('✓') : paint.red('✗')} ${paint.dim(seconds)}  ${what}`);
      if (code !== 0) {
        runFailed = true;
        process.stdout.write(output);
      }
    }
  }),
);

let passed = 0;
let failed = 0;
console.log(
  `\n${paint.bold('Lessons')}  ${paint.dim('solution tests · starter · mistakes caught · steps green in order · README words · translations')}`,
);
for (const lesson of listLessons()) {
  const file = join(lesson.dir, '.check', 'result.json');
  if (!existsSync(file)) {
    console.log(`  ${paint.red('✗')} ${lesson.id}: not checked`);
    failed++;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8')) as CheckRecord;
  passed += r.solution.passed;
  failed += r.solution.failed + r.problems;
  const caught = r.mistakes.filter((m) => m.failed > 0).length;
  const mark = r.problems === 0 ? paint.green('✓') : paint.red('✗');
  const skipped = r.solution.skipped ? paint.yellow(`, ${r.solution.skipped} skipped`) : '';
  console.log(
    `  ${mark} ${lesson.id.padEnd(20)} ${r.solution.passed}/${r.solution.passed + r.solution.failed} pass${skipped}` +
      ` · starter fails ${r.starter.failed} · ${caught}/${r.mistakes.length} caught` +
      ` · ladder ${r.ladder.ok ? `${r.ladder.steps}/${r.ladder.steps}` : paint.red('✗')} · ${r.words} words` +
      Object.entries(r.editions ?? {})
        .map(
          ([lang, state]) =>
            ` · ${lang} ${state === 'in sync' ? state : state === 'missing' ? paint.yellow(state) : paint.red(state)}`,
        )
        .join(''),
  );
}
// The top-level README is translated too; the lessons' translations are checked with their lesson.
for (const lang of LANGUAGES.filter((l) => l !== SOURCE_LANGUAGE)) {
  const { state, problems } = parity(ROOT, lang);
  const mark =
    state === 'in sync' ? paint.green('✓') : state === 'missing' ? paint.yellow('·') : paint.red('✗');
  console.log(`  ${mark} ${'README'.padEnd(20)} ${lang} ${state}`);
  if (state === 'missing') continue;
  for (const problem of problems) console.log(`      ${problem}`);
  failed += problems.length;
}
const summaries = thisRunsTasks();
printSlowest(summaries);
printFloor();
// A package's self-test is no lesson test: name a failed task in the closing line, or "0 failed"
// there would read as a pass.
const failedTasks = summaries.filter((t) => (t.execution?.exitCode ?? 0) !== 0).map((t) => t.taskId);
const ok = !runFailed && failed === 0;
console.log(
  `\ncheck: ${passed} passed, ${failed} failed` +
    (failedTasks.length ? `; ${failedTasks.length} task(s) failed: ${failedTasks.join(', ')}` : ''),
);
if (!ok) console.log(paint.red('The course check failed: see the messages above.'));
process.exitCode = ok ? 0 : 1;

interface TaskSummary {
  taskId: string;
  cache: { status: string };
  execution?: { startTime: number; endTime: number; exitCode?: number };
}

/** The next group of tasks to run from the first of `queues` that has one. */
function next(queues: string[][][]): string[] | undefined {
  return queues.find((queue) => queue.length > 0)?.shift();
}

/** Runs `tasks` (`package#task`) in one turbo process, `concurrency` at a time; its output, kept. */
function turboRun(tasks: string[], concurrency: number): Promise<{ code: number; output: string }> {
  const args = ['run', ...tasks, `--concurrency=${concurrency}`, '--continue', '--output-logs=errors-only'];
  const child = spawn(process.execPath, [turbo, ...args, '--summarize', ...passThrough], {
    cwd: ROOT,
    env: turboEnv(),
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ code: 1, output: `${error.message}\n` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

function turboEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };
}

/** Milliseconds the cores of this machine have spent busy since it started, all together. */
function machineCpu(): number {
  return cpus().reduce((sum, { times: t }) => sum + t.user + t.nice + t.sys + t.irq, 0);
}

/**
 * What the whole machine's CPU says about this check's time: the work its tasks did, spread over
 * every core, is as fast as any order of them could finish. Counted for the whole machine
 * (Chromium's renderers, which no parent waits for, included; other programs too).
 */
function printFloor(): void {
  const busy = (machineCpu() - cpuAtStart) / 1000;
  if (busy < 10) return;
  const cores = cpus().length;
  const wall = (Date.now() - started) / 1000;
  console.log(
    `\n${paint.bold('CPU')}  ${Math.round(busy)} s on ${cores} cores (the whole machine's), busy ${Math.round((100 * busy) / cores / wall)}% of the ${Math.round(wall)} s: ` +
      `no order of these tasks can finish in under ${Math.round(busy / cores)} s on this machine`,
  );
}

/** The tasks of this check's turbo processes, from their summaries. */
function thisRunsTasks(): TaskSummary[] {
  const runs = join(ROOT, '.turbo', 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(runs, f))
    .filter((file) => statSync(file).mtimeMs >= started)
    .flatMap((file) => (JSON.parse(readFileSync(file, 'utf8')) as { tasks: TaskSummary[] }).tasks);
}

/** The slowest tasks of this run (cache hits cost nothing). */
function printSlowest(tasks: TaskSummary[], count = 5): void {
  const timed = tasks
    .filter((t) => t.execution && t.cache.status !== 'HIT')
    .map((t) => ({ id: t.taskId, ms: (t.execution?.endTime ?? 0) - (t.execution?.startTime ?? 0) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count);
  if (timed.length === 0) return;
  console.log(`\n${paint.bold('Slowest tasks')}  ${paint.dim('(cached ones cost nothing)')}`);
  for (const t of timed) console.log(`  ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.id}`);
}
