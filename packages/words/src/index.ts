/**
 * The course's words in the learner's language: `words()` is the catalogue of the language
 * `COURSE_LANG` or the system's locale names (packages/model's editions.ts), English otherwise.
 *
 * A typed catalogue rather than an i18n library (i18next and the like): the texts are few, built
 * by functions where they hold numbers or names (English plurals, Chinese measure words), and the
 * check a library makes at run time — a language missing a key — TypeScript makes before anything
 * runs (`satisfies Words` in each catalogue, and `npm run check` typechecks).
 */
import { type Language, learnerLanguage } from '@course/model/editions';
import { en } from './en.ts';
import { zhCN } from './zh-CN.ts';

export type Words = typeof en;

const CATALOGUES: Record<Language, Words> = { en, 'zh-CN': zhCN };

export function words(lang: Language = learnerLanguage()): Words {
  return CATALOGUES[lang];
}

export { CATALOGUES };

/** Columns a text takes in a terminal: a Chinese character (and full-width punctuation) takes two. */
export function displayWidth(text: string): number {
  return [...text].reduce((n, c) => n + (/[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u.test(c) ? 2 : 1), 0);
}
