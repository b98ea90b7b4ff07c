// The bundle cache's lookup, in plain JavaScript: the course's commands (`course`, `npm test`)
// ask it before anything can load TypeScript, and bundle.ts builds on it. A bundle is up to date
// while every file it was built from has the content it had then (their hashes are kept beside it).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Three folders up from this file, and from a bundle in CACHE that has this file bundled into it
// (the course command's): both are the course's root.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CACHE = join(ROOT, 'node_modules', '.cache', 'course-programs');
/** The file that makes the bundles: each bundle's inputs hold it, so a change of it builds anew. */
export const BUNDLER = join(ROOT, 'packages', 'helpers', 'src', 'bundle.ts');

/** A short content hash: 16 hex digits of SHA-256. */
export function hashOf(/** @type {string | Uint8Array} */ text) {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Where the cache records what the bundle of `entry` was built from. */
export function recordOf(/** @type {string} */ entry) {
  return join(CACHE, `${hashOf(entry)}.json`);
}

/**
 * The path of the bundle of `entry` when it is up to date, else undefined (never built, a file
 * it was built from edited or gone, or built by a bundler that did not record itself).
 * @param {string} entry
 * @returns {string | undefined}
 */
export function freshBundle(entry) {
  try {
    /** @type {{ bundle: string; inputs: Record<string, string> }} */
    const built = JSON.parse(readFileSync(recordOf(entry), 'utf8'));
    const same =
      BUNDLER in built.inputs &&
      Object.entries(built.inputs).every(([path, hash]) => hashOf(readFileSync(path)) === hash);
    return same && existsSync(built.bundle) ? built.bundle : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs the TypeScript module `entry` as a command: from its bundle when it is up to date (bare
 * node loads one file where tsx's loader would load some forty, one by one), else through tsx,
 * then bundles it for the next run. COURSE_BUNDLE=0 runs it through tsx. Every such command
 * starts vitest, which is left out of its bundle: it loads first, before any TypeScript loader,
 * which makes it start about 400 ms faster.
 * @param {string} entry
 */
export async function runCommand(entry) {
  await import('vitest/node');
  const bundling = process.env.COURSE_BUNDLE !== '0';
  const bundle = bundling ? freshBundle(entry) : undefined;
  if (bundle) {
    process.setSourceMapsEnabled(true); // a stack trace names the .ts files
    await import(pathToFileURL(bundle).href);
    return;
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(entry).href);
  if (bundling) {
    const { bundled } = await import('./bundle.ts');
    await bundled(entry, { command: true });
  }
}
