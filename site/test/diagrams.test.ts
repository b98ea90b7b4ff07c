/**
 * The site's diagrams, without a browser: the SVG each one draws, and the real exchanges the
 * lessons record for them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { showBytes } from '@course/helpers/show';
import type { WireEvent } from '@course/helpers/wire';
import { listLessons } from '@course/model/lessons';
import { words } from '@course/words';
import { describe, expect, test } from 'vitest';
import { diagrams as lesson01 } from '../../lessons/01-tcp-client/diagrams.ts';
import { diagrams as lesson02 } from '../../lessons/02-tcp-server/diagrams.ts';
import { figures } from '../src/diagrams/figures.ts';
import {
  compareFolder,
  diagramFiles,
  diagramReferences,
  imageProblems,
  lessonDiagrams,
  standaloneSvg,
} from '../src/diagrams/lesson.ts';
import { renderWire } from '../src/diagrams/sequence.ts';
import { escapeText } from '../src/diagrams/svg.ts';
import { REPO_ROOT } from '../src/markdown.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const event = (from: WireEvent['from'], kind: WireEvent['kind'], bytes = '', at = 0): WireEvent => ({
  at,
  from,
  kind,
  bytes: utf8(bytes),
});

/** A request cut in three pieces, one of them with markup in it, and a reply. */
const exchange: WireEvent[] = [
  event('client', 'connect'),
  event('client', 'data', 'hel'),
  event('client', 'data', 'lo <a&b>'),
  event('client', 'data', '\n'),
  event('client', 'fin'),
  event('server', 'data', 'HELLO <A&B>\n'),
  event('server', 'fin'),
  event('client', 'close'),
  event('server', 'close'),
];

const count = (text: string, part: string) => text.split(part).length - 1;
const descOf = (svg: string) => /<desc id="[^"]+">([^<]*)<\/desc>/.exec(svg)?.[1] ?? '';

/** The SVG is well-formed: every tag closes, in order, and every attribute is quoted. */
function expectWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const [tag, close, name = '', attributes = '', selfClosing] of svg.matchAll(
    /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z0-9:-]+="[^"<]*")*)\s*(\/?)>/g,
  )) {
    expect(attributes.includes('<'), tag).toBe(false);
    if (selfClosing) continue;
    if (close) expect(stack.pop(), `closing ${tag}`).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  // Nothing that looks like a tag was left unparsed (an unescaped `<` in a label, say).
  const tags = svg.match(/<[^>]*>/g) ?? [];
  const parsed = [...svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z0-9:-]+="[^"<]*")*)\s*(\/?)>/g)];
  expect(parsed.length).toBe(tags.length);
}

/** Accessible, themeable and reproducible, whatever the diagram. */
function expectGoodSvg(svg: string): void {
  expectWellFormed(svg);
  expect(svg).toMatch(/^<svg [^>]*viewBox="0 0 \d+ \d+"[^>]* width="100%"[^>]*max-width: \d+px/);
  expect(svg).toContain('role="img"');
  const labelledBy = /aria-labelledby="([^"]+)"/.exec(svg)?.[1]?.split(' ') ?? [];
  expect(labelledBy).toHaveLength(2);
  expect(svg).toContain(`<title id="${labelledBy[0]}">`);
  expect(svg).toContain(`<desc id="${labelledBy[1]}">`);
  // Colours come from classes (diagrams.css) or currentColor, never from the SVG itself.
  expect(svg).not.toMatch(/#[0-9a-f]{3,8}\b|rgba?\(|hsla?\(/i);
  for (const [, value] of svg.matchAll(/(?:fill|stroke)="([^"]*)"/g))
    expect(['currentColor', 'none']).toContain(value);
  expect(svg).not.toMatch(/NaN|undefined/);
}

describe('renderWire', () => {
  const svg = renderWire(exchange, { title: 'A cut request' });

  test('draws one arrow per data event, with its byte count', () => {
    expectGoodSvg(svg);
    expect(count(svg, 'class="diagram-data ')).toBe(4);
    expect(count(svg, 'class="diagram-data diagram-client"')).toBe(3);
    expect(count(svg, 'class="diagram-data diagram-server"')).toBe(1);
    expect(svg).toContain('>3 bytes<');
    expect(svg).toContain('>8 bytes<');
    expect(svg).toContain('>1 byte<');
    expect(svg).toContain('>12 bytes<');
  });

  test('escapes markup in the bytes and shows control characters as the failure messages do', () => {
    expect(svg).toContain('"lo &lt;a&amp;b&gt;"');
    expect(svg).toContain('"HELLO &lt;A&amp;B&gt;\\n"');
    expect(svg).not.toContain('<a&b>');
    expect(svg).toContain('>"\\n"<');
  });

  test('binary bytes show as hex outside the quotes, never as control pictures', () => {
    const frame = Uint8Array.of(0, 0, 0, 5, ...utf8('hello'), 0x1b, 0x7f, 0xc2, 0xa0, 0xff);
    const binary = renderWire([{ at: 0, from: 'client', kind: 'data', bytes: frame }], { title: 'frame' });
    expect(binary).toContain('>00 00 00 05 "hello" 1b 7f c2 a0 ff<');
    expect(binary).not.toMatch(/[\u2400-\u243f↵⇥]/);
    // The same words as the harness's failure messages (packages/helpers/src/show.ts).
    expect(binary).toContain(`>${showBytes(frame)}<`);
    const tab = renderWire([event('server', 'data', 'a\tb\r\n"q"\\')], { title: 'escapes' });
    expect(tab).toContain(`>"a\\tb\\r\\n\\"q\\"\\\\"<`);
  });

  test('draws the handshake, the FINs, the RST and each close', () => {
    expect(svg).toContain('>SYN<');
    expect(svg).toContain('>SYN-ACK<');
    expect(svg).toContain('>ACK<');
    expect(count(svg, '>FIN (done sending)<')).toBe(2);
    expect(count(svg, 'stroke-dasharray')).toBe(2);
    expect(count(svg, 'class="diagram-close"')).toBe(2);
    const reset = renderWire([event('client', 'connect'), event('server', 'reset')], { title: 'reset' });
    expect(reset).toContain('class="diagram-reset"');
    expect(reset).toContain('>RST<');
  });

  test('its description lists the events, in order, in words', () => {
    const desc = descOf(svg);
    const expected = [
      '1. client connects to server: the three-way handshake, SYN, SYN-ACK, ACK.',
      '2. client sends 3 bytes: "hel".',
      '3. client sends 8 bytes: "lo &lt;a&amp;b&gt;".',
      '4. client sends 1 byte: "\\n".',
      '5. client sends FIN: done sending.',
      '6. server sends 12 bytes: "HELLO &lt;A&amp;B&gt;\\n".',
      '7. server sends FIN: done sending.',
      "8. client's socket closes.",
      "9. server's socket closes.",
    ];
    let from = 0;
    for (const sentence of expected) {
      const at = desc.indexOf(sentence, from);
      expect(at, `${sentence} in ${desc}`).toBeGreaterThanOrEqual(from);
      from = at + sentence.length;
    }
  });

  test('the same events give the same SVG, whatever their times; ids come from the title', () => {
    const later = exchange.map((e, i) => ({ ...e, at: 1000 + i * 37.5, bytes: new Uint8Array(e.bytes) }));
    expect(renderWire(later, { title: 'A cut request' })).toBe(svg);
    expect(svg).toContain('id="wire-a-cut-request-title"');
    expect(renderWire(exchange, { title: 'Another' })).toContain('id="wire-another-desc"');
  });

  test('uses the lifeline labels it is given', () => {
    const named = renderWire(exchange, { title: 't', client: 'client.ts', server: 'nc -l' });
    expect(named).toContain('>client.ts<');
    expect(named).toContain('>nc -l<');
    expect(descOf(named)).toContain('client.ts sends 3 bytes');
  });

  test('a character cut between pieces shows as the bytes of each half', () => {
    const bytes = utf8('hé你');
    const cut = renderWire(
      [
        { at: 0, from: 'client', kind: 'data', bytes: bytes.subarray(0, 2) },
        { at: 0, from: 'client', kind: 'data', bytes: bytes.subarray(2, 4) },
        { at: 0, from: 'client', kind: 'data', bytes: bytes.subarray(4) },
      ],
      { title: 'cut' },
    );
    expect(cut).toContain('>"h" c3 (start of é)<');
    expect(cut).toContain('>a9 (end of é) e4 (start of 你)<');
    expect(cut).toContain('>bd a0 (end of 你)<');
    const binary = renderWire(
      [event('server', 'data', '')].map((e) => ({ ...e, bytes: Uint8Array.of(0xff, 0x41) })),
      {
        title: 'binary',
      },
    );
    expect(binary).toContain('>ff "A"<');
  });

  test('cuts a long piece with …, and still counts all its bytes', () => {
    const long = renderWire([event('client', 'data', 'x'.repeat(500))], { title: 'long' });
    expect(long).toMatch(/>"x+…"</);
    expect(long).toContain('>500 bytes<');
    expect(long.length).toBeLessThan(3000);
  });
});

describe('figures', () => {
  test.each([
    'tcp-handshake',
    'client-steps',
    'server-steps',
    'tcp-layers',
    'tcp-close',
    'backlog-queues',
    'nagle',
  ])('%s', (name) => {
    const figure = figures[name];
    expect(figure, name).toBeDefined();
    const svg = figure?.render() ?? '';
    expectGoodSvg(svg);
    expect(svg).toContain(`>${figure?.title}</title>`);
    expect(descOf(svg).length).toBeGreaterThan(80);
    expect(figure?.render()).toBe(svg);
  });

  test('their ids differ from one another', () => {
    const ids = Object.values(figures).map((f) => /id="([^"]+)-title"/.exec(f.render())?.[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('the steps carry Node calls', () => {
    const client = figures['client-steps']?.render() ?? '';
    for (const part of [
      'socket()',
      'connect()',
      'send()',
      'recv()',
      'close()',
      'net.connect',
      'socket.end(message)',
    ])
      expect(client).toContain(part);
    const server = figures['server-steps']?.render() ?? '';
    for (const part of [
      'bind()',
      'listen()',
      'accept()',
      'createServer() made no socket yet',
      'server.listen',
      'for each client',
    ])
      expect(server).toContain(part);
  });
});

describe('the new figures', () => {
  test('tcp-close names every state of a close, and TIME_WAIT on the side that closed first', () => {
    const svg = figures['tcp-close']?.render() ?? '';
    for (const state of [
      'ESTABLISHED',
      'FIN_WAIT_1',
      'FIN_WAIT_2',
      'CLOSE_WAIT',
      'LAST_ACK',
      'TIME_WAIT',
      'CLOSED',
    ])
      expect(svg).toContain(`>${state}<`);
    expect(descOf(svg)).toContain('the first enters TIME_WAIT');
    expect(descOf(svg)).toContain('60 s on Linux');
  });

  test('backlog-queues draws both queues, the handshake and what a full queue does', () => {
    const svg = figures['backlog-queues']?.render() ?? '';
    for (const part of ['>SYN queue<', '>accept queue<', '>1. SYN<', '>2. SYN-ACK<', '>3. ACK<', 'somaxconn'])
      expect(svg).toContain(part);
    expect(descOf(svg)).toContain('connect() succeeds and then nothing answers');
  });

  test('nagle shows one segment held for the ACK, and five without Nagle', () => {
    const svg = figures.nagle?.render() ?? '';
    expect(count(svg, 'diagram-segment')).toBe(2 + 5);
    expect(svg).toContain('>"ello"<');
    expect(svg).toContain('setNoDelay(true)');
  });
});

describe('a lesson’s diagrams (lesson.ts)', () => {
  const readme = [
    '# T',
    '![The steps](diagrams/client-steps.svg)',
    'Inline ![x](diagrams/tcp-layers.svg) too, and ![a photo](pictures/cat.svg) is not a diagram.',
    '```md',
    '![in a code block](diagrams/not-this.svg)',
    '```',
    '<!-- figure: tcp-handshake -->',
  ].join('\n');

  test('finds image lines and the older directives, with their lines, outside code blocks', () => {
    expect(diagramReferences(readme)).toEqual([
      { name: 'client-steps', line: 2, form: 'image' },
      { name: 'tcp-layers', line: 3, form: 'image' },
      { name: 'tcp-handshake', line: 7, form: 'figure', kind: 'figure' },
    ]);
  });

  test('draws figures by name, and says which README line asks for an unknown one', async () => {
    const drawn = await lessonDiagrams(REPO_ROOT, readme, 'README.md');
    expect([...drawn.keys()]).toEqual(['client-steps', 'tcp-layers', 'tcp-handshake']);
    expect(drawn.get('client-steps')?.kind).toBe('figure');
    await expect(lessonDiagrams(REPO_ROOT, '![?](diagrams/nope.svg)\n', 'README.md')).rejects.toThrow(
      "README.md:1: no figure or diagram called 'nope'",
    );
  });

  test('a standalone SVG has its size, its colours, a background and its title', () => {
    const inline = figures['tcp-layers']?.render() ?? '';
    const file = standaloneSvg(inline);
    const width = /viewBox="0 0 (\d+) (\d+)"/.exec(file);
    expect(file).toMatch(new RegExp(`^<svg [^>]*width="${width?.[1]}" height="${width?.[2]}"`));
    expect(file).not.toContain('width="100%"');
    expect(file).not.toContain('font-family="inherit"');
    expect(file).toContain('<title id="figure-tcp-layers-title">');
    // diagrams.css inside, light by default and dark when the reader's system is.
    expect(file).toMatch(
      /<style>[\s\S]*--diagram-fg: #1f2328[\s\S]*prefers-color-scheme: dark[\s\S]*<\/style>/,
    );
    expect(file).toContain('class="diagram-background"');
    expect(file).not.toMatch(/\/\*/);
    expect(file.endsWith('</svg>\n')).toBe(true);
    expect(standaloneSvg(inline)).toBe(file);
    // What is drawn is the same as inline.
    expect(
      file.replace(/<style>[\s\S]*?<\/style>\n<rect class="diagram-background"[^>]*>\n/, '').slice(-2000),
    ).toBe(`${inline}\n`.slice(-2000));
  });
});

describe('in Chinese (zh-CN)', () => {
  /** Every string of a part of the catalogue (not its functions), `site.brand` style. */
  const strings = (value: unknown): string[] =>
    typeof value === 'string'
      ? [value]
      : typeof value === 'object' && value !== null
        ? Object.values(value).flatMap(strings)
        : [];
  /** The text an SVG shows or says: its text nodes, its title and its description. */
  const textOf = (svg: string) => [...svg.matchAll(/>([^<]+)</g)].map((m) => m[1]).join('\n');
  const en = words('en').diagrams;
  const zh = words('zh-CN').diagrams;

  test('a wire diagram: the lifelines, labels and description in Chinese, no English word left', () => {
    const svg = renderWire(exchange, { title: '一次被切开的请求', lang: 'zh-CN' });
    expectGoodSvg(svg);
    for (const label of ['客户端', '服务端', 'FIN（发送完毕）', '已关闭', '3 字节', '12 字节'])
      expect(svg).toContain(`>${label}<`);
    expect(svg).toContain('>一次被切开的请求</title>');
    expect(descOf(svg)).toMatch(/^时序图，客户端 在左，服务端 在右/);
    expect(descOf(svg)).toContain('1. 客户端 连接 服务端：三次握手');
    for (const english of [
      'client',
      'server',
      'done sending',
      'closed',
      'bytes',
      'byte<',
      'Sequence diagram',
    ])
      expect(textOf(svg), english).not.toContain(english);
    // Bytes, flags and code stay as they are.
    for (const kept of ['>SYN<', '>SYN-ACK<', '>ACK<', '"lo &lt;a&amp;b&gt;"']) expect(svg).toContain(kept);
    const cut = renderWire(
      [
        { at: 0, from: 'client', kind: 'data', bytes: utf8('hé').subarray(0, 2) },
        { at: 0, from: 'client', kind: 'data', bytes: utf8('hé').subarray(2) },
      ],
      { title: 'cut', lang: 'zh-CN' },
    );
    expect(cut).toContain('>"h" c3 (é 的开头)<');
    expect(cut).toContain('>a9 (é 的结尾)<');
  });

  test.each(Object.keys(figures))(
    'figure %s carries the Chinese words of the catalogue, and no English',
    (name) => {
      const figure = figures[name];
      const svg = figure?.render('zh-CN') ?? '';
      expectGoodSvg(svg);
      const own = (catalogue: typeof en) =>
        catalogue.figures[name as Exclude<keyof typeof catalogue.figures, 'steps'>];
      expect(svg).toContain(`>${escapeText(own(zh).title)}</title>`);
      expect(figure?.titleIn('zh-CN')).toBe(own(zh).title);
      const text = textOf(svg);
      for (const word of strings(own(zh))) expect(text, word).toContain(escapeText(word));
      const chinese = new Set(strings(own(zh)));
      for (const word of strings(own(en)).filter((w) => !chinese.has(w)))
        expect(text, word).not.toContain(escapeText(word));
      // The same ids in both languages: a page may show either.
      const ids = (s: string) => [...s.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
      expect(ids(svg)).toEqual(ids(figure?.render() ?? ''));
    },
  );

  test('English is the default, and its drawing is the one committed beside the README', () => {
    for (const figure of Object.values(figures)) expect(figure.render('en')).toBe(figure.render());
    expect(renderWire(exchange, { title: 't', lang: 'en' })).toBe(renderWire(exchange, { title: 't' }));
    const committed = readFileSync(
      join(REPO_ROOT, 'lessons', '01-tcp-client', 'diagrams', 'tcp-layers.svg'),
      'utf8',
    );
    expect(standaloneSvg(figures['tcp-layers']?.render() ?? '')).toBe(committed);
    expect(committed).toContain('>application<');
    expect(committed).not.toMatch(/\p{Script=Han}/u);
  });

  test("a lesson's wire diagram takes its Chinese title from diagrams.ts, its ids from the English", async () => {
    const drawn = await lessonDiagrams(
      join(REPO_ROOT, 'lessons', '01-tcp-client'),
      '![t](diagrams/request-reply.svg)\n![t](diagrams/tcp-layers.svg)\n',
      'README.md',
      ['en', 'zh-CN'],
    );
    const wire = drawn.get('request-reply');
    const title = lesson01['request-reply']?.['zh-CN']?.title ?? '';
    expect(title).toMatch(/\p{Script=Han}/u);
    expect(wire?.editions['zh-CN']?.title).toBe(title);
    expect(wire?.editions['zh-CN']?.svg).toContain(`>${escapeText(title)}</title>`);
    expect(wire?.editions.en?.svg).toBe(wire?.svg);
    const id = (s = '') => / id="([^"]+)-title"/.exec(s)?.[1];
    expect(id(wire?.editions['zh-CN']?.svg)).toBe(id(wire?.svg));
    // Both differ from the English: each has its .zh-CN.svg file.
    expect([...diagramFiles(drawn.values()).keys()].sort()).toEqual([
      'request-reply.svg',
      'request-reply.zh-CN.svg',
      'tcp-layers.svg',
      'tcp-layers.zh-CN.svg',
    ]);
  });

  test('a drawing the same in both languages has no .zh-CN.svg', () => {
    const svg = figures['tcp-layers']?.render() ?? '';
    const same = {
      name: 'x',
      kind: 'figure' as const,
      title: 't',
      svg,
      editions: { en: { title: 't', svg }, 'zh-CN': { title: 't', svg } },
    };
    expect([...diagramFiles([same]).keys()]).toEqual(['x.svg']);
  });

  test('the check flags a Chinese file missing, stale, no longer needed, or unknown', () => {
    const wanted = new Map([
      ['a.svg', 'A'],
      ['a.zh-CN.svg', 'A 中文'],
      ['b.svg', 'B'],
      ['c.svg', 'C'],
      ['c.zh-CN.svg', 'C 中文'],
    ]);
    const onDisk = new Map([
      ['a.svg', 'A'],
      ['a.zh-CN.svg', 'A 旧的'],
      ['b.svg', 'B'],
      ['b.zh-CN.svg', 'B 中文'],
      ['c.svg', 'C'],
      ['d.zh-CN.svg', 'D'],
    ]);
    const states = Object.fromEntries(compareFolder(wanted, onDisk).map((f) => [f.file, f.state]));
    expect(states).toEqual({
      'a.svg': 'same',
      'a.zh-CN.svg': 'differs',
      'b.svg': 'same',
      'b.zh-CN.svg': 'unneeded',
      'c.svg': 'same',
      'c.zh-CN.svg': 'missing',
      'd.zh-CN.svg': 'unknown',
    });
    expect(compareFolder(new Map([['e.svg', 'E']]), new Map())).toEqual([
      { file: 'e.svg', svg: 'E', state: 'missing' },
    ]);
  });

  test('the check flags a Chinese README that shows the English drawing where a Chinese one exists', () => {
    const wanted = new Set(['a.svg', 'a.zh-CN.svg', 'b.svg']);
    const readme = [
      '![甲](diagrams/a.svg)',
      '![乙](diagrams/b.svg)',
      '![甲](diagrams/a.zh-CN.svg)',
      '![乙](diagrams/b.zh-CN.svg)',
    ].join('\n');
    expect(imageProblems(readme, 'zh-CN', wanted)).toEqual([
      { line: 1, problem: 'shows diagrams/a.svg, whose words are English: show diagrams/a.zh-CN.svg' },
      {
        line: 4,
        problem:
          'shows diagrams/b.zh-CN.svg, which is not drawn (the drawing is the English one): show diagrams/b.svg',
      },
    ]);
    expect(imageProblems('![a](diagrams/a.zh-CN.svg)', 'en', wanted)).toEqual([
      { line: 1, problem: 'shows diagrams/a.zh-CN.svg, a drawing in zh-CN' },
    ]);
    expect(diagramReferences('![甲](diagrams/a.zh-CN.svg)')).toEqual([
      { name: 'a', line: 1, form: 'image', lang: 'zh-CN' },
    ]);
  });
});

describe('diagrams.css', () => {
  const css = readFileSync(new URL('../src/diagrams/diagrams.css', import.meta.url), 'utf8');
  const [light = '', dark = ''] = css.split('prefers-color-scheme: dark');
  const colours = (block: string) =>
    Object.fromEntries([...block.matchAll(/--diagram-([a-z]+):\s*(#[0-9a-f]{6})/g)].map((m) => [m[1], m[2]]));

  test('text colours reach 4.5:1 on white and on #0d1117, and on the boxes', () => {
    for (const [block, backgrounds] of [
      [colours(light), ['#ffffff', colours(light).surface]],
      [colours(dark), ['#0d1117', colours(dark).surface]],
    ] as const) {
      for (const name of ['fg', 'muted', 'client', 'server', 'reset', 'accent']) {
        for (const background of backgrounds) {
          const ratio = contrast(block[name] ?? '', background ?? '');
          expect(ratio, `--diagram-${name} on ${background}`).toBeGreaterThanOrEqual(4.5);
        }
      }
    }
  });

  test('styles every class the diagrams use', () => {
    const svgs = [
      renderWire([...exchange, event('client', 'reset')], { title: 'all' }),
      ...Object.values(figures).map((f) => f.render()),
    ].join('');
    const used = new Set([...svgs.matchAll(/class="([^"]+)"/g)].flatMap((m) => m[1]?.split(' ') ?? []));
    const kinds = new Set([
      'diagram-svg-wire',
      'diagram-svg-figure',
      'diagram-actor',
      'diagram-data',
      'diagram-fin',
    ]);
    const styled = [...used].filter((name) => !kinds.has(name) && name !== 'diagram-border');
    for (const name of styled) expect(css, name).toContain(`.${name}`);
  });
});

function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r = 0, g = 0, bl = 0] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}

// ---------------------------------------------------------------------------------------------
// The lessons' recorded exchanges: real sockets on loopback, through the recording proxy.

const concat = (events: WireEvent[], from: WireEvent['from']) =>
  Buffer.concat(events.filter((e) => e.from === from && e.kind === 'data').map((e) => e.bytes));
const kinds = (events: WireEvent[]) => events.map((e) => `${e.from} ${e.kind}`);

/** connect, the client's data then FIN, the server's data then FIN, both sockets closed. */
function expectWholeExchange(events: WireEvent[]): void {
  const list = kinds(events);
  expect(list[0]).toBe('client connect');
  const order = ['client data', 'client fin', 'server data', 'server fin'].map((k) => list.indexOf(k));
  expect(order.every((i) => i > 0)).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
  expect(list).toContain('client close');
  expect(list).toContain('server close');
  expect(list.filter((k) => k.endsWith('reset'))).toEqual([]);
}

describe('lesson 01, request-reply', () => {
  test('records hello and its reply, a FIN each way, both closes', async () => {
    const scenario = lesson01['request-reply'];
    expect(scenario?.title).toBeTruthy();
    const events = (await scenario?.record()) ?? [];
    expectWholeExchange(events);
    expect(concat(events, 'client').toString('utf8')).toBe('hello');
    expect(concat(events, 'server').toString('utf8')).toBe('HELLO');
    expectGoodSvg(renderWire(events, { title: scenario?.title ?? '' }));
  });
});

describe('lesson 02, request-reply', () => {
  test('records the request in several pieces, the reply, a FIN each way, both closes', async () => {
    const scenario = lesson02['request-reply'];
    const events = (await scenario?.record()) ?? [];
    expectWholeExchange(events);
    expect(concat(events, 'client').toString('utf8')).toBe('héllo 你好');
    expect(concat(events, 'server').toString('utf8')).toBe('HÉLLO 你好');
    const pieces = events.filter((e) => e.from === 'client' && e.kind === 'data');
    expect(pieces.length).toBeGreaterThan(1);
    expect(Math.max(...pieces.map((p) => p.bytes.length))).toBeLessThanOrEqual(4);
  });

  test('draws the same diagram on every build (a fixed seed)', async () => {
    const scenario = lesson02['request-reply'];
    const draw = async () => renderWire((await scenario?.record()) ?? [], { title: scenario?.title ?? '' });
    const first = await draw();
    expectGoodSvg(first);
    expect(await draw()).toBe(first);
  });
});

describe('every lesson’s recorded diagrams', () => {
  const withDiagrams = listLessons().filter((lesson) => existsSync(join(lesson.dir, 'diagrams.ts')));

  test.each(withDiagrams.map((lesson) => [lesson.id, lesson.dir]))(
    '%s: each records an exchange that tells the same story on every build',
    async (_, dir) => {
      const { diagrams } = (await import(pathToFileURL(join(dir, 'diagrams.ts')).href)) as {
        diagrams: Record<string, { title: string; record(): Promise<WireEvent[]> }>;
      };
      expect(Object.keys(diagrams).length).toBeGreaterThan(0);
      for (const [name, diagram] of Object.entries(diagrams)) {
        // The same story on every build: who opened, sent FIN, reset and closed, in order, and who
        // sent data. (That every recording is the same to the byte is `npm run diagrams -- --check`:
        // it compares each one with the SVG committed beside the README.)
        const shape = (events: WireEvent[]) => [
          ...events.filter((e) => e.kind !== 'data').map((e) => `${e.from} ${e.kind}`),
          ...new Set(events.filter((e) => e.kind === 'data').map((e) => `${e.from} sent data`)),
        ];
        const first = await diagram.record();
        expect(renderWire(first, { title: diagram.title }), `${name} draws`).toContain('<svg');
        expect(shape(await diagram.record()), `${name} is the same on every build`).toEqual(shape(first));
      }
    },
  );
});
