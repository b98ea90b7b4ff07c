// @ts-check
/**
 * The one switch between the learner's code and the reference solution, used by the vitest
 * config (for `#impl/...` imports) and by the test harness (for the programs it starts).
 * Plain JavaScript so that vitest can load it while reading its config.
 *
 *   COURSE_TARGET unset or `exercise`  → lessons/NN-name/exercise/   (what the learner edits)
 *   COURSE_TARGET=solution             → lessons/NN-name/solution/
 *   COURSE_TARGET=mistake:server.first-data
 *       → lessons/NN-name/mistakes/server.first-data.ts stands in for solution/server.ts;
 *         every other file still comes from solution/. The course check runs each mistake
 *         this way and requires the lesson's tests to fail.
 *   COURSE_TARGET=ladder:3            → lessons/NN-name/.ladder/3/, the starter with its first 3 steps
 *         filled in from the solution, written there by the ladder check (scripts/ladder.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @typedef {{ kind: 'exercise' } | { kind: 'solution' } | { kind: 'ladder', steps: number } | { kind: 'mistake', name: string, replaces: string }} Target
 */

/** @returns {Target} */
export function currentTarget(env = process.env) {
  const raw = env.COURSE_TARGET?.trim() || 'exercise';
  if (raw === 'exercise' || raw === 'solution') return { kind: raw };
  const rung = /^ladder:(\d+)$/.exec(raw);
  if (rung) return { kind: 'ladder', steps: Number(rung[1]) };
  if (raw.startsWith('mistake:')) {
    const name = raw.slice('mistake:'.length).replace(/\.ts$/, '');
    const stem = name.split('.')[0];
    if (stem && name.includes('.')) return { kind: 'mistake', name, replaces: `${stem}.ts` };
  }
  throw new Error(
    `COURSE_TARGET=${raw} is not understood: use exercise, solution, ladder:<steps> or mistake:<file>.<what> ` +
      '(a file in the lesson folder mistakes/, for example mistake:server.first-data)',
  );
}

/**
 * The absolute path of `file` (for example `server.ts` or `server`) of the lesson in
 * `lessonDir`, as the target selects it.
 * @param {string} lessonDir
 * @param {string} file
 * @param {Target} [target]
 */
export function implPath(lessonDir, file, target = currentTarget()) {
  const name = /\.[cm]?[jt]s$/.test(file) ? file : `${file}.ts`;
  if (target.kind === 'exercise') return join(lessonDir, 'exercise', name);
  if (target.kind === 'ladder') return join(lessonDir, '.ladder', String(target.steps), name);
  if (target.kind === 'mistake' && name === target.replaces) {
    const path = join(lessonDir, 'mistakes', `${target.name}.ts`);
    if (!existsSync(path)) throw new Error(`COURSE_TARGET names ${path}, which does not exist`);
    return path;
  }
  return join(lessonDir, 'solution', name);
}
