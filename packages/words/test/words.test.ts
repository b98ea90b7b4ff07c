/** Every catalogue says everything English says, and nothing is left empty. */
import { CATALOGUES, words } from '@course/words';
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
