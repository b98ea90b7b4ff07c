/**
 * The diagrams committed beside each README (lessons/NN/diagrams/NAME.svg), which GitHub and
 * editors show where the README says `![title](diagrams/NAME.svg)`. The site draws the same
 * diagrams inline at build time (site/src/diagrams/lesson.ts); these files are what that build
 * records, standalone (their colours inside, a background of their own).
 *
 *   node --import tsx scripts/diagrams.ts --write [LESSON...]   record and write every SVG
 *   node --import tsx scripts/diagrams.ts --check [LESSON...]   exit 1 naming each SVG that differs
 *       from what a build records, each README reference without its file, each SVG no README
 *       shows, and each `<!-- wire|figure: NAME -->` line (GitHub shows nothing there)
 *
 * Each diagram is drawn in every language too: where its words make the drawing differ from the
 * English one, its file is NAME.zh-CN.svg (only then), and the translated README must show that
 * file (GitHub then shows the labels in the README's language).
 *
 * Recording runs each lesson's solution on loopback, one lesson at a time; every recording is
 * deterministic (fixed seeds; no ports, dates or timings in what is drawn), so the check is too.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { LANGUAGES, readmeName } from '@course/model/editions';
import { findLesson, type LessonInfo, listLessons, ROOT } from '@course/model/lessons';
import {
  compareFolder,
  diagramFiles,
  diagramReferences,
  imageProblems,
  lessonDiagrams,
} from '../site/src/diagrams/lesson.ts';

const { values, positionals } = parseArgs({
  options: { write: { type: 'boolean' }, check: { type: 'boolean' } },
  allowPositionals: true,
});
if (values.write === values.check) {
  console.error('usage: scripts/diagrams.ts --write | --check [LESSON...]');
  process.exit(2);
}

const lessons: LessonInfo[] = [];
for (const name of positionals) {
  const lesson = findLesson(name);
  if (!lesson) {
    console.error(`diagrams: no lesson called '${name}'`);
    process.exit(2);
  }
  lessons.push(lesson);
}
if (lessons.length === 0) lessons.push(...listLessons());

const problems: string[] = [];
let written = 0;
let same = 0;
for (const lesson of lessons) {
  const readmeFile = join(lesson.dir, 'README.md');
  if (!existsSync(readmeFile)) continue;
  const where = rel(readmeFile);
  const readme = readFileSync(readmeFile, 'utf8');
  const references = diagramReferences(readme);
  const folder = join(lesson.dir, 'diagrams');
  const onDisk = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.svg')) : [];

  for (const reference of references) {
    if (reference.lang) continue; // imageProblems, below
    if (reference.form !== 'image')
      problems.push(
        `${where}:${reference.line}: <!-- ${reference.form}: ${reference.name} --> shows nothing on GitHub; ` +
          `write ![its title](diagrams/${reference.name}.svg) instead`,
      );
    else if (values.check && !existsSync(join(folder, `${reference.name}.svg`)))
      problems.push(
        `${where}:${reference.line}: shows diagrams/${reference.name}.svg, which does not exist ` +
          '(npm run diagrams -- --write records it)',
      );
  }
  for (const match of readme.matchAll(/!\[\]\((diagrams\/[^)\s]+)\)/g))
    problems.push(`${where}: the image ${match[1]} has no text: write the diagram's title between [ ]`);

  let drawn: Awaited<ReturnType<typeof lessonDiagrams>>;
  try {
    drawn = await lessonDiagrams(lesson.dir, readme, where, LANGUAGES);
  } catch (error) {
    problems.push(`${where}: recording its diagrams failed: ${(error as Error).message}`);
    continue;
  }
  const files = diagramFiles(drawn.values());
  const onDiskFiles = new Map(onDisk.map((f) => [f, readFileSync(join(folder, f), 'utf8')]));
  for (const { file: name, svg, state, lang } of compareFolder(files, onDiskFiles)) {
    const file = join(folder, name);
    if (state === 'same') same++;
    else if (values.write && svg !== undefined) {
      mkdirSync(folder, { recursive: true });
      writeFileSync(file, svg);
      written++;
      console.log(`diagrams: wrote ${rel(file)}`);
    } else if (values.write) {
      rmSync(file);
      const why = state === 'unneeded' ? 'the same as the English' : 'no README shows it';
      console.log(`diagrams: removed ${rel(file)} (${why})`);
    } else if (state === 'differs' && svg !== undefined)
      problems.push(
        `${rel(file)} differs from what the build records (${firstDifference(onDiskFiles.get(name) ?? '', svg)})`,
      );
    else if (state === 'missing' && lang)
      // (A missing English file is reported above, at the README line that shows it.)
      problems.push(
        `${rel(file)} does not exist: the diagram's words in its language make it differ from the English`,
      );
    else if (state === 'unneeded')
      problems.push(
        `${rel(file)}: no longer needed (in its language the drawing is the same as the English)`,
      );
    else if (state === 'unknown')
      problems.push(`${rel(file)}: no diagram of ${where} is called that (a stale file?)`);
  }

  // Each README shows each diagram in its own language, where there is a file for it (GitHub then
  // shows the words in the README's language).
  for (const lang of LANGUAGES) {
    const file = join(lesson.dir, readmeName(lang));
    if (!existsSync(file)) continue;
    for (const { line, problem } of imageProblems(readFileSync(file, 'utf8'), lang, new Set(files.keys())))
      problems.push(`${rel(file)}:${line}: ${problem}`);
  }
}

const verb = values.write ? `${written} written, ${same} unchanged` : `${same} up to date`;
if (problems.length > 0) {
  for (const problem of problems) console.error(`✗ ${problem}`);
  console.error(
    `diagrams: ${verb}; ${problems.length} problem${problems.length === 1 ? '' : 's'}` +
      (values.check ? ' (npm run diagrams -- --write records them again)' : ''),
  );
  process.exit(1);
}
console.log(`diagrams: ${verb}`);
// The recordings closed every socket; nothing else should keep the process alive.
process.exit(0);

function rel(file: string): string {
  return relative(ROOT, file).split('\\').join('/');
}

/** `line 12: "…" here, "…" recorded`: where a committed SVG first differs from a recording. */
function firstDifference(committed: string, recorded: string): string {
  const a = committed.split('\n');
  const b = recorded.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined || y === undefined)
      return `line ${i + 1}: the ${x === undefined ? 'recording' : 'committed file'} is longer`;
    let at = 0;
    while (x[at] === y[at]) at++;
    // The differing part of a long line, with a little context before it.
    const clip = (s: string) => {
      const from = Math.max(0, at - 30);
      return JSON.stringify(
        `${from > 0 ? '…' : ''}${s.slice(from, at + 50)}${s.length > at + 50 ? '…' : ''}`,
      );
    };
    return `line ${i + 1}: ${clip(x)} committed, ${clip(y)} recorded`;
  }
  return 'the same lines';
}
