/**
 * The vitest config of `npm run mutation` (scripts/mutation.ts): the lesson's own config, run
 * from Stryker's sandbox (the working directory of Stryker's test runner), plus vitest-setup.ts.
 * COURSE_MUTATION_LESSON names the lesson folder (`lessons/05-udp`).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lessonConfig } from '@course/config/vitest';
import { mergeConfig } from 'vitest/config';

const LESSON_ENV = 'COURSE_MUTATION_LESSON';
const lesson = process.env[LESSON_ENV];
if (!lesson) throw new Error('COURSE_MUTATION_LESSON is not set: run this through `npm run mutation`');
const lessonDir = join(process.cwd(), lesson);

const own = lessonConfig(pathToFileURL(join(lessonDir, 'vitest.config.ts')).href);
// Stryker reads each run's results itself: the learner's report would only be printed unread.
const { reporters: _, ...test } = own.test ?? {};
export default mergeConfig(
  { ...own, test },
  {
    root: lessonDir,
    test: { setupFiles: [join(import.meta.dirname, 'vitest-setup.ts')] },
  },
);
