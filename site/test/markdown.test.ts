/** What a README may put on a page: its text and the course's directives, never live HTML. */

import { join } from 'node:path';
import { findLesson, type LessonInfo } from '@course/model/lessons';
import { starterFiles } from '@course/model/starters';
import { describe, expect, test } from 'vitest';
import { shippedText } from '../src/build.ts';
import { loadHighlighter, REPO_ROOT, renderMarkdown } from '../src/markdown.ts';

async function render(source: string, read?: (file: string) => string, dir = REPO_ROOT): Promise<string> {
  const context = {
    dir,
    pageDepth: 0,
    pages: new Map<string, string>(),
    diagrams: new Map([['figure:demo', '<svg><title>demo</title></svg>']]),
    highlighter: await loadHighlighter(),
    read,
  };
  return renderMarkdown(source, context).html;
}

describe('raw HTML in a README', () => {
  test('a script or an event handler is shown as text, not run', async () => {
    const html = await render(
      '# Title\n\n<script>alert(1)</script>\n\nText with <img src=x onerror="alert(2)"> inside.\n',
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
  });

  test("the course's directives and its own markup still render; plain comments are dropped", async () => {
    const html = await render(
      '# Title\n\n<!-- figure: demo -->\n\n<!-- a note for editors -->\n\n> [!TIP]\n> Try it.\n',
    );
    expect(html).toContain('<figure class="diagram figure"><svg>');
    expect(html).not.toContain('a note for editors');
    expect(html).toContain('<a class="anchor" href="#title"');
    expect(html).toContain('<strong class="callout-title">Tip</strong>');
  });
});

describe('<details>', () => {
  test('folds its markdown away as on GitHub; the summary keeps only text and code', async () => {
    const html = await render(
      '<details>\n<summary>Going <code>further</code></summary>\n\nSome **depth**.\n\n</details>\n',
    );
    expect(html).toContain('<details><summary>Going <code>further</code></summary>');
    expect(html).toContain('<p>Some <strong>depth</strong>.</p>\n</details>');
    // Any other markup in a summary: the site does not trust it, and shows it all as text.
    const hostile = await render(
      '<details>\n<summary><b onclick="x()">now</b></summary>\n\nx\n\n</details>\n',
    );
    expect(hostile).not.toContain('<b onclick');
    expect(hostile).toContain('&lt;b onclick=');
  });
});

describe('diagrams', () => {
  test('a paragraph that is only ![title](diagrams/NAME.svg) is the diagram, inline, as GitHub shows the file', async () => {
    const html = await render('# T\n\n![The demo figure](diagrams/demo.svg)\n\nAfter.\n');
    expect(html).toContain('<figure class="diagram figure"><svg><title>demo</title></svg></figure>');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<p>\s*<figure/);
  });

  test('a translated README shows diagrams/NAME.zh-CN.svg: the page draws NAME, in its own language', async () => {
    // The build hands a Chinese page the Chinese drawings (site/src/build.ts), under the same names.
    const html = await render('# 标题\n\n![演示图](diagrams/demo.zh-CN.svg)\n');
    expect(html).toContain('<figure class="diagram figure"><svg><title>demo</title></svg></figure>');
    expect(html).not.toContain('<img');
  });

  test('an unknown diagram fails the build, naming it; other images keep their path from the page', async () => {
    await expect(render('![x](diagrams/missing.svg)\n')).rejects.toThrow("no diagram called 'missing'");
    const html = await render('See ![the logo](pictures/logo.svg) here.\n');
    expect(html).toContain('<img src="pictures/logo.svg" alt="the logo">');
  });
});

describe('code listings', () => {
  const lesson = findLesson('01') as LessonInfo;

  test("an include shows the file as the site reads it: the shipped starter, not the learner's edits", async () => {
    const edited = '// region step-3\nconst mine = "the learner\'s own code";\n// endregion step-3\n';
    const html = await render('<!-- include: exercise/client.ts#step-3 -->\n', () => edited, lesson.dir);
    expect(html).toContain('the learner');
    const file = join(lesson.dir, 'exercise', 'client.ts');
    expect(shippedText(file), 'the site reads the starter kept at install (or from git)').toBe(
      starterFiles(lesson).get('client.ts'),
    );
    const readme = join(lesson.dir, 'README.md');
    expect(shippedText(readme).length, 'other files as they are').toBeGreaterThan(100);
  });
});
