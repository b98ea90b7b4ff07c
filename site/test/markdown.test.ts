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
