/** Every catalogue says everything English says, and nothing is left empty. */
import { join, relative } from 'node:path';
import { listLessons, ROOT } from '@course/model/lessons';
import { CATALOGUES, words } from '@course/words';
import { HARNESS, readTestWords, staleTestWords, testSources, translator } from '@course/words/tests';
import { describe, expect, test } from 'vitest';

/** `site.brand`, `course.passing()`, …: every leaf of a catalogue, with what it holds. */
function leaves(value: unknown, path = ''): [string, unknown][] {
  if (typeof value === 'object' && value !== null && !(value instanceof RegExp))
    return Object.entries(value).flatMap(([key, v]) => leaves(v, path ? `${path}.${key}` : key));
  return [[path, value]];
}

const english = new Map(leaves(CATALOGUES.en));

describe.for(Object.entries(CATALOGUES))('%s', ([, catalogue]) => {
  const own = new Map(leaves(catalogue));

  test('has exactly the keys of the English catalogue', () => {
    expect([...own.keys()].sort()).toEqual([...english.keys()].sort());
  });

  test('leaves nothing empty, and says every name and number the English says', () => {
    // A probe that reads as a name, a count or a list: ['P0'] prints P0, and joins as P0.
    const said = (value: unknown) => {
      const probes = Array.from({ length: (value as () => unknown).length }, (_, i) => [`P${i}`]);
      const out = String((value as (...a: unknown[]) => unknown)(...probes));
      return probes.map(([p]) => p as string).filter((p) => out.includes(p));
    };
    for (const [key, value] of own) {
      if (typeof value === 'string') expect(value.trim(), key).not.toBe('');
      if (typeof value === 'function') expect(said(value), key).toEqual(said(english.get(key)));
    }
  });
});

test('COURSE_LANG or the locale chooses the catalogue; English is the fallback', () => {
  expect(words('zh-CN').course.states.done).toBe('已完成');
  expect(words('en').course.states.done).toBe('done');
});

describe("the tests' sentences in another language", () => {
  const translate = translator([
    {
      'request() to settle (its timeoutMs is {} ms)': 'request() 应当结束（它的 timeoutMs 是 {} ms）',
      'the server to close the connection': '服务端关闭连接',
      'a reply of {} bytes': '{} 字节的回复',
      'a reply of {} bytes, then {}': '{} 字节的回复，然后是 {}',
      '{} is not what was expected': '{} 不是期望的内容',
      'the reply': '回复',
    },
  ]);

  test('a sentence is translated whole, with the parts the test filled in kept as they are', () => {
    expect(translate('the server to close the connection')).toBe('服务端关闭连接');
    expect(translate('request() to settle (its timeoutMs is 300 ms)')).toBe(
      'request() 应当结束（它的 timeoutMs 是 300 ms）',
    );
    expect(translate('a reply of 12 bytes, then FIN')).toBe('12 字节的回复，然后是 FIN');
    expect(translate('a reply of 12 bytes')).toBe('12 字节的回复');
    expect(translate('the reply is not what was expected')).toBe('回复 不是期望的内容');
    expect(translate('a sentence no catalogue has')).toBe('a sentence no catalogue has');
  });

  test('an entry no test file says any more is stale', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a test file's source, as a string
    const sources = 'expected: `request() to settle (its timeoutMs is ${ms} ms)`';
    expect(
      staleTestWords({ 'request() to settle (its timeoutMs is {} ms)': '…', 'gone away': '…' }, sources),
    ).toEqual(['gone away']);
  });

  // The harness's catalogue, then each lesson's.
  const folders = [HARNESS, ...listLessons().map((l) => l.dir)].filter((dir) => readTestWords(dir, 'zh-CN'));
  test.for(folders.map((dir) => relative(ROOT, dir)))(
    '%s: every entry is said by a test, with its holes kept',
    (folder) => {
      const dir = join(ROOT, folder);
      const catalogue = readTestWords(dir, 'zh-CN') as Record<string, string>;
      expect(staleTestWords(catalogue, testSources(dir))).toEqual([]);
      for (const [from, to] of Object.entries(catalogue))
        expect(to.split('{}').length, from).toBe(from.split('{}').length);
    },
  );
});
