/**
 * `npm run translations [-- NN …]`: each translation against its English (packages/model's
 * editions.ts): in sync, stale (the English changed since), missing, or what differs. The course
 * check runs the same comparison for every lesson and the top-level README.
 */

import { paint } from '@course/cli/paint';
import { LANGUAGES, type Language, parity, SOURCE_LANGUAGE } from '@course/model/editions';
import { findLesson, type LessonInfo, listLessons, ROOT } from '@course/model/lessons';

const names = process.argv.slice(2);
const lessons = names.length ? names.map((n) => findLesson(n)) : listLessons();
if (lessons.some((l) => l === undefined)) {
  console.error(`translations: no lesson ${names.join(' ')}`);
  process.exit(2);
}
const targets = [
  ...(names.length ? [] : [{ id: 'README', dir: ROOT, meta: undefined }]),
  ...(lessons as LessonInfo[]).map((l) => ({ id: l.id, dir: l.dir, meta: l.meta })),
];
let failed = 0;
for (const lang of LANGUAGES.filter((l): l is Exclude<Language, 'en'> => l !== SOURCE_LANGUAGE)) {
  for (const target of targets) {
    const { state, problems } = parity(target.dir, lang, target.meta);
    if (state !== 'in sync') failed += 1;
    const mark = state === 'in sync' ? paint.green('✓') : paint.red('✗');
    console.log(`${mark} ${lang} ${target.id}: ${state}`);
    for (const problem of problems) console.log(`    ${problem}`);
  }
}
process.exitCode = failed ? 1 : 0;
