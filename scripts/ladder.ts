/**
 * The ladder: a lesson's tests turn green in the order of its steps. For each step k, the
 * learner's files are built as the starter with steps 1..k filled in from the solution (the
 * `// region step-N` blocks that exercise/ and solution/ share), written to the lesson's
 * .ladder/k/ folder, and the tests run against them (COURSE_TARGET=ladder:k): every test of
 * steps 1..k must pass, and some test of step k+1 must fail. With every step filled in, each
 * file must be the solution, byte for byte: outside the step regions, starter and solution are
 * the same code.
 *
 * `npm run ladder` runs every lesson's ladder; `npm run ladder -- 05` one lesson's.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LessonResult } from '@course/cli/run-tests';
import { findLesson, type LessonInfo, listLessons } from '@course/model/lessons';
import { fillSteps, regionsOf, stepCount, stepOf, stepsUpTo } from '@course/model/steps';
import pLimit from 'p-limit';

interface LadderFile {
  name: string;
  starter: string;
  solution: string;
}

/** The lesson's files that have step regions, and what is wrong with how they are marked. */
function readFiles(lesson: LessonInfo): { files: LadderFile[]; problems: string[] } {
  const problems: string[] = [];
  const files: LadderFile[] = [];
  for (const name of readdirSync(join(lesson.dir, 'solution')).filter((f) => f.endsWith('.ts'))) {
    const starterPath = join(lesson.dir, 'exercise', name);
    if (!existsSync(starterPath)) continue; // the course check reports it
    const file = {
      name,
      starter: readFileSync(starterPath, 'utf8').replace(/\r\n/g, '\n'),
      solution: readFileSync(join(lesson.dir, 'solution', name), 'utf8').replace(/\r\n/g, '\n'),
    };
    const regions = (text: string) => regionsOf(text).join(',');
    if (regions(file.starter) !== regions(file.solution)) {
      problems.push(
        `exercise/${name} has step regions ${regions(file.starter) || '(none)'}, solution/${name} has ${regions(file.solution) || '(none)'}: both need the same // region step-N … // endregion step-N blocks`,
      );
      continue;
    }
    // Each file's comments may name its own folder (`npx tsx …/exercise/client.ts`).
    const same = (text: string) => text.replace(/\b(?:exercise|solution)\//g, '<folder>/');
    const filled = fillSteps(file.starter, file.solution, Number.POSITIVE_INFINITY);
    if (same(filled) !== same(file.solution)) {
      const a = same(filled).split('\n');
      const b = same(file.solution).split('\n');
      const line = a.findIndex((text, i) => text !== b[i]) + 1 || Math.min(a.length, b.length) + 1;
      problems.push(
        `exercise/${name} with every step filled in is not solution/${name}: they differ outside the step regions (solution/${name}:${line}: ${JSON.stringify((b[line - 1] ?? '').trim().slice(0, 80))}); move that code into a region, or make it the same in both`,
      );
      continue;
    }
    if (regions(file.starter)) files.push(file);
  }
  return { files, problems };
}

/** What one rung's run shows wrong: a test of a done step failing, or no test of the next failing. */
function judge(result: LessonResult | undefined, k: number, steps: number): string[] {
  const done = k === 0 ? 'the starter' : k === 1 ? 'step 1 done' : `steps 1-${k} done`;
  if (!result) return [`${done}: the tests did not run`];
  const failing = result.failed.map((f) => ({ ...f, step: stepOf(f.name) }));
  const broken = failing.filter((f) => f.step !== undefined && f.step <= k);
  // With its message: a test that fails only under load (a flaky one) must say how it failed.
  const out = broken.map(
    (f) =>
      `${done}, yet "${f.name}" fails: it needs a later step, so it belongs to that step's group\n${f.message
        .split('\n')
        .slice(0, 6)
        .map((line) => `      ${line}`)
        .join('\n')}`,
  );
  if (k < steps && !failing.some((f) => f.step === k + 1))
    out.push(
      `${done}, and every test of step ${k + 1} already passes: step ${k + 1} has no test of its own that fails until it is done`,
    );
  // An error outside a test while a later step's test runs is that step's to fix (its 'error'
  // listener, say); one during a done step's test, or anywhere else, breaks the ladder.
  for (const stray of result.stray.filter((s) => (stepOf(s.test ?? '') ?? 0) <= k))
    out.push(
      `${done}: an error outside any test${stray.test ? `, during "${stray.test}"` : ''} (${stray.message.split('\n')[0]})`,
    );
  return out;
}

/**
 * The ladder of one lesson. `run` runs its tests against `target` (ladder:k), those whose names
 * match `steps` (the course check passes its own runner, which says how many run at once); the
 * starter (k = 0) is the check's own starter run, given as `starter`. Rung k runs the tests of
 * steps 1..k+1 only: what rung k judges.
 */
export async function checkLadder(
  lesson: LessonInfo,
  run: (target: `ladder:${number}`, steps: RegExp) => Promise<LessonResult | undefined>,
  starter?: Promise<LessonResult>,
): Promise<{ problems: string[]; steps: number; summary: string }> {
  const { files, problems } = readFiles(lesson);
  const steps = stepCount(lesson);
  if (problems.length) return { problems, steps, summary: '' };
  if (files.length === 0)
    return {
      problems: ['no // region step-N blocks in exercise/ and solution/: the ladder cannot be built'],
      steps,
      summary: '',
    };
  const ladder = join(lesson.dir, '.ladder');
  rmSync(ladder, { recursive: true, force: true });
  try {
    const rungs = Array.from({ length: steps - 1 }, (_, i) => i + 1);
    for (const k of rungs) {
      mkdirSync(join(ladder, String(k)), { recursive: true });
      for (const name of readdirSync(join(lesson.dir, 'solution')).filter((f) => f.endsWith('.ts'))) {
        const file = files.find((f) => f.name === name);
        const text = file
          ? fillSteps(file.starter, file.solution, k)
          : readFileSync(join(lesson.dir, 'exercise', name), 'utf8');
        writeFileSync(join(ladder, String(k), name), text);
      }
    }
    // Each rung in its own folder: they may run side by side, as the runner allows; the last,
    // which runs the most tests, first.
    const order = [...rungs].reverse();
    const [first, ...results] = await Promise.all([
      starter,
      ...order.map((k) => run(`ladder:${k}`, stepsUpTo(k + 1))),
    ]);
    if (first) problems.push(...judge(first, 0, steps));
    for (const k of rungs) problems.push(...judge(results[order.indexOf(k)], k, steps));
  } finally {
    rmSync(ladder, { recursive: true, force: true });
  }
  return { problems, steps, summary: `ladder: ${steps} steps, each turns green in order` };
}

if (process.argv[1]?.endsWith('ladder.ts')) {
  const { runLessonTests } = await import('@course/cli/run-tests');
  const names = process.argv.slice(2);
  const lessons = names.length ? names.map((name) => findLesson(name)) : listLessons();
  if (lessons.some((l) => l === undefined)) {
    console.error('usage: npm run ladder -- [lesson…]   (every lesson by default)');
    process.exit(2);
  }
  let failed = 0;
  const oneAtATime = pLimit(1);
  for (const lesson of lessons as LessonInfo[]) {
    const { problems, summary } = await checkLadder(lesson, (target, steps) =>
      oneAtATime(async () => (await runLessonTests([lesson], target, { testNamePattern: steps }))[0]),
    );
    if (problems.length) failed++;
    console.log(
      problems.length
        ? `✗ ${lesson.id} ladder:\n${problems.map((p) => `    ✗ ${p}`).join('\n')}`
        : `✓ ${lesson.id} ${summary}`,
    );
  }
  process.exitCode = failed ? 1 : 0;
}
