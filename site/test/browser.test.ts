/**
 * The site in a real browser: Debian's Chromium driven by playwright-core, over http (the
 * `npm start` server) and from disk (file://). A failing test leaves a screenshot in
 * site/test-results/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { listLessons } from '@course/model/lessons';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from 'vitest';
import { buildSite, DIST, SITE_DIR, shippedText } from '../src/build.ts';
import { extractRegion, REPO_ROOT } from '../src/markdown.ts';
import { createSiteServer, listenFrom } from '../src/serve.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The pages of one edition: the home page, the glossary and one per lesson that has its text. */
const EDITION = [
  'index.html',
  'glossary.html',
  ...listLessons()
    .filter((lesson) => existsSync(join(lesson.dir, 'README.md')))
    .map((lesson) => `${lesson.id}.html`),
];
/** Every page the build writes: English at the root, 简体中文 under zh-CN/. */
const PAGES = [...EDITION, ...EDITION.map((file) => `zh-CN/${file}`)];
const RESULTS = join(SITE_DIR, 'test-results');
const PHONE = { width: 360, height: 740 };

let browser: Browser;
let server: http.Server;
let base: string;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package, or set CHROMIUM_PATH`);
  }
  await buildSite();
  server = createSiteServer();
  base = `http://127.0.0.1:${await listenFrom(server, 0)}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // A fresh profile each launch; no network but loopback is used or wanted.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server?.closeAllConnections();
});

/** A new page in a new context; console errors and page errors are collected as problems. */
async function open(
  path: string,
  options: Parameters<Browser['newContext']>[0] = {},
  // A concurrent test must pass its own (its context's): the global one cannot tell whose it is.
  onFailed: typeof onTestFailed = onTestFailed,
): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${path}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${path}: ${error.message}`));
  onFailed(async ({ task }) => {
    mkdirSync(RESULTS, { recursive: true });
    const name = task.name.replace(/[^\w-]+/g, '-').slice(0, 80);
    await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true }).catch(() => {});
  });
  await page.goto(path.startsWith('file:') ? path : new URL(path, base).href);
  return { page, context };
}

describe('navigation', () => {
  test('the sidebar leads to a lesson, Next to the one after, and ← / → move between them', async () => {
    const { page, context } = await open('index.html');
    await page
      .getByRole('navigation', { name: 'Lessons' })
      .getByRole('link', { name: /A TCP client/ })
      .click();
    await page.waitForURL(/01-tcp-client\.html$/);
    expect(await page.locator('.sidebar a.current').textContent()).toMatch(/01\s+A TCP client/);
    await page.getByRole('link', { name: /Next →/ }).click();
    await page.waitForURL(/02-tcp-server\.html$/);
    await page.keyboard.press('ArrowLeft');
    await page.waitForURL(/01-tcp-client\.html$/);
    await page.keyboard.press('ArrowRight');
    await page.waitForURL(/02-tcp-server\.html$/);
    await context.close();
  });
});

describe('code', () => {
  test('highlighted code shows several token colours', async () => {
    const { page, context } = await open('02-tcp-server.html');
    const colours = await page
      .locator('pre.shiki span')
      .evaluateAll((spans) => new Set(spans.map((s) => getComputedStyle(s).color)).size);
    expect(colours).toBeGreaterThanOrEqual(4);
    await context.close();
  });

  test('included code equals the region of the shipped starter', async () => {
    const { page, context } = await open('01-tcp-client.html');
    const block = page.locator('figure.code', {
      has: page.locator('figcaption', { hasText: 'exercise/client.ts · step-3' }),
    });
    const shown = await block.locator('pre code').textContent();
    const file = shippedText(join(REPO_ROOT, 'lessons/01-tcp-client/exercise/client.ts'));
    expect(shown?.trimEnd()).toBe(extractRegion(file, 'step-3')?.trimEnd());
    await context.close();
  });

  test('the copy button puts the code on the clipboard', async () => {
    const { page, context } = await open('02-tcp-server.html', {
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const block = page.locator('figure.code').first();
    await block.locator('.copy').click();
    await expect.poll(() => block.locator('.copy').textContent()).toBe('Copied');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(((await block.locator('pre code').textContent()) ?? '').replace(/\n$/, ''));
    await context.close();
  });
});

describe('search', () => {
  const searchFor = async (page: Page, words: string) => {
    await page.getByRole('searchbox', { name: 'Search the course' }).fill(words);
    return page.locator('#search-results a');
  };

  test('finds a lesson by a word from its body, over http, and goes there', async () => {
    const { page, context } = await open('index.html');
    const results = await searchFor(page, 'backlog');
    await expect.poll(() => results.count()).toBeGreaterThan(0);
    expect(await results.first().getAttribute('href')).toMatch(/^02-tcp-server\.html/);
    await results.first().click();
    await page.waitForURL(/02-tcp-server\.html/);
    await context.close();
  });

  test('a page loads the index only once the reader comes to the search box', async () => {
    const { page, context } = await open('02-tcp-server.html');
    const loaded = () => page.evaluate(() => 'COURSE_SEARCH' in window);
    expect(await loaded(), 'the index (most of a megabyte) before the search box is used').toBe(false);
    await page.getByRole('searchbox', { name: 'Search the course' }).focus();
    await expect.poll(loaded, { message: 'the index, once the search box has the focus' }).toBe(true);
    await context.close();
  });

  test('works from disk (file://) too', async () => {
    const { page, context } = await open(pathToFileURL(join(DIST, 'index.html')).href);
    const results = await searchFor(page, 'half-close');
    await expect.poll(() => results.count()).toBeGreaterThan(0);
    expect(await results.first().getAttribute('href')).toMatch(/\.html/);
    await context.close();
  });
});

describe('two editions', () => {
  /** The index of the heading with `id` among the page's headings, and how many there are. */
  const headingIndex = (page: Page, id: string) =>
    page
      .locator('main :is(h1, h2, h3, h4, h5, h6)[id]')
      .evaluateAll((hs, wanted) => [hs.findIndex((h) => h.id === wanted), hs.length], id);
  const NAGLE = 'nagle-setnodelay-cork-none-of-them-makes-boundaries';

  test('the switch leads to the same section of the Chinese page, and back', async () => {
    const { page, context } = await open(`07-sticky-packets.html#${NAGLE}`);
    const [english, count] = await headingIndex(page, NAGLE);
    expect(english).toBeGreaterThan(0);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('link[rel=alternate][hreflang="zh-CN"]').getAttribute('href')).toBe(
      'zh-CN/07-sticky-packets.html',
    );
    await page.locator('.top .edition').click();
    await page.waitForURL(/\/zh-CN\/07-sticky-packets\.html#/);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    const id = decodeURIComponent(new URL(page.url()).hash.slice(1));
    expect(await headingIndex(page, id)).toEqual([english, count]);
    expect(await page.locator(`[id="${id}"]`).textContent()).toMatch(/都不能/);
    await page.locator('.top .edition').click();
    await page.waitForURL(new RegExp(`/07-sticky-packets\\.html#${NAGLE}$`));
    await context.close();
  });

  test('the home page remembers the edition chosen', async () => {
    const { page, context } = await open('index.html');
    await page.locator('.top .edition').click();
    await page.waitForURL(/\/zh-CN\/index\.html$/);
    await page.goto(new URL('index.html', base).href);
    await page.waitForURL(/\/zh-CN\/index\.html$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('手写套接字');
    await page.locator('.top .edition').click();
    await page.waitForURL((url) => url.pathname === '/index.html');
    await context.close();
  });

  const searchIn = async (page: Page, label: string, words: string) => {
    await page.getByRole('searchbox', { name: label }).fill(words);
    const results = page.locator('#search-results a');
    await expect.poll(() => results.count(), { message: `results for ${words}` }).toBeGreaterThan(0);
    return results;
  };

  test('the Chinese search finds 黏包 in lesson 07, and lands on the section', async () => {
    const { page, context } = await open('zh-CN/index.html');
    const sticky = await searchIn(page, '搜索课程', '黏包');
    expect(await sticky.first().getAttribute('href')).toMatch(/^07-sticky-packets\.html/);
    const nagle = await searchIn(page, '搜索课程', '都不能划出边界');
    expect(await nagle.first().getAttribute('href')).toMatch(/^07-sticky-packets\.html#/);
    await nagle.first().click();
    await page.waitForURL(/07-sticky-packets\.html#/);
    const id = decodeURIComponent(new URL(page.url()).hash.slice(1));
    const english = await open('07-sticky-packets.html');
    expect(await headingIndex(page, id)).toEqual(await headingIndex(english.page, NAGLE));
    await english.context.close();
    await context.close();
  });
  test("the Chinese search finds 半连接池 in lesson 02's backlog section", async () => {
    const { page, context } = await open('zh-CN/index.html');
    const backlog = await searchIn(page, '搜索课程', '半连接池');
    expect(await backlog.first().getAttribute('href')).toMatch(/^02-tcp-server\.html#/);
    await backlog.first().click();
    await page.waitForURL(/02-tcp-server\.html#/);
    const id = decodeURIComponent(new URL(page.url()).hash.slice(1));
    expect(await page.locator(`[id="${id}"]`).textContent()).toMatch(/半连接池/);
    await context.close();
  });

  test('the English search finds Chinese terms too, through the glossary', async () => {
    const { page, context } = await open('index.html');
    const sticky = await searchIn(page, 'Search the course', '黏包');
    expect(await sticky.first().getAttribute('href')).toMatch(/^07-sticky-packets\.html#/);
    const port = await searchIn(page, 'Search the course', '端口复用');
    expect(await port.first().getAttribute('href')).toMatch(/^04-port-reuse\.html/);
    await context.close();
  });

  test('the glossary pairs every term with its Chinese name and the section that teaches it', async () => {
    const { page, context } = await open('zh-CN/glossary.html');
    const rows = page.locator('table.glossary tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(50);
    const sticky = rows.filter({ hasText: '黏包' }).first();
    expect(await sticky.locator('a').getAttribute('href')).toMatch(/^07-sticky-packets\.html#/);
    await context.close();
  });
});

describe('looks', () => {
  test('dark mode follows the system setting', async () => {
    const { page, context } = await open('01-tcp-client.html', { colorScheme: 'dark' });
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      'rgb(13, 17, 23)',
    );
    const code = page.locator('pre.shiki span').first();
    expect(await code.evaluate((s) => getComputedStyle(s).color)).not.toBe('rgb(31, 35, 40)');
    await context.close();
  });

  test('on a phone the lessons are a menu', async () => {
    const { page, context } = await open('index.html', { viewport: PHONE, isMobile: true });
    await expect.poll(() => page.locator('#sidebar').isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Lessons' }).click();
    await expect.poll(() => page.locator('#sidebar').isVisible()).toBe(true);
    await context.close();
  });
});

/**
 * Every page of both editions, each opened once (a page load costs more than most checks on it):
 * what it links to and which anchors it has, for the links test after these; its wire diagram;
 * axe; and its width on a phone.
 */
describe('every page', () => {
  const ids = new Map<string, Set<string>>();
  const links = new Map<string, string[]>();
  /** The colours of the code tokens on every page (shiki's `style`): nine kinds today. */
  const tokenStyles = new Set<string>();
  // Every axe rule once per page, and nothing checked twice. The dark scheme changes colours only
  // (site.css and diagrams.css set nothing else under prefers-color-scheme), so in dark only the
  // colour rules run again, on the same page; the Chinese pages share the English ones' styles,
  // so theirs run every rule but those. Measured on a lesson page: opening it takes 0.5 s, axe's
  // first run there 0.4 s more before any rule, and colour contrast 0.9 s of the rules' 1.1 s,
  // most of it on the thousands of tokens in its code. Those come in a few colours, the same on
  // every page: each is checked once, on a block of its own (the last test here), and the code
  // is left out of every page's run.
  const COLOUR_RULES = ['color-contrast', 'link-in-text-block'];
  const CODE = 'pre.shiki > code';
  const cases = PAGES.map((file) =>
    file.startsWith('zh-CN/')
      ? ([file, 'in light, every rule but colour'] as const)
      : ([file, 'in light, and in dark its colours'] as const),
  );

  // Two pages at once (the config's maxConcurrency): axe's work is in Chromium's renderers, and
  // two of them keep both cores busy where one page at a time left one idle.
  test.concurrent.for(cases)(
    '%s: its links and anchors, its diagram, axe %s, and no sideways scroll on a phone',
    // axe reads every node of the page: the longest lesson takes 10 s and more on a busy machine.
    { timeout: 90_000 },
    async ([file], { expect, onTestFailed }) => {
      const { page, context } = await open(file, { colorScheme: 'light' }, onTestFailed);
      ids.set(file, new Set(await page.locator('[id]').evaluateAll((els) => els.map((e) => e.id))));
      links.set(
        file,
        await page.locator('a[href]').evaluateAll((els) => els.map((e) => e.getAttribute('href') ?? '')),
      );
      if (/^(zh-CN\/)?\d/.test(file))
        expect(
          await page.locator('figure.diagram.wire svg').count(),
          `${file}: its wire diagram`,
        ).toBeGreaterThan(0);
      // Legacy mode runs axe in the page itself: the default opens a second page to merge what
      // each frame found, and these pages have no frames. Asking for violations only spares the
      // details of every check passed. Together: 2.5 times faster (4.9 s against 12 s a lesson).
      for (const style of await page
        .locator(`${CODE} span[style]`)
        .evaluateAll((spans) => spans.map((s) => s.getAttribute('style') ?? '')))
        tokenStyles.add(style);
      const axe = () =>
        new AxeBuilder({ page })
          .setLegacyMode(true)
          .options({ resultTypes: ['violations'] })
          .exclude(CODE);
      const found = async (builder: AxeBuilder, scheme: string) =>
        (await builder.analyze()).violations.map(
          (v) =>
            `${scheme}: ${v.id}: ${v.help} (${v.nodes
              .map((n) => n.target.join(' '))
              .slice(0, 3)
              .join('; ')})`,
        );
      if (file.startsWith('zh-CN/')) {
        expect(await found(axe().disableRules(COLOUR_RULES), 'light')).toEqual([]);
      } else {
        const light = await found(axe(), 'light');
        await page.emulateMedia({ colorScheme: 'dark' });
        const dark = await found(axe().withRules(COLOUR_RULES), 'dark');
        expect([...light, ...dark]).toEqual([]);
      }
      // A phone's width, on this page: a mobile context (the menu test above) zooms a page out
      // until it fits, so there a page 600 px wide passed; a window 360 px wide shows it.
      await page.setViewportSize(PHONE);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${file} scrolls sideways by ${overflow}px on a phone`).toBeLessThanOrEqual(0);
      await context.close();
    },
  );

  test('every internal link and anchor on every page leads somewhere', async () => {
    expect([...ids.keys()].sort(), 'every page was opened above').toEqual([...PAGES].sort());
    const broken: string[] = [];
    for (const [file, hrefs] of links) {
      for (const href of hrefs) {
        if (/^(https?:|mailto:)/.test(href)) continue;
        const target = new URL(href, new URL(file, base));
        const targetFile = target.pathname.slice(1) || 'index.html';
        if (
          target.hash &&
          ids.has(targetFile) &&
          !ids.get(targetFile)?.has(decodeURIComponent(target.hash.slice(1)))
        ) {
          broken.push(`${file}: ${href} (no such anchor)`);
        }
        if (!ids.has(targetFile)) {
          const response = await fetch(target.href);
          await response.body?.cancel();
          if (!response.ok) broken.push(`${file}: ${href} (${response.status})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  test('every colour of code, on the code blocks of the pages, has enough contrast, light and dark', async () => {
    expect(tokenStyles.size, 'the token colours found on the pages above').toBeGreaterThanOrEqual(5);
    const { page, context } = await open('02-tcp-server.html', { colorScheme: 'light' });
    // A real code block of the page, its tokens replaced by one line per colour.
    await page
      .locator(CODE)
      .first()
      .evaluate(
        (code, styles) => {
          code.parentElement?.setAttribute('id', 'palette');
          code.replaceChildren(
            ...['', ...styles].flatMap((style) => {
              const line = document.createElement('span');
              line.className = 'line';
              const token = line.appendChild(document.createElement('span'));
              if (style) token.setAttribute('style', style);
              token.textContent = 'socket.write(chunk)';
              return [line, '\n'];
            }),
          );
        },
        [...tokenStyles],
      );
    // Each line judged: a pass or a violation, none that axe could not tell.
    const contrast = async () => {
      const { passes, violations, incomplete } = await new AxeBuilder({ page })
        .setLegacyMode(true)
        .include('#palette')
        .withRules(['color-contrast'])
        .analyze();
      const nodes = (results: typeof passes) => results.flatMap((r) => r.nodes);
      return {
        judged: nodes(passes).length + nodes(violations).length,
        violations: nodes(violations).map((n) => n.failureSummary),
        unsure: nodes(incomplete).map((n) => n.failureSummary),
      };
    };
    const wanted = { judged: tokenStyles.size + 1, violations: [], unsure: [] };
    expect(await contrast(), 'light').toEqual(wanted);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await contrast(), 'dark').toEqual(wanted);
    await context.close();
  });
});

describe('console', () => {
  test('no page logged an error', () => {
    expect(problems).toEqual([]);
  });
});
