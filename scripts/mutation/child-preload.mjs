// Loaded (through NODE_OPTIONS, set by vitest-setup.ts) into every node process that a lesson's
// tests start during `npm run mutation`.
//
// In Stryker's dry run (no mutant active) it records which mutants this process reaches, so that
// code run only by a child program counts as covered by the test that started it. Each mutant id
// is appended once, at once: a program the harness stops with SIGKILL has lost nothing. With a
// mutant active it records nothing: the instrumented code reads the active mutant from the
// environment by itself.
//
// Node runs a preload in the main thread only, so in the dry run every worker thread the program
// starts (lesson 10's pool) is made to load this file first: what only a thread runs is covered too.
//
// Either way, the process exits when the test worker that started it is gone (a run cut short by
// Ctrl-C kills the worker before the harness could stop its programs).
import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const COVERAGE_ENV = 'COURSE_MUTATION_COVERAGE';
const TEST_ID_ENV = 'COURSE_MUTATION_TEST_ID';
const ACTIVE_MUTANT_ENV = '__STRYKER_ACTIVE_MUTANT__';

const file = process.env[COVERAGE_ENV];
if (file && !process.env[ACTIVE_MUTANT_ENV]) {
  const testId = process.env[TEST_ID_ENV] ?? '';
  // Instrumented code counts a hit as `static[id] = (static[id] || 0) + 1`. Only the first read
  // of an id misses the object's own properties and reaches its prototype, where it is noted;
  // after that the count is a plain property, as fast as without the preload. (A Proxy on the
  // object itself made every hit a trap: a program's hot loop ran many times slower, and a test
  // that needs it fast, such as a server outrunning its client, no longer reached the code it tests.)
  const firstHits = new Proxy(
    {},
    {
      get(_target, mutant) {
        if (typeof mutant === 'string' && /^\d+$/.test(mutant))
          appendFileSync(file, `${testId}\t${mutant}\n`);
        return undefined;
      },
    },
  );
  const record = Object.create(firstHits);
  // Stryker's instrumented code counts a hit in `static` when no test id is set, as here.
  globalThis.__stryker__ = { mutantCoverage: { static: record, perTest: {} } };
  if (isMainThread) loadInEveryThread();
}

/** Makes each `new Worker(code or file)` of this process import this file before its code. */
function loadInEveryThread() {
  const threads = createRequire(import.meta.url)('node:worker_threads');
  const Worker = threads.Worker;
  const preload = JSON.stringify(import.meta.url);
  threads.Worker = class extends Worker {
    constructor(what, options = {}) {
      const code = options.eval
        ? `import(${preload}).then(() => { ${what} })`
        : `import(${preload}).then(() => import(${JSON.stringify(what instanceof URL ? what.href : pathToFileURL(String(what)).href)}))`;
      super(code, { ...options, eval: true });
    }
  };
  // `import { Worker } from 'node:worker_threads'` in the program now gets this one.
  syncBuiltinESMExports();
}

const parent = process.ppid;
if (isMainThread)
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 500).unref();
