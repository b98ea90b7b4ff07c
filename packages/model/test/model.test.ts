/** The course model: steps, and a lesson's state from its files and its last run. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { learnerLanguage, parity, sourceHash } from '@course/model/editions';
import { findLesson, type LessonInfo, type LessonMeta, listLessons } from '@course/model/lessons';
import { type Progress, recordRun, stateOf } from '@course/model/progress';
import {
  catalogueFile,
  codeOnly,
  commentBlocks,
  starterParity,
  translateComments,
} from '@course/model/starter-comments';
import { starterFiles } from '@course/model/starters';
import { fillSteps, regionsOf, stepCount, stepOf, stepsUpTo } from '@course/model/steps';
import { describe, expect, test } from 'vitest';

describe('steps', () => {
  test('stepsUpTo(k) matches the full names of the tests of steps 1..k, as vitest writes them', () => {
    const upTo5 = stepsUpTo(5);
    const names = {
      ' step 1: the socket answers': true,
      'step 5: backpressure a client that never reads': true,
      'steps 4, 5: both': true,
      'step 6: later': false,
      'steps 5 and 6: a group of step 6': false,
      'steps 4, 5 and 6: also step 6': false,
      'step 15: not step 1 nor 5': false,
    };
    for (const [name, matches] of Object.entries(names)) {
      expect(upTo5.test(name), name).toBe(matches);
      if (matches) expect(stepOf(name.trim()), name).toBeLessThanOrEqual(5);
    }
  });

  test('a test belongs to the step its group names; a group of two steps to the later one', () => {
    expect(stepOf('step 3: a reply › is whole')).toBe(3);
    expect(stepOf('steps 2 and 3: send › and receive')).toBe(3);
    expect(stepOf('the programs: server.ts › --help')).toBeUndefined();
    expect(stepOf('other clients: step 2 is not a group')).toBeUndefined();
  });

  test('every lesson counts its steps from its tests', () => {
    for (const lesson of listLessons()) expect(stepCount(lesson), lesson.id).toBeGreaterThanOrEqual(3);
  });

  test('fillSteps takes the first k regions from the solution and keeps the rest of the starter', () => {
    const region = (n: number, body: string) => `// region step-${n}\n${body}\n// endregion step-${n}\n`;
    const starter = `head\n${region(1, 'todo 1')}${region(2, 'todo 2')}tail\n`;
    const solution = `head\n${region(1, 'done 1')}${region(2, 'done 2')}tail\n`;
    expect(regionsOf(starter)).toEqual([1, 2]);
    expect(fillSteps(starter, solution, 0)).toBe(starter);
    expect(fillSteps(starter, solution, 1)).toBe(`head\n${region(1, 'done 1')}${region(2, 'todo 2')}tail\n`);
    expect(fillSteps(starter, solution, 2)).toBe(solution);
  });
});

describe("a lesson's state", () => {
  const lesson = findLesson('05') as LessonInfo;
  const edited = () => false;
  const run = (failed: string[], compileError?: string): Progress => {
    const progress: Progress = { version: 1, lessons: {} };
    recordRun(progress, lesson, { passed: 10 - failed.length, total: 10, failed, compileError });
    return progress;
  };

  test('untouched files are not started, whatever the record says (after a reset, say)', () => {
    const done = run([]);
    expect(stateOf(done, lesson, edited)).toBe('done');
    expect(stateOf(done, lesson, () => true)).toBe('not started');
  });

  test('in progress names the step of the first failing test, of the lesson’s steps', () => {
    const progress = run(['step 3: answer › to its sender', 'step 2: bind › a port']);
    expect(stateOf(progress, lesson, edited)).toBe('in progress');
    expect(progress.lessons[lesson.id]?.step).toBe(2);
    expect(stepCount(lesson)).toBeGreaterThanOrEqual(3);
  });

  test('code that does not compile says so, with the place, and is never done', () => {
    const progress = run([], "exercise/server.ts:12 ';' expected.");
    expect(stateOf(progress, lesson, edited)).toBe('does not compile');
    expect(progress.lessons[lesson.id]?.compileError).toBe("exercise/server.ts:12 ';' expected.");
  });
});

describe('editions: a translation against its English', () => {
  const english = [
    '**English** · [简体中文](README.zh-CN.md)',
    '',
    '# 01 · A client',
    '',
    'See [the step](#step-1-connect).',
    '',
    '![the handshake](diagrams/handshake.svg)',
    '',
    '### Step 1: connect',
    '',
    '<!-- include: exercise/client.ts#step-1 -->',
    '',
    '```sh',
    '# not a heading',
    '```',
  ].join('\n');
  const chinese = (source: string, edit: (lines: string[]) => void = () => {}) => {
    const lines = [
      `<!-- zh-CN translation of README.md @ sha256:${sourceHash(source)} -->`,
      '',
      '[English](README.md) · **简体中文**',
      '',
      '# 01 · 客户端',
      '',
      '见[这一步](#第-1-步连接)。',
      '',
      '![握手](diagrams/handshake.svg)',
      '',
      '### 第 1 步：连接',
      '',
      '<!-- include: exercise/client.ts#step-1 -->',
      '',
      '```sh',
      '# 不是标题',
      '```',
    ];
    edit(lines);
    return lines.join('\n');
  };
  const meta = {
    title: 'A client',
    summary: 'Connect.',
    objectives: ['connect'],
    hints: [{ step: 1, hints: ['Connect.', 'Call `net.connect({ host, port })`.'] }],
    translations: {
      'zh-CN': {
        title: '客户端',
        summary: '连接。',
        objectives: ['连接'],
        hints: [{ step: 1, hints: ['连接。', '调用 `net.connect({ host, port })`。'] }],
      },
    },
  };
  const compare = (zh: string | undefined, en = english, lessonMeta: LessonMeta = meta) => {
    const dir = mkdtempSync(join(tmpdir(), 'editions-'));
    try {
      writeFileSync(join(dir, 'README.md'), en);
      if (zh !== undefined) writeFileSync(join(dir, 'README.zh-CN.md'), zh);
      return parity(dir, 'zh-CN', lessonMeta);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('the same outline, stamped with the English it was made from, is in sync', () => {
    expect(compare(chinese(english))).toEqual({ state: 'in sync', problems: [] });
  });

  test('an English changed since is stale, and says which hash to stamp', () => {
    const changed = `${english}\n\nOne more sentence.\n`;
    const { state, problems } = compare(chinese(english), changed);
    expect(state).toBe('stale');
    expect(problems.join()).toContain(`sha256:${sourceHash(changed)}`);
  });

  test('no translation yet is missing', () => {
    expect(compare(undefined).state).toBe('missing');
  });

  test.for([
    ['a heading left out', (l: string[]) => l.splice(10, 1), /part at heading 2 \('### Step 1: connect'\)/],
    [
      'an include left out',
      (l: string[]) => l.splice(12, 1),
      /includes differ.*missing exercise\/client.ts#step-1/,
    ],
    ['an image left out', (l: string[]) => l.splice(8, 1), /images differ.*missing diagrams\/handshake.svg/],
    [
      'a code block left out',
      (l: string[]) => l.splice(14, 3),
      /1 code blocks?, the English 1|0 code blocks, the English 1/,
    ],
    [
      'an anchor no heading has',
      (l: string[]) => l.splice(6, 1, '见[这一步](#step-1-connect)。'),
      /no heading with that anchor/,
    ],
    [
      'no stamp',
      (l: string[]) => l.splice(0, 1, ''),
      /must start with <!-- zh-CN translation of README.md @ sha256:/,
    ],
  ] as const)('%s is reported', ([, edit, message]) => {
    const { state, problems } = compare(chinese(english, edit));
    expect(state).toBe('different');
    expect(problems.join('\n')).toMatch(message);
  });

  test('hints keep the English steps, their number, and the last hint code unchanged', () => {
    const zh = meta.translations['zh-CN'];
    const fewer = { ...meta, translations: { 'zh-CN': { ...zh, hints: [{ step: 1, hints: ['连接。'] }] } } };
    expect(compare(chinese(english), english, fewer).problems.join()).toMatch(
      /steps and hints per step \(1:2\), not \(1:1\)/,
    );
    const edited = {
      ...meta,
      translations: {
        'zh-CN': { ...zh, hints: [{ step: 1, hints: ['连接。', '调用 `net.connect(port)`。'] }] },
      },
    };
    expect(compare(chinese(english), english, edited).problems.join()).toMatch(
      /last hint's code must be the English's/,
    );
    expect(compare(chinese(english), english, { ...meta, translations: {} }).problems.join()).toMatch(
      /has no "translations"/,
    );
  });
});

describe("the learner's language", () => {
  test.for([
    [{ COURSE_LANG: 'zh-CN' }, 'zh-CN'],
    [{ LANG: 'zh_CN.UTF-8' }, 'zh-CN'],
    [{ LC_ALL: 'zh_SG.UTF-8', LANG: 'en_US.UTF-8' }, 'zh-CN'],
    [{ COURSE_LANG: 'en', LANG: 'zh_CN.UTF-8' }, 'en'],
    [{ LANG: 'en_GB.UTF-8' }, 'en'],
    [{ LANG: 'zhx' }, 'en'],
    [{ LANG: 'C' }, 'en'],
  ] as const)('%j is %s', ([env, lang]) => {
    expect(learnerLanguage(env, undefined)).toBe(lang);
  });

  test('a language saved by `course lang` comes after COURSE_LANG and before the locale', () => {
    expect(learnerLanguage({ LANG: 'en_US.UTF-8' }, 'zh-CN')).toBe('zh-CN');
    expect(learnerLanguage({ LANG: 'zh_CN.UTF-8' }, 'en')).toBe('en');
    expect(learnerLanguage({ COURSE_LANG: 'en' }, 'zh-CN')).toBe('en');
  });
});

describe("the starter's comments in another language", () => {
  const source = [
    '/**',
    ' * Lesson 99: a file.',
    ' *',
    ' *   npx tsx file.ts',
    ' */',
    "import net from 'node:net'; // why net",
    '',
    '// region step-1',
    'export function f(): string {',
    '  // TODO(1): return a URL.',
    '  // Look at the docs.',
    "  const url = 'http://example.com/*not a comment*/';",
    '  const re = /\\/\\/ not a comment/;',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal's source, as a string
    '  return `// ${url} ${re}`; /** a block after code */',
    '}',
    '// endregion step-1',
    '',
  ].join('\n');

  test('finds each comment, with its text, and leaves strings, templates, regexes and regions alone', () => {
    expect(commentBlocks(source).map((b) => [b.style, b.text])).toEqual([
      ['block', 'Lesson 99: a file.\n\n  npx tsx file.ts'],
      ['trailing', 'why net'],
      ['line', 'TODO(1): return a URL.\nLook at the docs.'],
      ['trailing', 'a block after code'],
    ]);
  });

  test('writes each translation in the style and indent of its comment, and the code stays the same', () => {
    const { text, untranslated } = translateComments(source, [
      { en: 'Lesson 99: a file.\n\n  npx tsx file.ts', zh: '第 99 课：一个文件。\n\n  npx tsx file.ts' },
      { en: 'TODO(1): return a URL.\nLook at the docs.', zh: 'TODO(1)：返回一个网址。\n看文档。' },
      { en: 'why net', zh: '为什么用 net' },
    ]);
    expect(untranslated).toEqual(['a block after code']);
    expect(text).toContain('/**\n * 第 99 课：一个文件。\n *\n *   npx tsx file.ts\n */');
    expect(text).toContain('  // TODO(1)：返回一个网址。\n  // 看文档。\n');
    expect(text).toContain("import net from 'node:net'; // 为什么用 net");
    expect(text).toContain('// region step-1');
    expect(codeOnly(text)).toBe(codeOnly(source));
    expect(() => translateComments(source, [{ en: 'why net', zh: 'a */ b' }])).toThrow(/\*\//);
  });

  const translated = listLessons().filter((l) => existsSync(catalogueFile(l.dir, 'zh-CN')));
  test.for(translated.map((l) => l.id))(
    "%s: the Chinese starter is the English one's code, every comment translated, each TODO(n) kept",
    (id) => {
      const lesson = findLesson(id) as LessonInfo;
      const english = starterFiles(lesson, 'en');
      const parityNow = starterParity(lesson.dir, 'zh-CN', english);
      expect(parityNow.problems).toEqual([]);
      for (const [name, text] of starterFiles(lesson, 'zh-CN')) {
        const original = english.get(name) as string;
        expect(codeOnly(text), name).toBe(codeOnly(original));
        const todos = (t: string) => t.match(/TODO\(\d+\)/g) ?? [];
        expect(todos(text), name).toEqual(todos(original));
      }
    },
  );

  test('a catalogue that does not match the starter is stale, and one that drops a TODO(n) differs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'starter-'));
    try {
      const files = new Map([['a.ts', '// TODO(2): do it.\nexport {};\n']]);
      writeFileSync(
        join(dir, 'exercise.zh-CN.json'),
        JSON.stringify({ 'a.ts': [{ en: 'Old.', zh: '旧。' }] }),
      );
      expect(starterParity(dir, 'zh-CN', files).state).toBe('stale');
      writeFileSync(
        join(dir, 'exercise.zh-CN.json'),
        JSON.stringify({ 'a.ts': [{ en: 'TODO(2): do it.', zh: '做吧。' }] }),
      );
      expect(starterParity(dir, 'zh-CN', files)).toMatchObject({ state: 'different' });
      writeFileSync(
        join(dir, 'exercise.zh-CN.json'),
        JSON.stringify({ 'a.ts': [{ en: 'TODO(2): do it.', zh: 'TODO(2)：做吧。' }] }),
      );
      expect(starterParity(dir, 'zh-CN', files).state).toBe('in sync');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
