/**
 * bundle.ts: a lesson program bundled for bare node behaves as it does under tsx (each module its
 * own import.meta.url, isMain() true for the program only, stack traces in the .ts files), is
 * rebuilt when a file it imports changes, and runs through tsx when esbuild cannot bundle it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { nodeArgs } from '../src/bundle.ts';
import { BUNDLER, freshBundle, recordOf } from '../src/bundle-cache.mjs';
import { closeAfterTest } from '../src/cleanup.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A program of two modules, in a folder under node_modules (so that @course/program resolves). */
function program(lib = "export const word = 'one';"): { dir: string; main: string; lib: string } {
  const base = join(ROOT, 'node_modules', '.cache');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'bundle-test-'));
  closeAfterTest(() => rmSync(dir, { recursive: true, force: true }));
  const files = { main: join(dir, 'main.ts'), lib: join(dir, 'lib.ts') };
  writeFileSync(
    files.lib,
    `import { isMain } from '@course/program';\n${lib}\nexport const libUrl: string = import.meta.url;\nexport const libIsMain = isMain(import.meta.url);\n`,
  );
  writeFileSync(
    files.main,
    [
      "import { isMain } from '@course/program';",
      "import { libIsMain, libUrl, word } from './lib.ts';",
      'const typed: string = word;',
      'console.log(JSON.stringify({ word: typed, main: import.meta.url, mainIsMain: isMain(import.meta.url), libUrl, libIsMain, args: process.argv.slice(2) }));',
      "if (process.argv.includes('--throw')) throw new Error('thrown on purpose');",
      '',
    ].join('\n'),
  );
  return { dir, ...files };
}

function run(args: string[]) {
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  return { ...result, json: result.status === 0 ? JSON.parse(result.stdout) : undefined };
}

describe('bundled programs', () => {
  test('run on bare node, each module with its own URL, the program alone isMain', async () => {
    const { main, lib } = program();
    const args = await nodeArgs(main, ['--flag', 'x']);
    expect(args.join(' '), 'no tsx: a bundle').not.toContain('tsx');
    expect(run(args).json).toEqual({
      word: 'one',
      main: pathToFileURL(main).href,
      mainIsMain: true,
      libUrl: pathToFileURL(lib).href,
      libIsMain: false,
      args: ['--flag', 'x'],
    });
    expect(await nodeArgs(main, []), 'unchanged: the same bundle').toContain(
      args.find((a) => a.endsWith('.mjs')),
    );
    // A bundle made by another bundler (its record does not name bundle.ts) is made again.
    const record = JSON.parse(readFileSync(recordOf(main), 'utf8'));
    expect(Object.keys(record.inputs), 'the bundler is among the inputs').toContain(BUNDLER);
    delete record.inputs[BUNDLER];
    writeFileSync(recordOf(main), JSON.stringify(record));
    expect(freshBundle(main), 'a record without the bundler: stale').toBeUndefined();
  });

  test('a change to an imported file is picked up by the next start', async () => {
    const { main, lib } = program();
    const before = await nodeArgs(main, []);
    writeFileSync(
      lib,
      "export const word = 'two';\nexport const libUrl = '';\nexport const libIsMain = false;\n",
    );
    const after = await nodeArgs(main, []);
    expect(after, 'rebuilt').not.toEqual(before);
    expect(run(after).json?.word).toBe('two');
  });

  test('so is a change to an imported JavaScript file, which esbuild loads itself', async () => {
    const { dir, main, lib } = program("export { word } from './word.mjs';");
    const word = join(dir, 'word.mjs');
    writeFileSync(word, "export const word = 'one';\n");
    expect(run(await nodeArgs(main, [])).json?.word).toBe('one');
    writeFileSync(word, "export const word = 'two';\n");
    expect(run(await nodeArgs(main, [])).json?.word, `${lib} imports word.mjs, now 'two'`).toBe('two');
  });

  test('stack traces point at the TypeScript file', async () => {
    const { main } = program();
    const result = run(await nodeArgs(main, ['--throw']));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('thrown on purpose');
    expect(result.stderr).toContain(`${main}:5:`);
  });

  test("a worker thread's TypeScript, named by new URL('./….ts', import.meta.url), runs from its own bundle; an edit to it is picked up", async () => {
    const { dir, main } = program();
    const thread = join(dir, 'thread.ts');
    const say = (word: string) =>
      writeFileSync(
        thread,
        `import { parentPort } from 'node:worker_threads';\nconst typed: string = '${word}';\nparentPort?.postMessage({ typed, url: import.meta.url });\n`,
      );
    say('one');
    writeFileSync(
      main,
      [
        "import { Worker } from 'node:worker_threads';",
        "const THREAD = new URL('./thread.ts', import.meta.url);",
        'const worker = new Worker(THREAD);',
        "worker.once('message', (m) => { console.log(JSON.stringify({ ...m, started: THREAD.href })); void worker.terminate(); });",
        '',
      ].join('\n'),
    );
    const first = run(await nodeArgs(main, []));
    expect(first.stderr).toBe('');
    expect(first.json?.typed, 'the thread ran, on bare node: no tsx to strip its types').toBe('one');
    expect(first.json?.started, 'the thread was started from a bundle').toMatch(/\.mjs$/);
    expect(first.json?.url, 'with its own import.meta.url, as under tsx').toBe(pathToFileURL(thread).href);
    say('two');
    expect(run(await nodeArgs(main, [])).json?.typed, 'thread.ts edited: the program is rebuilt').toBe('two');
  });

  test('a file esbuild cannot parse runs through tsx, whose error the learner sees', async () => {
    const { main } = program('export const word = ;');
    const args = await nodeArgs(main, []);
    expect(args.join(' ')).toContain('tsx');
    const result = run(args);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/lib\.ts:\d+:\d+: ERROR/);
  });
});

describe('commands run from a bundle (runCommand, for `course` and `npm test`)', () => {
  test('the first run goes through tsx and leaves a bundle; the next runs it, vitest left out; an edit makes it stale', async () => {
    const { dir, lib } = program();
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n'); // as the course's packages are
    const main = join(dir, 'command.ts');
    writeFileSync(
      main,
      [
        "import { startVitest } from 'vitest/node';",
        "import { word } from './lib.ts';",
        'console.log(JSON.stringify({ word, vitest: typeof startVitest, url: import.meta.url }));',
        '',
      ].join('\n'),
    );
    const cache = pathToFileURL(join(ROOT, 'packages', 'helpers', 'src', 'bundle-cache.mjs')).href;
    const runCommand = () =>
      run([
        '--input-type=module',
        '-e',
        `(await import(${JSON.stringify(cache)})).runCommand(${JSON.stringify(main)})`,
      ]);
    const expected = { word: 'one', vitest: 'function', url: pathToFileURL(main).href };
    const { freshBundle } = (await import(cache)) as { freshBundle(entry: string): string | undefined };
    expect(freshBundle(main), 'never run: no bundle yet').toBeUndefined();
    expect(runCommand().json, 'the first run, through tsx').toEqual(expected);
    const bundle = freshBundle(main);
    expect(bundle, 'a bundle left for the next run').toBeDefined();
    expect(readFileSync(bundle as string, 'utf8'), 'vitest is imported, not bundled').toMatch(
      /from ["']vitest\/node["']/,
    );
    expect(runCommand().json, 'the next run, from the bundle').toEqual(expected);
    writeFileSync(lib, "export const word = 'two';\n");
    expect(freshBundle(main), 'a file it was built from changed: stale').toBeUndefined();
    expect(runCommand().json?.word, 'and the change is run').toBe('two');
  });
});
