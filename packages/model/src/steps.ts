/**
 * A lesson's steps. The tests name them in their groups (`describe('step 3: …')`); exercise/ and
 * solution/ mark each step's code with the same `// region step-N` … `// endregion step-N`
 * blocks, so that a starter with its first steps done can be built (the ladder check, the
 * course command's tests).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LessonInfo } from './lessons.ts';

/**
 * The step a test belongs to, from its full name: `step 3: …` is 3, and `steps 2 and 3: …` is 3
 * (it passes once both are done); undefined for the other tests (the programs, interop).
 */
export function stepOf(testName: string): number | undefined {
  const match = /^steps? ([\d, and-]+):/.exec(testName);
  const numbers = (match?.[1] ?? '').match(/\d+/g)?.map(Number) ?? [];
  return numbers.length ? Math.max(...numbers) : undefined;
}

/**
 * Matches the full name of every test of steps 1..k (a group `steps 5 and 6` is step 6's, as in
 * stepOf), for vitest's testNamePattern. The full name is the describe names and the test's name
 * joined by spaces.
 */
export function stepsUpTo(k: number): RegExp {
  const last = Array.from({ length: k }, (_, i) => i + 1).join('|');
  return new RegExp(`(?:^| )steps? (?:\\d+(?:, | and |-))*(?:${last}):`);
}

/** How many steps a lesson has: the highest step its tests name. */
export function stepCount(lesson: LessonInfo): number {
  const dir = join(lesson.dir, 'test');
  let steps = 0;
  for (const file of existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.test.ts')) : []) {
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(
      /describe\(\s*['"`]steps? ([\d, and-]+):/g,
    ))
      for (const n of m[1]?.match(/\d+/g) ?? []) steps = Math.max(steps, Number(n));
  }
  return steps;
}

const REGION = /^[ \t]*\/\/ region step-(\d+)\n[\s\S]*?^[ \t]*\/\/ endregion step-\1\n/gm;

/** The step numbers of the regions in a file's text, in order. */
export function regionsOf(text: string): number[] {
  return [...text.matchAll(REGION)].map((m) => Number(m[1]));
}

/** The starter's text with the regions of steps 1..k taken from the solution's text. */
export function fillSteps(starter: string, solution: string, k: number): string {
  const done = new Map(
    [...solution.matchAll(REGION)].filter((m) => Number(m[1]) <= k).map((m) => [m[1], m[0]]),
  );
  return starter.replace(REGION, (region, step: string) => done.get(step) ?? region);
}
