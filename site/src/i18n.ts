/**
 * The site's own words in each edition. A typed catalogue, not an i18n library: the pages are
 * built, not rendered in the browser, and TypeScript already refuses a language that lacks a key
 * (`satisfies Words`), which is the check a catalogue library would add at run time.
 */
import type { Language } from '@course/model/editions';

const en = {
  brand: 'Sockets, by hand',
  skip: 'Skip to the text',
  lessons: 'Lessons',
  search: 'Search the course',
  searchHelp: 'Results appear below as you type.',
  searchResults: 'Search results',
  noResults: 'No section mentions that.',
  startHere: 'Start here',
  glossary: 'Glossary',
  folder: (number: string, folder: string) =>
    `Lesson ${number} · your files are in <a href="FOLDER"><code>${folder}</code></a>`,
  previous: '← Previous',
  next: 'Next →',
  previousNext: 'Previous and next',
  onThisPage: 'On this page',
  copy: 'Copy',
  copyCode: 'Copy the code',
  copied: 'Copied',
  callouts: { NOTE: 'Note', TIP: 'Tip', IMPORTANT: 'Important', WARNING: 'Warning', CAUTION: 'Caution' },
  selectAndCopy: 'Select and copy',
  anchor: 'Link to this section',
  /** The link to the other edition, written in that edition's language. */
  otherEdition: '简体中文',
  otherEditionLabel: '阅读简体中文版',
  homeTitle: 'Sockets, by hand: network programming on Node.js',
  homeDescription: 'A TypeScript course on network programming with Node.js, lesson by lesson.',
  homeLead:
    'Network programming on Node.js, in TypeScript, one lesson at a time. You write real TCP and UDP clients and servers, test them against real peers on your own machine, including hostile ones that cut your bytes into pieces, reset connections or stop reading, and you see what actually crosses the wire.',
  howToStart: 'How to start',
  startCommand: 'this site, and where you are',
  checkCommand: 'verify the course itself',
  howToWork:
    "Then, for each lesson: read its page, fill in the numbered <code>TODO</code>s in its <code>exercise/</code> folder, and run <code>npm test -- 01</code> (with the lesson's number) until it is green. Every failing test says what it expected, what arrived as text and bytes, and what to try.",
  theLessons: 'The lessons',
  glossaryTitle: 'Glossary: every term of the course, in English and Chinese',
  glossaryLead:
    'Each term with its Chinese name, the Node.js and Python names for it, and the lesson section that teaches it.',
  term: 'Term',
  chinese: '中文',
  node: 'Node.js',
  python: 'Python',
  taughtIn: 'Taught in',
  untranslated: '',
};

export type Words = { [K in keyof typeof en]: (typeof en)[K] };

const zh = {
  brand: '手写套接字',
  skip: '跳到正文',
  lessons: '课程',
  search: '搜索课程',
  searchHelp: '输入时结果显示在下方。',
  searchResults: '搜索结果',
  noResults: '没有哪一节提到它。',
  startHere: '从这里开始',
  glossary: '术语表',
  folder: (number: string, folder: string) =>
    `第 ${number} 课 · 你的文件在 <a href="FOLDER"><code>${folder}</code></a>`,
  previous: '← 上一课',
  next: '下一课 →',
  previousNext: '上一课与下一课',
  onThisPage: '本页内容',
  copy: '复制',
  copyCode: '复制代码',
  copied: '已复制',
  callouts: { NOTE: '注意', TIP: '提示', IMPORTANT: '重要', WARNING: '警告', CAUTION: '小心' },
  selectAndCopy: '请选中后复制',
  anchor: '链接到本节',
  otherEdition: 'English',
  otherEditionLabel: 'Read the English edition',
  homeTitle: '手写套接字：用 Node.js 学网络编程',
  homeDescription: '一门用 TypeScript 在 Node.js 上学网络编程的课程，一课一课来。',
  homeLead:
    '用 TypeScript 在 Node.js 上学网络编程，一次一课。你会亲手写出真正的 TCP 和 UDP 客户端与服务端，在自己的机器上用真实的对端测试它们（包括把你的字节切成碎片、复位连接或不再读取的恶意对端），并亲眼看到线路上真正传输了什么。',
  howToStart: '如何开始',
  startCommand: '打开本站，并显示你的进度',
  checkCommand: '验证整门课程本身',
  howToWork:
    '然后，每一课：读它的页面，填写它 <code>exercise/</code> 文件夹里编了号的 <code>TODO</code>，运行 <code>npm test -- 01</code>（换成该课的编号），直到全部变绿。每个失败的测试都会告诉你它期望什么、实际收到的文本和字节是什么，以及该试试什么。',
  theLessons: '课程列表',
  glossaryTitle: '术语表：课程中的每个术语，中英对照',
  glossaryLead: '每个术语的中文名、Node.js 和 Python 中对应的名字，以及讲解它的课程章节。',
  term: 'English',
  chinese: '中文',
  node: 'Node.js',
  python: 'Python',
  taughtIn: '讲解于',
  untranslated: '本课的中文版尚未完成，下面是英文原文。',
} satisfies Words;

const WORDS: Record<Language, Words> = { en, 'zh-CN': zh };

export function words(lang: Language): Words {
  return WORDS[lang];
}
