/**
 * The portability scan, part of the check: nothing a learner runs (npm scripts, the course's
 * tools, the harness, the lessons) may call what exists only on POSIX systems without a portable
 * path. A line may say why it is fine with a `portable:` comment on it or the line above (a test
 * skipped where the command is missing, a branch that runs only where it exists); everything
 * platform-specific in the harness lives in packages/helpers/src/platform.ts.
 *
 * It also checks that CI runs the check on Linux, macOS and Windows with Node 20, 22 and 24.
 *
 *   npm run portability      exit 1, naming each line, when a call is found
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '@course/model/lessons';

/** What does not exist on Windows (or differs), and what to use instead. */
const RULES: { pattern: RegExp; instead: string }[] = [
  {
    pattern: /\b(?:spawn|spawnSync|execFile|execFileSync|runCommand)\(\s*['"](?:ba)?sh['"]/,
    instead: 'run node, or the course nc',
  },
  {
    pattern: /['"`]\/dev\/(?:null|zero|stdin|stdout|shm|urandom)\b/,
    instead: 'os.devNull, or generate the bytes in node',
  },
  { pattern: /\bprlimit\b/, instead: 'a limit checked where prlimit exists' },
  { pattern: /process\.kill\(\s*-/, instead: 'killTree()/askToStop() in platform.ts' },
  { pattern: /detached:\s*true/, instead: 'programStdio() in platform.ts' },
  { pattern: /\|\s*nc\s|(?<!course )\bnc -[NuWw]\b/, instead: 'npx course nc (ncLine())' },
  { pattern: /python3 -c/, instead: 'npx course nc, or node -e' },
];

const SKIP = /node_modules|\.check|\.ladder|dist|test-results|\.turbo|fixtures/;
/** platform.ts is where the POSIX and Windows branches live; this file names the rules. */
const EXEMPT = ['platform.ts', 'portability.ts'];

function files(dir: string, pick: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (SKIP.test(name)) continue;
    if (statSync(path).isDirectory()) out.push(...files(path, pick));
    else if (pick(name)) out.push(path);
  }
  return out;
}

export function scanPortability(root = ROOT): string[] {
  const problems: string[] = [];
  const sources = ['scripts', 'packages', 'lessons', 'site/src'].flatMap((dir) =>
    files(join(root, dir), (name) => /\.(ts|mjs)$/.test(name) && !EXEMPT.includes(name)),
  );
  for (const file of sources) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/portable:/.test(line) || /portable:/.test(lines[i - 1] ?? '')) return;
      if (/^\s*(\/?\*|\/\/)/.test(line)) return; // comments may name what they avoid
      for (const rule of RULES)
        if (rule.pattern.test(line))
          problems.push(
            `${relative(root, file)}:${i + 1}: ${line.trim().slice(0, 100)}  (use ${rule.instead})`,
          );
    });
  }
  // npm scripts run through the system's shell: cmd.exe on Windows.
  for (const file of [
    join(root, 'package.json'),
    ...files(join(root, 'packages'), (n) => n === 'package.json'),
    ...files(join(root, 'lessons'), (n) => n === 'package.json'),
  ]) {
    const scripts =
      (JSON.parse(readFileSync(file, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
    for (const [name, command] of Object.entries(scripts))
      if (/\b(?:bash|sh|printf|rm|cp|mv|cat)\b|&&|\$\(|\/dev\//.test(command))
        problems.push(
          `${relative(root, file)}: script "${name}" needs a POSIX shell: ${command}  (call node)`,
        );
  }
  // The check runs on the three systems, with every Node line a learner may have.
  const workflow = join(root, '.github', 'workflows', 'ci.yml');
  const text = existsSync(workflow) ? readFileSync(workflow, 'utf8') : '';
  for (const needed of ['ubuntu-latest', 'macos-latest', 'windows-latest', '[20, 22, 24]'])
    if (!text.includes(needed)) problems.push(`.github/workflows/ci.yml does not name ${needed}`);
  return problems;
}

if (process.argv[1]?.endsWith('portability.ts')) {
  const problems = scanPortability();
  for (const problem of problems) console.log(`✗ ${problem}`);
  console.log(
    problems.length ? `portability: ${problems.length} problem(s)` : '✓ portability: nothing POSIX-only',
  );
  process.exitCode = problems.length ? 1 : 0;
}
