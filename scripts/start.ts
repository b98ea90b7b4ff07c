/**
 * `npm start`: where a learner begins. Lists the lessons and says how to work through them.
 * (The course site will be served from here; until then the lesson READMEs are the text.)
 */
import { listLessons } from './lib/lessons.ts';
import { paint } from './lib/paint.ts';

const lessons = listLessons();
const width = Math.max(...lessons.map((l) => l.meta.title.length));

console.log(`\n${paint.bold('Sockets, by hand')}: network programming on Node.js, lesson by lesson\n`);
for (const lesson of lessons) {
  console.log(
    `  ${lesson.number}  ${lesson.meta.title.padEnd(width)}  ${paint.dim(`lessons/${lesson.id}/README.md`)}`,
  );
}
const first = lessons[0];
if (first) {
  const dir = `lessons/${first.id}`;
  console.log(`\n${paint.bold('How to work')}`);
  console.log(
    `  1. read a lesson's README.md (${dir}/README.md first; your editor's Markdown preview shows it best)`,
  );
  console.log(`  2. fill in the numbered TODOs in its exercise/ folder, in order`);
  console.log(
    `  3. run ${paint.cyan(`npm test -- ${first.number}`)} until it is green: each failure says what was expected,`,
  );
  console.log('     what arrived, and what to try');
  console.log(`  4. play with the real programs, as the README shows\n`);
  console.log(`${paint.cyan('npm test')} shows where you are in the whole course.\n`);
}
