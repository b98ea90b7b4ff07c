/**
 * How the tests start a lesson program: bundled once into plain JavaScript by esbuild and run on
 * bare node, instead of through tsx's loader. tsx costs about 0.3 s a start on an idle machine
 * and twice that on a busy one (`npm run bench -- feedback` measures both), and a lesson's tests
 * start its programs dozens of times. What the learner runs by hand stays `npx tsx server.ts`.
 *
 * - A bundle is reused while every file it was built from, and this file, has the same content
 *   (their hashes are kept beside it), so a saved edit is picked up by the next start.
 * - Each module keeps its own `import.meta.url` (rewritten to its file's URL at build time), so
 *   `isMain()` still tells the program from the modules it imports. The bundle's first line
 *   tells `isMain()` which file is the program (see MAIN_KEY).
 * - A worker thread's TypeScript named beside a module (`new URL('./hash-worker.ts',
 *   import.meta.url)`, lesson 10) is bundled too, and the URL points at its bundle: the thread
 *   starts on bare node (a server of 2 threads: 0.16 s of CPU to start, against 0.55 s with tsx
 *   registered in each thread).
 * - Stack traces point at the TypeScript files (`--enable-source-maps`, inline maps).
 * - Anything esbuild cannot bundle (a syntax error mid-edit, say) runs through tsx, as before,
 *   whose error message the learner then sees. COURSE_BUNDLE=0 runs every program through tsx.
 * - The course's own commands (`course`, `npm test`) are bundled the same way, with vitest left
 *   out of the bundle (`bundled(entry, { command: true })`, run by bundle-cache.mjs), and so is
 *   the harness itself for the course's own test runs (`harnessBundle()`).
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MAIN_KEY } from '@course/program';
import type { Plugin } from 'esbuild';
import { BUNDLER, CACHE, freshBundle, hashOf, recordOf } from './bundle-cache.mjs';

const TSX = import.meta.resolve('tsx');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const building = new Map<string, Promise<string | undefined>>();

/**
 * The harness (`@course/helpers`) as one bundle, for the course's own test runs (runLessonTests
 * gives it to the lessons' configs): a test process then loads one file natively where vite's
 * module runner would fetch some thirty, one by one (0.06 to 0.08 s of CPU less a test file).
 * Undefined with COURSE_BUNDLE=0, or when it cannot be built: the tests then import the sources.
 */
export async function harnessBundle(): Promise<string | undefined> {
  if (process.env.COURSE_BUNDLE === '0') return undefined;
  return bundled(join(ROOT, 'packages', 'helpers', 'src', 'index.ts'), { command: true });
}

/** The node arguments that run `file` (a lesson program) with `args`: its bundle, or tsx. */
export async function nodeArgs(file: string, args: string[]): Promise<string[]> {
  if (process.env.COURSE_BUNDLE === '0') return ['--import', TSX, file, ...args];
  const real = realpathSync(file);
  let bundle = building.get(real);
  if (!bundle) {
    bundle = bundled(real);
    building.set(real, bundle);
    void bundle.finally(() => building.delete(real));
  }
  const path = await bundle;
  return path ? ['--enable-source-maps', path, ...args] : ['--import', TSX, file, ...args];
}

/**
 * The path of an up-to-date bundle of `entry`, built if need be; undefined if esbuild cannot.
 * A lesson program bundles everything it imports, and its first line tells `isMain()` which file
 * is the program. The `course` command (`command: true`) leaves vitest out: vitest starts its
 * workers from its own files.
 */
export async function bundled(entry: string, { command = false } = {}): Promise<string | undefined> {
  const fresh = freshBundle(entry);
  if (fresh) return fresh;
  const record = recordOf(entry);
  try {
    // A change of npm packages (bundled too) is a change of the lock file, where there is one.
    const lock = join(ROOT, 'package-lock.json');
    const inputs: Record<string, string> = existsSync(lock) ? { [lock]: hashOf(readFileSync(lock)) } : {};
    // And a change of how bundles are made is a change of this file (freshBundle() requires it).
    inputs[BUNDLER] = hashOf(readFileSync(BUNDLER));
    const entryUrl = pathToFileURL(entry).href;
    // Loaded here, not with this module: a bundle is mostly found made, and every test file
    // imports the harness (esbuild's API is 30 ms of each test process's start).
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      outfile: join(CACHE, 'out.mjs'),
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      metafile: true,
      absWorkingDir: ROOT,
      ...(command
        ? // esbuild is loaded only to build, from its package (its API finds its binary there).
          { external: ['vitest', 'vitest/*', 'esbuild'] }
        : {
            banner: {
              js: `globalThis[Symbol.for(${JSON.stringify(MAIN_KEY)})] = ${JSON.stringify(entryUrl)};`,
            },
          }),
      plugins: [ownUrls(entry, entryUrl, inputs)],
    });
    const code = result.outputFiles[0]?.contents;
    if (!code) return undefined;
    // The files the plugin did not load itself (JavaScript, JSON) count too.
    for (const input of Object.keys(result.metafile.inputs)) {
      const path = resolve(ROOT, input);
      inputs[path] ??= hashOf(readFileSync(path));
    }
    const bundle = join(CACHE, `${hashOf(entry)}-${hashOf(code)}.mjs`);
    mkdirSync(CACHE, { recursive: true });
    // Written under a temporary name, then renamed: a test running beside this one reads either
    // the old files or the new ones, whole.
    const temporary = `${bundle}.${process.pid}.tmp`;
    writeFileSync(temporary, code);
    renameSync(temporary, bundle);
    writeFileSync(`${record}.${process.pid}.tmp`, JSON.stringify({ bundle, inputs }));
    renameSync(`${record}.${process.pid}.tmp`, record);
    prune(bundle);
    return bundle;
  } catch {
    return undefined;
  }
}

/**
 * Gives each TypeScript module its own file's URL for `import.meta.url` (the entry exactly the
 * banner's, whatever case Windows spells its path in), and records each file's hash.
 */
function ownUrls(entry: string, entryUrl: string, inputs: Record<string, string>): Plugin {
  const same = (a: string, b: string) =>
    process.platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b;
  return {
    name: 'course-own-urls',
    setup(on) {
      on.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        const text = readFileSync(args.path, 'utf8');
        inputs[args.path] = hashOf(text);
        const url = same(args.path, entry) ? entryUrl : pathToFileURL(args.path).href;
        const contents = await ownThreads(text, args.path, inputs);
        // A pattern, not the words themselves in a string: this file is bundled too (into the
        // harness's bundle), and there the words would be rewritten like any other.
        return { contents: contents.replace(/\bimport\.meta\.url\b/g, JSON.stringify(url)), loader: 'ts' };
      });
    },
  };
}

/**
 * A worker thread's code named beside the module, `new URL('./hash-worker.ts', import.meta.url)`
 * (lesson 10), becomes the URL of that file's own bundle: the thread then starts on bare node, as
 * the program does, instead of registering tsx in every thread (0.1 s of CPU a thread more, and a
 * server starts one per core). Its files count among the program's inputs. A file esbuild cannot
 * bundle stays as it is, and its thread starts through tsx as before.
 */
async function ownThreads(text: string, file: string, inputs: Record<string, string>): Promise<string> {
  let out = text;
  for (const [call, name = ''] of text.matchAll(
    /new URL\(\s*['"](\.{1,2}\/[^'"]+\.ts)['"]\s*,\s*import\.meta\.url\s*\)/g,
  )) {
    const worker = resolve(dirname(file), name);
    const bundle = existsSync(worker) ? await bundled(worker) : undefined;
    if (!bundle) continue;
    const record = JSON.parse(readFileSync(recordOf(worker), 'utf8')) as { inputs: Record<string, string> };
    // The thread's bundle too: the cache may prune it while the program's is still fresh.
    Object.assign(inputs, record.inputs, { [bundle]: hashOf(readFileSync(bundle)) });
    out = out.replace(call, `new URL(${JSON.stringify(pathToFileURL(bundle).href)})`);
  }
  return out;
}

/**
 * Removes the earlier bundles of the same program once they are an hour old (one per saved edit
 * would pile up), and anything in the cache not written for a week (programs since moved or
 * deleted). Not at once: a test started a moment ago may be about to run one.
 */
function prune(keep: string): void {
  const program = basename(keep).slice(0, basename(keep).indexOf('-') + 1);
  const hourAgo = Date.now() - 3_600_000;
  const weekAgo = Date.now() - 7 * 24 * 3_600_000;
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (path === keep) continue;
    try {
      const written = statSync(path).mtimeMs;
      if (written < weekAgo || (name.startsWith(program) && written < hourAgo)) rmSync(path, { force: true });
    } catch {
      // gone already: another test removed it
    }
  }
}
