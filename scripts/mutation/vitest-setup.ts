/**
 * A vitest setup file for `npm run mutation` (scripts/mutation.ts), run in the test worker after
 * Stryker's own setup file. It lets the lesson programs that the tests start as child processes
 * (server.ts, client.ts, through @course/helpers' program.ts) take part in mutation testing:
 *
 * - the active mutant: Stryker's switch is `globalThis.__stryker__.activeMutant` in this worker.
 *   Each assignment is mirrored into `process.env.__STRYKER_ACTIVE_MUTANT__`, which the children
 *   inherit and which Stryker's instrumented code itself reads when it loads in a fresh process;
 * - coverage: in the dry run, each child records the mutants its code reaches (child-preload.mjs,
 *   loaded through NODE_OPTIONS) in a file, with the id of the test that started it; after each
 *   test they are merged into this worker's coverage, which Stryker reads at the end of the file.
 *   Code that only a child runs is then "covered" by the test that started that child, and its
 *   mutants are run against exactly those tests, not reported as "no coverage".
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';
import { afterAll, afterEach } from 'vitest';

const ACTIVE_MUTANT_ENV = '__STRYKER_ACTIVE_MUTANT__';
const TEST_ID_ENV = 'COURSE_MUTATION_TEST_ID';
const COVERAGE_ENV = 'COURSE_MUTATION_COVERAGE';
const NODE_OPTIONS_ENV = 'NODE_OPTIONS';

type Coverage = { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
type Namespace = { activeMutant?: string; currentTestId?: string; mutantCoverage?: Coverage };

const holder = globalThis as { __stryker__?: Namespace };
holder.__stryker__ ??= {};
const ns = holder.__stryker__;
// Created here, so that Stryker's afterAll hands this object over even when no mutated code ran
// in this worker itself (a test file that only starts programs).
ns.mutantCoverage ??= { static: {}, perTest: {} };

/** Keeps `ns[key]` and `process.env[env]` equal, whenever and however often Stryker sets it. */
function mirror(key: 'activeMutant' | 'currentTestId', env: string): void {
  let value = ns[key];
  const write = () => {
    if (value === undefined) delete process.env[env];
    else process.env[env] = String(value);
  };
  write();
  Object.defineProperty(ns, key, {
    configurable: true,
    enumerable: true,
    get: () => value,
    set(next: string | undefined) {
      value = next;
      write();
    },
  });
}
mirror('activeMutant', ACTIVE_MUTANT_ENV);
mirror('currentTestId', TEST_ID_ENV);

// Every node process the tests start loads the preload, which records coverage in the dry run
// (while no mutant is active) and does nothing otherwise.
const preload = `--import=${pathToFileURL(join(import.meta.dirname, 'child-preload.mjs')).href}`;
const nodeOptions = process.env[NODE_OPTIONS_ENV] ?? '';
if (!nodeOptions.includes(preload)) process.env[NODE_OPTIONS_ENV] = `${nodeOptions} ${preload}`.trim();
const coverageFile = join(tmpdir(), `course-mutation-${process.pid}-${threadId}.tsv`);
process.env[COVERAGE_ENV] = coverageFile;
rmSync(coverageFile, { force: true });

/** Adds what the children recorded (`testId<TAB>mutantId` lines) to this worker's coverage. */
function mergeChildCoverage(): void {
  if (!existsSync(coverageFile)) return;
  const lines = readFileSync(coverageFile, 'utf8').split('\n');
  rmSync(coverageFile, { force: true });
  ns.mutantCoverage ??= { static: {}, perTest: {} };
  const coverage = ns.mutantCoverage;
  for (const line of lines) {
    const tab = line.lastIndexOf('\t');
    if (tab < 0) continue;
    const testId = line.slice(0, tab);
    const mutant = line.slice(tab + 1);
    if (testId) coverage.perTest[testId] ??= {};
    const hits = testId ? (coverage.perTest[testId] as Record<string, number>) : coverage.static;
    hits[mutant] = (hits[mutant] ?? 0) + 1;
  }
}

// Registered after Stryker's hooks: afterEach runs before its own (which forgets the test id),
// afterAll before it hands the coverage to the runner.
afterEach(mergeChildCoverage);
afterAll(mergeChildCoverage);
