/**
 * The course command as a learner uses it, for the tests beside this file: run as a child process
 * in a temporary copy of the course (lessons 01 and 02, a git repository of its own, node_modules
 * shared by symlinks), one per test file, put back before each test. The tests are in three files
 * so that vitest runs them side by side.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startCommand } from '@course/helpers';
import { ROOT } from '@course/model/lessons';
import { afterAll } from 'vitest';

const LESSONS = ['01-tcp-client', '02-tcp-server'];

/** This test file's copy of the course and its one commit, made by the first test that asks. */
let made: { dir: string; commit: string } | undefined;
afterAll(() => {
  if (made) rmSync(made.dir, { recursive: true, force: true });
});

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

/**
 * A copy of the course as a learner's fresh clone: starters kept, one commit, no progress. Made
 * once per test file (a copy, and the first run of the command and the programs in it, cost
 * seconds), and put back as it was before every test that asks for it: the files and git at
 * that commit, no progress, no language chosen, the starters kept as `npm install` keeps them.
 */
export async function copyOfCourse(): Promise<string> {
  if (made) {
    const { dir, commit } = made;
    git(dir, 'reset', '--hard', '-q', commit);
    git(dir, 'clean', '-fdq');
    rmSync(join(dir, '.course-progress.json'), { force: true });
    rmSync(join(dir, '.course'), { recursive: true, force: true });
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'course-'));
    try {
      made = { dir, commit: copyInto(dir) };
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
  await course(made.dir, ['snapshot']); // what `npm install` does
  return made.dir;
}

/** Copies the course into `dir` and commits it; the commit. */
function copyInto(dir: string): string {
  const skip = /[\\/](node_modules|\.turbo|\.check|dist|test-results)([\\/]|$)/;
  for (const path of ['package.json', 'package-lock.json', 'vitest.config.ts', 'packages', 'scripts']) {
    cpSync(join(ROOT, path), join(dir, path), { recursive: true, filter: (src) => !skip.test(src) });
  }
  for (const lesson of LESSONS) {
    cpSync(join(ROOT, 'lessons', lesson), join(dir, 'lessons', lesson), {
      recursive: true,
      filter: (src) => !skip.test(src),
    });
  }
  // node_modules shared, except the course's own packages: those are the copy's.
  mkdirSync(join(dir, 'node_modules', '@course'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules')).filter((n) => n !== '@course'))
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  for (const name of readdirSync(join(ROOT, 'node_modules', '@course'))) {
    const target = relative(ROOT, realpathSync(join(ROOT, 'node_modules', '@course', name)));
    if (existsSync(join(dir, target)))
      symlinkSync(join(dir, target), join(dir, 'node_modules', '@course', name));
  }
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.name=learner', '-c', 'user.email=learner@example.com', 'commit', '-qm', 'the course');
  return git(dir, 'rev-parse', 'HEAD').trim();
}

/**
 * Runs the course command to its end. A liveness bound: a verify runs a whole lesson's tests,
 * which CI's busy machine (all lessons checked at once) makes several times slower.
 */
export function course(dir: string, args: string[], ms = 60_000, env: NodeJS.ProcessEnv = {}) {
  return startCommand(process.execPath, [join(dir, 'packages/cli/bin/course.mjs'), ...args], {
    cwd: dir,
    env: { COURSE_TARGET: '', ...env },
  }).exit(ms);
}

export const exerciseFile = (dir: string) => join(dir, 'lessons/01-tcp-client/exercise/client.ts');
export const solutionFile = (dir: string) => join(dir, 'lessons/01-tcp-client/solution/client.ts');
export const solve01 = (dir: string) =>
  writeFileSync(exerciseFile(dir), readFileSync(solutionFile(dir), 'utf8'));
