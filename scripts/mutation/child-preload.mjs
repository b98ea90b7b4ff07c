// Loaded (through NODE_OPTIONS, set by vitest-setup.ts) into every node process that a lesson's
// tests start during `npm run mutation`.
//
// In Stryker's dry run (no mutant active) it records which mutants this process reaches, so that
// code run only by a child program counts as covered by the test that started it. Each mutant id
// is appended once, at once: a program the harness stops with SIGKILL has lost nothing. With a
// mutant active it records nothing: the instrumented code reads the active mutant from the
// environment by itself.
//
// Either way, the process exits when the test worker that started it is gone (a run cut short by
// Ctrl-C kills the worker before the harness could stop its programs).
import { appendFileSync } from 'node:fs';

const COVERAGE_ENV = 'COURSE_MUTATION_COVERAGE';
const TEST_ID_ENV = 'COURSE_MUTATION_TEST_ID';
const ACTIVE_MUTANT_ENV = '__STRYKER_ACTIVE_MUTANT__';

const file = process.env[COVERAGE_ENV];
if (file && !process.env[ACTIVE_MUTANT_ENV]) {
  const testId = process.env[TEST_ID_ENV] ?? '';
  const seen = new Set();
  const record = new Proxy(
    {},
    {
      set(target, mutant, hits) {
        if (typeof mutant === 'string' && !seen.has(mutant)) {
          seen.add(mutant);
          appendFileSync(file, `${testId}\t${mutant}\n`);
        }
        target[mutant] = hits;
        return true;
      },
    },
  );
  // Stryker's instrumented code counts a hit in `static` when no test id is set, as here.
  globalThis.__stryker__ = { mutantCoverage: { static: record, perTest: {} } };
}

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 500).unref();
