/**
 * `npm run check`: the course's own check, the one CI runs. Turbo runs, and caches, for every
 * package: lint, typecheck, the harness's own tests, and per lesson the course check
 * (scripts/check-course.ts: solution passes, starter and mistakes fail, the steps turn green in
 * order, files complete); beside them, the short soak (scripts/soak.ts), the diagrams check
 * (scripts/diagrams.ts) and the portability scan (scripts/portability.ts). Then one table of what
 * each lesson's check found, the slowest tasks, and a closing line of totals.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { paint } from '@course/cli/paint';
import { LANGUAGES, parity, SOURCE_LANGUAGE } from '@course/model/editions';
import { listLessons, ROOT } from '@course/model/lessons';
import type { CheckRecord } from './check-course.ts';

const turbo = createRequire(import.meta.url).resolve('turbo/bin/turbo');
// Four at a time on this 2-core machine: a lesson's check spends most of its time waiting on
// sockets, children and its own liveness bounds (lesson 08's: 30 s of CPU in 97 s), so two at a
// time left the cores idle. Every test must hold on a machine this busy; so must the soak, whose
// 40 s alone would otherwise come after everything else (its bounds are for a busy machine).
// Eight at a time was no faster (the cores are then busy throughout) and broke timing bounds.
const tasks = [
  'lint',
  'typecheck',
  'selftest',
  'check:lesson',
  'soak:short',
  'diagrams:check',
  'portability',
];
const run = spawnSync(
  process.execPath,
  [
    turbo,
    'run',
    ...tasks,
    '--concurrency=4',
    '--continue',
    '--output-logs=errors-only',
    '--summarize',
    ...process.argv.slice(2),
  ],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
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
// A package's self-test is no lesson test: name a failed task in the closing line, or "0 failed"
// there would read as a pass.
const failedTasks = summaries.filter((t) => (t.execution?.exitCode ?? 0) !== 0).map((t) => t.taskId);
const ok = run.status === 0 && failed === 0;
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

/** The tasks of this check's turbo run, from its summary. */
function thisRunsTasks(): TaskSummary[] {
  const runs = join(ROOT, '.turbo', 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(runs, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    .slice(0, 1)
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
