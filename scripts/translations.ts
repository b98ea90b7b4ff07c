/**
 * `npm run translations [-- NN …]`: each translation against its English (packages/model's
 * editions.ts and starter-comments.ts): the README, lesson.json's texts and the starter's comments
 * (`exercise.LANG.json`), each in sync, stale (the English changed since), missing, or what
 * differs. The course check runs the same comparisons for every lesson and the top-level README.
 *
 *   npm run translations -- 07 --skeleton    writes lesson 07's exercise.zh-CN.json: every comment
 *                                            of its starter, the translations it had kept
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { paint } from '@course/cli/paint';
import { LANGUAGES, type Language, parity, SOURCE_LANGUAGE } from '@course/model/editions';
import { findLesson, type LessonInfo, listLessons, ROOT } from '@course/model/lessons';
import {
  catalogueFile,
  catalogueSkeleton,
  exerciseFiles,
  readCatalogue,
  starterParity,
} from '@course/model/starter-comments';

const { values, positionals: names } = parseArgs({
  options: { skeleton: { type: 'boolean' } },
  allowPositionals: true,
});
const lessons = names.length ? names.map((n) => findLesson(n)) : listLessons();
if (lessons.some((l) => l === undefined)) {
  console.error(`translations: no lesson ${names.join(' ')}`);
  process.exit(2);
}
const targets = [
  ...(names.length ? [] : [{ id: 'README', dir: ROOT, meta: undefined }]),
  ...(lessons as LessonInfo[]).map((l) => ({ id: l.id, dir: l.dir, meta: l.meta })),
];
const languages = LANGUAGES.filter((l): l is Exclude<Language, 'en'> => l !== SOURCE_LANGUAGE);

if (values.skeleton) {
  for (const lang of languages)
    for (const lesson of lessons as LessonInfo[]) {
      const file = catalogueFile(lesson.dir, lang);
      const skeleton = catalogueSkeleton(exerciseFiles(lesson.dir), readCatalogue(lesson.dir, lang));
      writeFileSync(file, `${JSON.stringify(skeleton, null, 2)}\n`);
      const empty = Object.values(skeleton)
        .flat()
        .filter((p) => !p.zh.trim()).length;
      console.log(`wrote lessons/${lesson.id}/exercise.${lang}.json (${empty} to translate)`);
    }
  process.exit(0);
}

let failed = 0;
const show = (lang: string, what: string, state: string, problems: string[]) => {
  if (state !== 'in sync') failed += 1;
  const mark = state === 'in sync' ? paint.green('✓') : paint.red('✗');
  console.log(`${mark} ${lang} ${what}: ${state}`);
  for (const problem of problems) console.log(`    ${problem}`);
};
for (const lang of languages) {
  for (const target of targets) {
    const { state, problems } = parity(target.dir, lang, target.meta);
    show(lang, target.id, state, problems);
    if (target.meta) {
      const starterState = starterParity(target.dir, lang, exerciseFiles(target.dir));
      show(lang, `${target.id} starter`, starterState.state, starterState.problems);
    }
  }
}
process.exitCode = failed ? 1 : 0;
