/**
 * `npm run mutation -- NN`: mutation testing of one lesson with StrykerJS. Every solution/*.ts file
 * of the lesson is mutated (an `if` made always true, a `<` made `<=`, a call removed…) and, for
 * each mutant, the lesson's tests run against solution/ (COURSE_TARGET=solution). A mutant the
 * tests do not notice "survives": either a test is missing or the change makes no difference.
 *
 *   npm run mutation -- 07                          lesson 07, every solution file
 *   npm run mutation -- 07 --files line-decoder.ts  some files only (comma-separated)
 *   npm run mutation -- 07 --since main             only the solution files changed since a git ref
 *   npm run mutation -- 07 --concurrency 1 --timeout-factor 4 --out /tmp/reports
 *
 * Stryker works in a sandbox copy of the lesson folder (.stryker-tmp/, removed afterwards), run
 * from the repository root so that the workspace packages resolve through the real node_modules:
 * the work tree itself is never written to, so it stays clean whatever happens to the run.
 *
 * The programs the tests start as child processes (server.ts, client.ts) are measured too:
 * scripts/mutation/vitest-setup.ts hands them the active mutant and brings their coverage back.
 * Prints the score per file and every surviving mutant; exit code 0 unless the run failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { paint } from '@course/cli/paint';
import { closestLessons, findLesson, type LessonInfo, ROOT } from '@course/model/lessons';
import type { LogLevel, MutantResult, PartialStrykerOptions } from '@stryker-mutator/api/core';
import { Stryker } from '@stryker-mutator/core';

/** Where a lesson lists its equivalent mutants (see readEquivalents). */
const EQUIVALENTS_FILE = 'mutation-equivalents.json';

const USAGE = `usage: npm run mutation -- <lesson> [--files a.ts,b.ts] [--since <git ref>]
         [--concurrency N] [--timeout-factor F] [--out <dir>]
         [--equivalents <file>]   (default: the lesson's mutation-equivalents.json)`;

const { values, positionals } = (() => {
  try {
    return parseArgs({
      options: {
        files: { type: 'string' },
        since: { type: 'string' },
        concurrency: { type: 'string', default: '2' },
        'timeout-factor': { type: 'string', default: '3' },
        out: { type: 'string' },
        equivalents: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length !== 1) usageError('name one lesson, by number or name (07, sticky-packets)');
const lesson = findLesson(positionals[0] as string);
if (!lesson) {
  const close = closestLessons(positionals[0] as string).map((l) => l.id);
  usageError(
    `no lesson called '${positionals[0]}'${close.length ? `: did you mean ${close.join(', ')}?` : ''}`,
  );
}
const lessonDir = lesson.dir;
const concurrency = positiveNumber('concurrency', values.concurrency);
const timeoutFactor = positiveNumber('timeout-factor', values['timeout-factor']);

const files = chooseFiles(lesson, values.files, values.since);
if (files.length === 0) {
  console.log(`No solution file of ${lesson.id} changed since ${values.since}: nothing to mutate.`);
  process.exit(0);
}

// The sources as Stryker copies them now, to quote what each mutant replaced even if the files
// change during the run. And the mutants the lesson lists as equivalent (see readEquivalents).
const sources = new Map(files.map((file) => [relative(ROOT, file), readFileSync(file, 'utf8').split('\n')]));
const equivalents = readEquivalents(values.equivalents ?? join(lesson.dir, EQUIVALENTS_FILE));

// Read by the vitest config and setup (scripts/mutation/), in Stryker's test runner processes.
process.env.COURSE_TARGET = 'solution';
process.env.COURSE_MUTATION_LESSON = relative(ROOT, lesson.dir);
process.chdir(ROOT);
const tempDir = join('.stryker-tmp', lesson.id);
// Stryker removes its sandbox at the end of a run; this covers a run cut short (Ctrl-C, a crash).
process.on('exit', () => {
  rmSync(join(ROOT, tempDir), { recursive: true, force: true });
  try {
    rmdirSync(join(ROOT, '.stryker-tmp')); // only when empty: another lesson's run may be using it
  } catch {}
});

const options: PartialStrykerOptions = {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: {
    configFile: join(ROOT, 'scripts', 'mutation', 'vitest.config.ts'),
    // Every test of the lesson may catch a mutant: program tests reach the solution only
    // through a child process, not through an import vitest could follow.
    related: false,
  },
  mutate: files.map((file) => relative(ROOT, file)),
  // The sandbox holds the lessons folder only (lesson 09 imports lesson 08's framing): the
  // sandbox's node_modules, and through it the workspace packages, is a link to the real one.
  // With no root tsconfig.json in the sandbox, Stryker's tsconfig rewriting, which needs
  // TypeScript's JavaScript API (gone in TypeScript 7), has nothing to do.
  ignorePatterns: ['/*', '!/lessons', '/lessons/*/.check'],
  disableTypeChecks: false,
  checkers: [],
  tempDirName: tempDir,
  cleanTempDir: 'always',
  // Each mutant runs against the tests that reach it, in the test process or in a program a
  // test started (the vitest runner always measures per-test coverage, whatever this says).
  coverageAnalysis: 'perTest',
  concurrency,
  // Generous: other work shares the machine's cores, and the tests bound their own waits.
  timeoutFactor,
  timeoutMS: 10_000,
  reporters: [process.stdout.isTTY ? 'progress' : 'progress-append-only'],
  logLevel: 'warn' as LogLevel,
  fileLogLevel: 'off' as LogLevel,
  allowConsoleColors: process.stdout.isTTY === true,
};

console.log(
  paint.bold(`Mutation testing ${lesson.id}`) +
    paint.dim(`  ${files.map((f) => relative(lesson.dir, f)).join(', ')} · concurrency ${concurrency}`),
);
const started = performance.now();
let results: MutantResult[];
try {
  results = await new Stryker(options).runMutationTest();
} catch (error) {
  console.error(`\nStryker failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const seconds = (performance.now() - started) / 1000;
// Stryker names files absolutely; the report names them from the lesson (`solution/server.ts`).
for (const m of results) m.fileName = relative(ROOT, resolve(ROOT, m.fileName));

if (values.out) {
  // Every mutant, for a closer look (the tests that killed it, why it timed out…).
  mkdirSync(values.out, { recursive: true });
  const mutants = results.map(
    ({ fileName, location, mutatorName, replacement, status, statusReason, killedBy, coveredBy }) => ({
      fileName,
      location,
      mutatorName,
      replacement,
      status,
      statusReason,
      killedBy,
      coveredBy: coveredBy?.length,
    }),
  );
  writeFileSync(join(values.out, `${lesson.number}.mutants.json`), `${JSON.stringify(mutants, null, 1)}\n`);
}
const report = formatReport(lesson, results, seconds);
console.log(`\n${report.screen}`);
if (values.out) {
  writeFileSync(join(values.out, `${lesson.number}.txt`), report.plain);
  writeFileSync(join(values.out, `${lesson.number}.json`), `${JSON.stringify(report.summary, null, 2)}\n`);
  writeFileSync(
    join(values.out, `${lesson.number}.undetected.json`),
    `${JSON.stringify(report.draft, null, 2)}\n`,
  );
  console.log(paint.dim(`written to ${join(values.out, `${lesson.number}.txt`)} and .json`));
}

// --- choosing files ---

function chooseFiles(lesson: LessonInfo, only: string | undefined, since: string | undefined): string[] {
  const dir = join(lesson.dir, 'solution');
  let names = listSolution(dir);
  if (only) {
    const wanted = only.split(',').map((name) => name.trim().replace(/^solution\//, ''));
    for (const name of wanted) {
      if (!names.includes(name))
        usageError(`${lesson.id} has no solution/${name} (it has ${names.join(', ')})`);
    }
    names = wanted;
  }
  if (since) {
    const changed = new Set(gitLines(['diff', '--name-only', since, '--', dir]));
    for (const file of gitLines(['ls-files', '--others', '--exclude-standard', '--', dir])) changed.add(file);
    names = names.filter((name) => changed.has(relative(ROOT, join(dir, name))));
  }
  return names.map((name) => join(dir, name));
}

function listSolution(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .sort();
}

function gitLines(args: string[]): string[] {
  const run = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) usageError(`git ${args.join(' ')} failed: ${run.stderr.trim()}`);
  return run.stdout.split('\n').filter(Boolean);
}

// --- the report ---

interface Counts {
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  errors: number;
  /** killed + timeout over killed + timeout + survived + no coverage, in percent. */
  score: number;
}

interface Summary {
  lesson: string;
  seconds: number;
  total: Counts;
  files: Record<string, Counts>;
  /** The score with the mutants listed in EQUIVALENTS_FILE left out. */
  scoreWithoutEquivalents?: number;
}

function count(mutants: MutantResult[]): Counts {
  const of = (status: string) => mutants.filter((m) => m.status === status).length;
  const c = {
    killed: of('Killed'),
    survived: of('Survived'),
    noCoverage: of('NoCoverage'),
    timeout: of('Timeout'),
    errors: of('RuntimeError') + of('CompileError'),
    score: 0,
  };
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  c.score = valid === 0 ? 100 : (100 * (c.killed + c.timeout)) / valid;
  return c;
}

function formatReport(lesson: LessonInfo, mutants: MutantResult[], seconds: number) {
  const byFile = new Map<string, MutantResult[]>();
  for (const m of mutants) {
    const name = relative(lesson.dir, join(ROOT, m.fileName));
    byFile.set(name, [...(byFile.get(name) ?? []), m]);
  }
  const summary: Summary = {
    lesson: lesson.id,
    seconds: Math.round(seconds),
    total: count(mutants),
    files: Object.fromEntries([...byFile].map(([name, ms]) => [name, count(ms)])),
  };

  const header = ['file', 'mutants', 'killed', 'survived', 'no cov', 'timeout', 'score'];
  const row = (name: string, c: Counts) => [
    name,
    String(c.killed + c.survived + c.noCoverage + c.timeout + c.errors),
    String(c.killed),
    String(c.survived),
    String(c.noCoverage),
    String(c.timeout),
    `${c.score.toFixed(1)}%`,
  ];
  const rows = [
    header,
    ...Object.entries(summary.files).map(([n, c]) => row(n, c)),
    row('all', summary.total),
  ];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const table = rows.map((r) =>
    r
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
      .join('  '),
  );

  const undetected = mutants
    .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    .sort(
      (a, b) =>
        a.fileName.localeCompare(b.fileName) ||
        a.location.start.line - b.location.start.line ||
        a.location.start.column - b.location.start.column,
    );
  const describe = (m: MutantResult, why?: string) => {
    const where = `${relative(lesson.dir, join(ROOT, m.fileName))}:${m.location.start.line}:${m.location.start.column}`;
    const status = m.status === 'NoCoverage' ? ' (no coverage)' : '';
    const change = `${oneLine(originalOf(m))} → ${oneLine(m.replacement)}`;
    return `${where}  ${m.mutatorName}${status}\n    ${change}${why ? `\n    equivalent: ${why}` : ''}`;
  };
  const listed = undetected.filter((m) => equivalenceOf(m));
  const lines = undetected.filter((m) => !equivalenceOf(m)).map((m) => describe(m));
  const listedLines = listed.map((m) => describe(m, equivalenceOf(m)?.why));
  // Only for the files mutated in this run (--files, --since may leave some out).
  const mutated = new Set([...byFile.keys()]);
  const stale = equivalents.filter((e) => mutated.has(e.file) && !undetected.some((m) => matches(e, m)));
  const notes = [
    ...(listedLines.length
      ? ['', `Listed as equivalent in ${EQUIVALENTS_FILE} (${listedLines.length}):`, ...listedLines]
      : []),
    ...(stale.length
      ? [
          '',
          `Listed in ${EQUIVALENTS_FILE} but detected now, or gone (${stale.length}): remove them`,
          ...stale.map((e) => `${e.file}  ${e.mutator}  ${e.original} → ${e.replacement}`),
        ]
      : []),
  ];

  const c = summary.total;
  const minutes = `${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s`;
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  const withoutListed =
    valid - listed.length === 0 ? 100 : (100 * (c.killed + c.timeout)) / (valid - listed.length);
  summary.scoreWithoutEquivalents = withoutListed;
  const headline =
    `${lesson.id}: mutation score ${c.score.toFixed(1)}% — ${c.killed} killed, ${c.survived} survived, ` +
    `${c.noCoverage} no coverage, ${c.timeout} timeout${c.errors ? `, ${c.errors} errors` : ''} (${minutes})` +
    (listed.length
      ? `\n${withoutListed.toFixed(1)}% leaving out the ${listed.length} mutants listed as equivalent`
      : '');
  const plainParts = [
    headline,
    '',
    ...table,
    '',
    lines.length ? `Mutants the tests do not detect (${lines.length}):` : 'Every mutant is detected.',
    ...lines,
    ...notes,
  ];
  const screen = [
    paint.bold(headline),
    '',
    paint.dim(table[0] as string),
    ...table.slice(1),
    '',
    ...(lines.length
      ? [paint.yellow(`Mutants the tests do not detect (${lines.length}):`), ...lines]
      : [paint.green('Every mutant is detected, or listed as equivalent.')]),
    ...notes,
  ];
  // The undetected mutants in the form of EQUIVALENTS_FILE, for whoever sorts them out.
  const draft = undetected.map((m) => ({ ...keyOf(m), why: equivalenceOf(m)?.why ?? '' }));
  return { summary, draft, plain: `${plainParts.join('\n')}\n`, screen: screen.join('\n') };
}

// --- equivalent mutants ---

/**
 * A lesson's mutation-equivalents.json lists the surviving mutants that no test can kill because
 * they change nothing a learner or a peer can observe, each with why:
 *   [{ "file": "solution/client.ts", "mutator": "StringLiteral", "original": "'MS'",
 *      "replacement": "\"\"", "why": "the placeholder of --timeout in --help; no test reads it" }]
 * A mutant is matched by file, mutator, and the text before and after (not by line, which moves);
 * where that text occurs more than once (`true` → `false`), "line" holds a piece of the source
 * line the mutant is on, which must match too.
 */
interface Equivalent {
  file: string;
  mutator: string;
  original: string;
  replacement: string;
  line?: string;
  why: string;
}

function readEquivalents(path: string): Equivalent[] {
  if (!existsSync(path)) {
    if (values.equivalents) usageError(`${path} does not exist`);
    return [];
  }
  const list = JSON.parse(readFileSync(path, 'utf8')) as Equivalent[];
  for (const e of list) {
    if (!e.file || !e.mutator || e.original === undefined || e.replacement === undefined || !e.why) {
      usageError(`${relative(ROOT, path)}: every entry needs file, mutator, original, replacement and why`);
    }
  }
  return list;
}

function keyOf(m: MutantResult): Omit<Equivalent, 'why' | 'line'> {
  return {
    file: relative(lessonDir, join(ROOT, m.fileName)),
    mutator: m.mutatorName,
    original: oneLine(originalOf(m), Number.POSITIVE_INFINITY),
    replacement: oneLine(m.replacement, Number.POSITIVE_INFINITY),
  };
}

function matches(e: Equivalent, m: MutantResult): boolean {
  const k = keyOf(m);
  return (
    e.file === k.file &&
    e.mutator === k.mutator &&
    oneLine(e.original, Number.POSITIVE_INFINITY) === k.original &&
    oneLine(e.replacement, Number.POSITIVE_INFINITY) === k.replacement &&
    (e.line === undefined || (sources.get(m.fileName)?.[m.location.start.line - 1] ?? '').includes(e.line))
  );
}

function equivalenceOf(m: MutantResult): Equivalent | undefined {
  return equivalents.find((e) => matches(e, m));
}

/** The source text a mutant replaces (Stryker's results count lines and columns from 1). */
function originalOf(m: MutantResult): string {
  const lines = sources.get(m.fileName) ?? [];
  const { start, end } = m.location;
  if (start.line === end.line) return (lines[start.line - 1] ?? '').slice(start.column - 1, end.column - 1);
  const first = (lines[start.line - 1] ?? '').slice(start.column - 1);
  const last = (lines[end.line - 1] ?? '').slice(0, end.column - 1);
  return [first, ...lines.slice(start.line, end.line - 1), last].join('\n');
}

function oneLine(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, 60)} … ${flat.slice(-30)}` : flat;
}

function positiveNumber(name: string, raw: unknown): number {
  const n = Number(raw);
  if (!(n > 0)) usageError(`--${name} must be a positive number, not '${raw}'`);
  return n;
}

function usageError(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}
