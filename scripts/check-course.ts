/**
 * The course's own check, run by `npm run check` for each lesson (through turbo, so unchanged
 * lessons come from its cache). A lesson is sound when:
 *   - it has README.md, lesson.json (title, objectives, hints by step, programs),
 *     exercise/, solution/ with the same files and the same exports, tests, mistakes named
 *     after the file they replace;
 *   - exercise/ has numbered TODO(n) markers, 1..N, and the tests and README have a step for each;
 *   - no test is skipped, focused or todo in the source, and none imports exercise/ or solution/;
 *   - every test passes against solution/; the starter fails; every mistake fails, and among its
 *     failures are the tests its header names (`@caught-by step 5: … › …`);
 *   - the tests turn green in the order of the steps (the ladder, scripts/ladder.ts);
 *   - the README's main text stays short (README_WORDS, outside code blocks and <details>).
 *
 *   tsx scripts/check-course.ts                  every lesson
 *   tsx scripts/check-course.ts --lesson 02      one lesson (number, name or folder)
 *   tsx scripts/check-course.ts --structure-only every lesson, files only, no test runs
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { paint } from '@course/cli/paint';
import { passedAll } from '@course/cli/report';
import { type LessonResult, runLessonTests, type Target } from '@course/cli/run-tests';
import { LANGUAGES, type Parity, parity, SOURCE_LANGUAGE } from '@course/model/editions';
import { findLesson, type LessonInfo, listLessons, ROOT } from '@course/model/lessons';
import { exerciseFiles, starterParity } from '@course/model/starter-comments';
import { stepCount } from '@course/model/steps';
import { readTestWords, staleTestWords, testSources } from '@course/words/tests';
import pLimit from 'p-limit';
import { checkLadder } from './ladder.ts';

/** The most words a README's main text may hold: a lesson read in one sitting. */
const README_WORDS = 2_500;

/**
 * How many of a lesson's test runs go at once. Most of a run is waiting (on a test's bounds, on a
 * program's start or exit): two at a time take a third or more off a lesson's check for the same
 * CPU (lesson 02's: 76 s to 46 s, 14 s of CPU either way).
 */
const RUNS_AT_ONCE = pLimit(2);

const { values } = parseArgs({
  options: { lesson: { type: 'string' }, 'structure-only': { type: 'boolean', default: false } },
});

const lessons = values.lesson ? [findLesson(values.lesson)] : listLessons();
if (lessons.length === 0 || lessons.some((l) => l === undefined)) {
  console.error(`check-course: no lesson ${values.lesson ?? 'found under lessons/'}`);
  process.exit(2);
}

let problems = 0;
for (const lesson of lessons as LessonInfo[]) {
  const found = checkStructure(lesson);
  const editions: CheckRecord['editions'] = {};
  for (const lang of LANGUAGES.filter((l) => l !== SOURCE_LANGUAGE)) {
    const { state, problems: differences } = parity(lesson.dir, lang, lesson.meta);
    editions[lang] = state;
    // A translation not begun is shown in the summary, not failed: a lesson may come out in
    // English first. One begun is held to its English, and kept up with it.
    if (state !== 'missing') found.push(...differences);
    // The starter's comments in that language, held the same way.
    const starter = starterParity(lesson.dir, lang, exerciseFiles(lesson.dir));
    editions[`${lang} starter`] = starter.state;
    if (starter.state !== 'missing') found.push(...starter.problems);
    // The tests' sentences in that language: each one a test still says, its holes kept.
    const sentences = readTestWords(lesson.dir, lang) ?? {};
    for (const gone of staleTestWords(sentences, testSources(lesson.dir)))
      found.push(`lessons/${lesson.id}/test.${lang}.json: no test says ${JSON.stringify(gone)} any more`);
    for (const [from, to] of Object.entries(sentences))
      if (to.split('{}').length !== from.split('{}').length)
        found.push(
          `lessons/${lesson.id}/test.${lang}.json: ${JSON.stringify(from)} and its translation differ in {} holes`,
        );
  }
  if (!values['structure-only']) {
    const { problems: behaviour, record } = await checkBehaviour(lesson);
    found.push(...behaviour);
    record.words = readmeWords(lesson);
    record.editions = editions;
    record.problems = found.length;
    mkdirSync(join(lesson.dir, '.check'), { recursive: true });
    writeFileSync(join(lesson.dir, '.check', 'result.json'), `${JSON.stringify(record, null, 2)}\n`);
  }
  problems += found.length;
  const mark = found.length === 0 ? paint.green('✓') : paint.red('✗');
  console.log(`${mark} ${lesson.id}${found.length === 0 ? '' : `: ${found.length} problem(s)`}`);
  for (const problem of found) console.log(`    ${paint.red('✗')} ${problem.split('\n').join('\n      ')}`);
}
process.exitCode = problems === 0 ? 0 : 1;

/** What the files say, without running anything. Each problem names the lesson's file. */
function checkStructure(lesson: LessonInfo): string[] {
  const out: string[] = [];
  const at = (path: string) => `lessons/${lesson.id}/${path}`;
  const read = (path: string) => readFileSync(join(lesson.dir, path), 'utf8');
  const tsFiles = (folder: string) =>
    existsSync(join(lesson.dir, folder))
      ? readdirSync(join(lesson.dir, folder))
          .filter((f) => f.endsWith('.ts'))
          .sort()
      : [];

  for (const required of ['README.md', 'lesson.json', 'package.json', 'exercise', 'solution', 'test']) {
    if (!existsSync(join(lesson.dir, required))) out.push(`${at(required)} is missing`);
  }
  const { meta } = lesson;
  if (!meta.title) out.push(`${at('lesson.json')} has no title`);
  if (!Array.isArray(meta.objectives) || meta.objectives.length === 0)
    out.push(`${at('lesson.json')} has no objectives`);
  out.push(...hintProblems(lesson).map((problem) => `${at('lesson.json')} ${problem}`));
  const words = readmeWords(lesson);
  if (words > README_WORDS)
    out.push(
      `${at('README.md')} has ${words} words of main text, over ${README_WORDS}: say each thing once, and move depth into <details>`,
    );

  const exercise = tsFiles('exercise');
  const solution = tsFiles('solution');
  if (exercise.join() !== solution.join()) {
    out.push(
      `exercise/ and solution/ differ in files: exercise has ${exercise.join(', ')}; solution has ${solution.join(', ')}`,
    );
  }
  for (const program of meta.programs ?? []) {
    if (!solution.includes(`${program}.ts`))
      out.push(
        `${at('lesson.json')} lists program '${program}', but ${at(`solution/${program}.ts`)} does not exist`,
      );
  }
  for (const file of exercise.filter((f) => solution.includes(f))) {
    const ex = exportsOf(read(`exercise/${file}`));
    const so = exportsOf(read(`solution/${file}`));
    const missing = so.filter((name) => !ex.includes(name));
    const extra = ex.filter((name) => !so.includes(name));
    if (missing.length || extra.length) {
      out.push(
        `${at(`exercise/${file}`)} and solution/${file} export different names` +
          `${missing.length ? `; only the solution exports ${missing.join(', ')}` : ''}` +
          `${extra.length ? `; only the exercise exports ${extra.join(', ')}` : ''}`,
      );
    }
  }

  const todos = new Set<number>();
  for (const file of exercise) {
    for (const match of read(`exercise/${file}`).matchAll(/TODO\((\d+)\)/g)) todos.add(Number(match[1]));
  }
  const steps = [...todos].sort((a, b) => a - b);
  if (steps.length === 0)
    out.push(`${at('exercise/')} has no TODO(n) markers: a starter must show the learner what to do`);
  else if (steps.some((n, i) => n !== i + 1)) {
    out.push(`${at('exercise/')} TODO numbers should run 1..N without gaps; found ${steps.join(', ')}`);
  }

  const tests = existsSync(join(lesson.dir, 'test'))
    ? readdirSync(join(lesson.dir, 'test')).filter((f) => f.endsWith('.test.ts'))
    : [];
  if (tests.length === 0) out.push(`${at('test/')} has no *.test.ts`);
  const describedSteps = new Set<number>();
  for (const file of tests) {
    const source = read(`test/${file}`);
    if (/\b(?:it|test|describe)\.(?:only|skip|todo)\b|\b(?:xit|xdescribe|fit|fdescribe)\(/.test(source)) {
      out.push(`${at(`test/${file}`)} has a skipped, focused or todo test (.only, .skip, .todo)`);
    }
    if (/from\s+['"][^'"]*\/(?:exercise|solution|mistakes)\//.test(source)) {
      out.push(
        `${at(`test/${file}`)} imports exercise/ or solution/ directly: import from '#impl/<file>.ts'`,
      );
    }
    for (const match of source.matchAll(/describe\(\s*['"`]steps? ([\d, and-]+)/g)) {
      for (const n of (match[1] ?? '').match(/\d+/g) ?? []) describedSteps.add(Number(n));
    }
  }
  const untested = steps.filter((n) => !describedSteps.has(n));
  if (tests.length && untested.length) {
    out.push(`${at('test/')} has no describe('step N: ...') group for step(s) ${untested.join(', ')}`);
  }
  if (existsSync(join(lesson.dir, 'README.md'))) {
    const readme = read('README.md');
    const missing = steps.filter((n) => !new RegExp(`^#{2,4} Steps? [^\\n]*\\b${n}\\b`, 'mi').test(readme));
    if (missing.length)
      out.push(`${at('README.md')} has no '### Step N' heading for step(s) ${missing.join(', ')}`);
    for (const [, path = '', region] of readme.matchAll(/<!--\s*include:\s*([^#\s]+)(?:#([\w-]+))?\s*-->/g)) {
      const target = join(lesson.dir, path);
      if (!existsSync(target)) out.push(`${at('README.md')} includes ${path}, which does not exist`);
      else if (region && !readFileSync(target, 'utf8').includes(`// region ${region}\n`)) {
        out.push(
          `${at('README.md')} includes region '${region}' of ${path}, which has no '// region ${region}'`,
        );
      }
    }
  }

  for (const mistake of tsFiles('mistakes')) {
    const stem = mistake.split('.')[0];
    if (mistake.split('.').length < 3 || !solution.includes(`${stem}.ts`)) {
      out.push(
        `${at(`mistakes/${mistake}`)} should be named <file>.<what-is-wrong>.ts after a file in solution/`,
      );
    }
  }
  return out;
}

/** The exported names of a module, from its source text. */
function exportsOf(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(
    /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm,
  )) {
    names.add(m[1] as string);
  }
  for (const m of source.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const part of (m[1] ?? '').split(',')) {
      const name = part
        .trim()
        .split(/\s+as\s+/)
        .pop()
        ?.replace(/^type\s+/, '');
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

/** The `@caught-by <part of a test's full name>` lines of a mistake's header. */
export function caughtBy(source: string): string[] {
  return [...source.matchAll(/^\s*\*\s*@caught-by\s+(.+?)\s*$/gm)].map((m) => m[1] as string);
}

/**
 * Matches the full names of the tests a mistake's `@caught-by` lines name (undefined, all tests,
 * when there are none). vitest joins the describe and test names with a space where the course
 * writes ` › `.
 */
function namedTests(reasons: string[]): RegExp | undefined {
  if (reasons.length === 0) return undefined;
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(reasons.map((reason) => literal(reason).split(' › ').join(' ')).join('|'));
}

/** What the check found for one lesson, kept in lessons/NN/.check/ for the totals (and turbo's cache). */
export interface CheckRecord {
  lesson: string;
  solution: { passed: number; failed: number; skipped: number };
  starter: { passed: number; failed: number };
  mistakes: { file: string; failed: number }[];
  /** The steps whose tests turn green in order (scripts/ladder.ts), and of how many. */
  ladder: { steps: number; ok: boolean };
  /** The README's main text, in words (outside code blocks and <details>). */
  words: number;
  /** Each translation against the English, by language (`zh-CN`) and of the starter (`zh-CN starter`). */
  editions: Record<string, Parity['state']>;
  problems: number;
}

/** What the tests say: the solution passes, the starter and every mistake fail. */
async function checkBehaviour(lesson: LessonInfo): Promise<{ problems: string[]; record: CheckRecord }> {
  const out: string[] = [];
  const record: CheckRecord = {
    lesson: lesson.id,
    solution: { passed: 0, failed: 0, skipped: 0 },
    starter: { passed: 0, failed: 0 },
    mistakes: [],
    ladder: { steps: 0, ok: false },
    words: 0,
    editions: {},
    problems: 0,
  };
  // The solution's run lists every test and its file; the runs after it, of a few named tests
  // each, load only the files that hold them (each file is a process to start and load).
  let testsByFile: Record<string, string[]> = {};
  const run = (target: Target, testNamePattern?: RegExp) =>
    RUNS_AT_ONCE(async () => {
      const files = testNamePattern
        ? Object.entries(testsByFile)
            .filter(([, names]) => names.some((name) => testNamePattern.test(name)))
            .map(([file]) => file)
        : [];
      const [result] = await runLessonTests([lesson], target, { testNamePattern, files });
      if (!result) throw new Error(`no results for ${lesson.id}`);
      return result;
    });

  const solution = await run('solution');
  testsByFile = solution.testsByFile;
  record.solution = {
    passed: solution.passed,
    failed: solution.failed.length,
    skipped: solution.skipped.length,
  };
  const total = solution.passed + solution.failed.length + solution.skipped.length;
  if (total === 0) out.push(`lessons/${lesson.id}/test/ ran no test against solution/`);
  for (const failure of solution.failed) {
    out.push(
      `solution/ fails "${failure.name}"${failure.where ? ` (${failure.where})` : ''}:\n${failure.message}`,
    );
  }
  for (const error of solution.loadErrors) out.push(`solution/: ${error}`);
  for (const stray of solution.stray)
    out.push(`solution/: ${stray.test ?? 'outside any test'}: ${stray.message}`);
  for (const name of solution.skipped) console.log(paint.yellow(`    skipped against solution/: ${name}`));

  // Then every other run, RUNS_AT_ONCE at a time: the starter, the rungs of the ladder (the
  // starter's run is its first), each mistake.
  const starter = run('exercise');
  const [started, ladder, mistakes] = await Promise.all([
    starter,
    checkLadder(lesson, run, starter),
    checkMistakes(lesson, run, record),
  ]);
  record.starter = { passed: started.passed, failed: started.failed.length };
  if (passedAll(started))
    out.push(`exercise/ passes every test: the starter must leave the learner something to do`);
  out.push(...mistakes);
  const { steps, problems: rungs } = ladder;
  record.ladder = { steps, ok: rungs.length === 0 };
  out.push(...rungs.map((p) => `ladder: ${p}`));
  return { problems: out, record };
}

/** Every mistake fails, and among its failures are the tests its header names. */
async function checkMistakes(
  lesson: LessonInfo,
  run: (target: Target, testNamePattern?: RegExp) => Promise<LessonResult>,
  record: CheckRecord,
): Promise<string[]> {
  const out: string[] = [];
  const files = existsSync(join(lesson.dir, 'mistakes'))
    ? readdirSync(join(lesson.dir, 'mistakes')).filter((f) => f.endsWith('.ts'))
    : [];
  // A mistake must fail for the reason its header names, not by accident elsewhere: only the
  // tests it names run (a few seconds, where the whole lesson takes most of a minute).
  const reasonsOf = (file: string) => caughtBy(readFileSync(join(lesson.dir, 'mistakes', file), 'utf8'));
  const results = await Promise.all(
    files.map((file) => run(`mistake:${file.replace(/\.ts$/, '')}`, namedTests(reasonsOf(file)))),
  );
  for (const [i, file] of files.entries()) {
    const reasons = reasonsOf(file);
    const result = results[i] as LessonResult;
    record.mistakes.push({ file, failed: result.failed.length });
    const path = relative(ROOT, join(lesson.dir, 'mistakes', file));
    if (result.passed + result.failed.length === 0) {
      out.push(`${path}: no test's name contains what its @caught-by lines say: ${reasons.join('; ')}`);
      continue;
    }
    if (passedAll(result)) {
      out.push(`${path} passes every test it names: the tests do not catch this mistake`);
      continue;
    }
    if (reasons.length === 0) {
      out.push(`${path} has no '@caught-by <test name>' line naming the test that must catch it`);
    }
    for (const reason of reasons) {
      const failing = [...result.failed.map((f) => f.name), ...result.stray.flatMap((e) => e.test ?? [])];
      if (!failing.some((name) => name.includes(reason))) {
        const names = failing.map((name) => `\n  ${name}`).join('') || ' none';
        out.push(`${path} should fail "${reason}", but the failing tests are:${names}`);
      }
    }
  }
  return out;
}

/**
 * Hints come by step, 2 or 3 per step, from what to achieve to the code: keys exactly "1".."N"
 * for the N steps the tests name, and each step's last hint shows code (a `span`).
 */
function hintProblems(lesson: LessonInfo): string[] {
  const hints = lesson.meta.hints as unknown;
  const steps = stepCount(lesson);
  const wanted = Array.from({ length: steps }, (_, i) => String(i + 1));
  if (!Array.isArray(hints))
    return [`needs "hints" by step: [{ "step": 1, "hints": [what and why, which API, the code] }, …]`];
  const problems: string[] = [];
  const keys = hints.map((h) => String((h as { step?: unknown }).step));
  if (keys.join() !== wanted.join())
    problems.push(`has hints for steps ${keys.join(', ')}; the tests name steps ${wanted.join(', ')}`);
  for (const { step, hints: list } of hints as { step: number; hints: unknown }[]) {
    if (!Array.isArray(list) || list.length < 2 || list.length > 3 || list.some((h) => typeof h !== 'string'))
      problems.push(`step ${step} needs 2 or 3 hints (strings), from a nudge to the code`);
    else if (!/`[^`]+`/.test(list.at(-1) as string))
      problems.push(`step ${step}'s last hint should show the code, in \`backticks\``);
  }
  return problems;
}

/** The words of a README's main text: outside fenced code, <details> blocks and HTML comments. */
export function readmeWords(lesson: LessonInfo): number {
  const path = join(lesson.dir, 'README.md');
  if (!existsSync(path)) return 0;
  const main = readFileSync(path, 'utf8')
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '')
    .replace(/<details>[\s\S]*?<\/details>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '');
  return main.match(/[\p{L}\p{N}][\p{L}\p{N}'’_.-]*/gu)?.length ?? 0;
}
