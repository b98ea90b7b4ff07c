// @ts-check
/**
 * The one vitest config. A lesson's vitest.config.ts is `export default lessonConfig(import.meta.url)`.
 * `#impl/<file>` imports resolve through implPath(), so COURSE_TARGET picks exercise/, solution/
 * or a mistake without a test ever naming a folder. Plain JavaScript so that vitest can load it.
 */
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { currentTarget, implPath } from './target.js';

const IMPL = '#impl/';
const HARNESS = '@course/helpers';
/**
 * What a learner sees who runs vitest in a lesson's folder: the course's report (packages/cli),
 * named by path because this package cannot depend on the command that depends on it. A reporter
 * is a whole run's option: the course's own runs, which load lessons as projects, set theirs.
 */
const LESSON_REPORTER = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'cli',
  'src',
  'lesson-reporter.ts',
);

/** @param {string} configFileUrl the lesson's `import.meta.url` */
export function lessonConfig(configFileUrl) {
  const lessonDir = dirname(fileURLToPath(configFileUrl));
  let target = currentTarget();
  /** @type {string | undefined} */
  let harness;
  return defineConfig({
    plugins: [
      {
        name: 'course-impl',
        enforce: 'pre',
        /** @param {string} id */
        resolveId(id) {
          if (id === HARNESS && harness) return harness;
          return id.startsWith(IMPL) ? implPath(lessonDir, id.slice(IMPL.length), target) : null;
        },
        /** @param {import('vitest/node').VitestPluginContext} context */
        configureVitest({ vitest, project, experimental_defineCacheKeyGenerator }) {
          // The target as the tests' workers see it: a run's own `env` option over the process's
          // (as vitest builds a worker's environment). The course check runs several targets at
          // once in one process, which one process.env cannot say.
          const env = { ...vitest.config.env, ...project.config.env };
          target = currentTarget({ COURSE_TARGET: process.env.COURSE_TARGET, ...env });
          // The harness as one bundle (a file under node_modules, which vitest loads natively),
          // when the run brings one (the course's own runs: runLessonTests).
          harness = env.COURSE_HARNESS;
          // Transformed modules are kept on disk between runs (fsModuleCache, below), keyed by
          // their text; but a test's `#impl/` and harness imports resolve by the target and the
          // harness's bundle, so the key must hold them too, or a run against solution/ would
          // reuse the exercise's module.
          experimental_defineCacheKeyGenerator(
            () => `course-target:${JSON.stringify(target)} harness:${harness ?? 'sources'}`,
          );
        },
      },
    ],
    // The project's name is the lesson's folder (`02-tcp-server`): reports group by it.
    test: { ...testOptions(), name: basename(lessonDir), reporters: [LESSON_REPORTER] },
  });
}

/** For packages that are not lessons (the helpers' own tests). */
/**
 * @param {string} name
 * @param {{ testTimeout?: number, hookTimeout?: number, maxConcurrency?: number }} [overrides] longer
 *   bounds, for browsers; how many `test.concurrent` tests run at once
 */
export function packageConfig(name, overrides = {}) {
  // The course's own tests read its English words, whatever the machine's language; the lessons'
  // tests speak the learner's (COURSE_LANG, or the system's locale).
  return defineConfig({ test: { ...testOptions(), name, env: { COURSE_LANG: 'en' }, ...overrides } });
}

// COURSE_SHUFFLE=<seed> runs test files and tests in an order shuffled from that seed: a test
// that passes only after another has run is found this way. Read at each config load, so that
// one process can run several shuffles (npm run stress).
const testOptions = () => ({
  ...(Number(process.env.COURSE_SHUFFLE)
    ? { sequence: { shuffle: true, seed: Number(process.env.COURSE_SHUFFLE) } }
    : {}),
  include: ['test/**/*.test.ts'],
  // Vite transforms the harness and the tests anew in each vitest process, about a second of a
  // lesson's run: keep what it made on disk (node_modules/.experimental-vitest-cache).
  experimental: { fsModuleCache: true },
  // Socket tests mostly wait on the network and on child processes, not on the CPU: run a
  // lesson's test files side by side even on a 2-core machine.
  maxWorkers: 3,
  // A backstop only: every wait in a test is bounded by the harness, which says what was
  // expected (1.5 s for a reply, 10 s for a program to start or exit on a busy machine). A test
  // that reaches this awaited something unbounded; the course's reporter explains it.
  testTimeout: 30_000,
  hookTimeout: 30_000,
});
