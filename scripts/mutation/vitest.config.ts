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

export default mergeConfig(lessonConfig(pathToFileURL(join(lessonDir, 'vitest.config.ts')).href), {
  root: lessonDir,
  test: { setupFiles: [join(import.meta.dirname, 'vitest-setup.ts')] },
});
