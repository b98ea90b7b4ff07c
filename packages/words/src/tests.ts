/**
 * What a lesson's tests say when they fail (what was expected, what arrived, a hint), in the
 * learner's language. The tests are written in English; a lesson's `test.LANG.json` maps each
 * sentence to its translation, `{}` standing for a part the test fills in (a port, a number of
 * milliseconds, a quoted reply):
 *
 *   { "request() to settle (its timeoutMs is {} ms)": "request() 应当结束（它的 timeoutMs 是 {} ms）" }
 *
 * The harness's own sentences are in packages/helpers/src/test.LANG.json. The harness
 * (formatExplanation) translates each part of an explanation on its way to the screen; a
 * sentence no catalogue has is shown as written. Holes keep their order.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Language, SOURCE_LANGUAGE } from '@course/model/editions';
import { listLessons, ROOT } from '@course/model/lessons';

export type TestWords = Record<string, string>;

/** A translator from catalogues: exact sentences first, then sentences with holes. */
export function translator(catalogues: TestWords[]): (text: string) => string {
  const exact = new Map<string, string>();
  const templates: { pattern: RegExp; to: string }[] = [];
  for (const catalogue of catalogues)
    for (const [from, to] of Object.entries(catalogue)) {
      if (!from.includes('{}')) exact.set(from, to);
      else
        templates.push({
          pattern: new RegExp(`^${from.split('{}').map(escapeRegExp).join('([\\s\\S]*?)')}$`),
          to,
        });
    }
  // The longest sentence first: a more specific template wins over a shorter one it contains.
  templates.sort((a, b) => b.pattern.source.length - a.pattern.source.length);
  return (text) => {
    const found = exact.get(text);
    if (found !== undefined) return found;
    for (const { pattern, to } of templates) {
      const holes = pattern.exec(text);
      if (!holes) continue;
      let i = 1;
      // A hole that is itself a known sentence (`the reply` in `{} is not what was expected`) too.
      return to.replace(/\{\}/g, () => {
        const hole = holes[i++] ?? '';
        return exact.get(hole) ?? hole;
      });
    }
    return text;
  };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A lesson's (or the harness's) catalogue for `lang`, or undefined. */
export function readTestWords(lessonDir: string, lang: Language): TestWords | undefined {
  const file = join(lessonDir, `test.${lang}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as TestWords) : undefined;
}

/** Where the harness's catalogue lives, beside the code that says its sentences. */
export const HARNESS = join(ROOT, 'packages', 'helpers', 'src');

const translators = new Map<Language, (text: string) => string>();

/** `text` in `lang` when a lesson's catalogue has it (its holes filled in), else as it is. */
export function testWords(text: string, lang: Language): string {
  if (lang === SOURCE_LANGUAGE || text === '') return text;
  let translate = translators.get(lang);
  if (!translate) {
    // The harness's own sentences, then each lesson's.
    const folders = [HARNESS, ...listLessons().map((l) => l.dir)];
    translate = translator(folders.flatMap((dir) => readTestWords(dir, lang) ?? ([] as TestWords[])));
    translators.set(lang, translate);
  }
  return translate(text);
}

/**
 * Entries of a lesson's catalogue that no test file says any more: the longest fixed part of
 * each English sentence must appear in the lesson's test sources (`sources`).
 */
export function staleTestWords(words: TestWords, sources: string): string[] {
  // A sentence written as 'one part ' +\n 'the next' reads as one, and 'it\'s' as it's.
  const joined = sources.replace(/['"`]\s*\+\s*\n\s*['"`]/g, '').replace(/\\([\\'"`])/g, '$1');
  return Object.keys(words).filter((from) => {
    const longest = from.split('{}').sort((a, b) => b.length - a.length)[0] ?? '';
    return !joined.includes(longest);
  });
}

/** Where a lesson's failure sentences are written: its test files, and the harness's. */
export function testSources(lessonDir: string): string {
  const folders = [join(lessonDir, 'test'), HARNESS].filter((folder) => existsSync(folder));
  return folders
    .flatMap((folder) =>
      readdirSync(folder)
        .filter((name) => name.endsWith('.ts'))
        .map((name) => readFileSync(join(folder, name), 'utf8')),
    )
    .join('\n');
}
