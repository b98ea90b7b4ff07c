/**
 * `npm run lock:platforms`: completes package-lock.json with the other platforms' binary
 * packages (turbo's, Biome's) when the registry used for `npm install` does not serve them.
 *
 * Tools that ship a native binary list one optional package per platform. npm records each in
 * the lock with its `os` / `cpu` / `libc`, installs only the matching one, and `npm ci` refuses
 * a lock where any is missing. A registry mirror that lacks, say, the macOS build makes
 * `npm install` leave those entries out; this script puts them back, with the platform fields
 * read from each package's name, so `npm ci` works here and everywhere. Run it after
 * `npm install` changed the lock; it changes nothing when the lock is complete.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@course/model/lessons';

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optionalDependencies?: Record<string, string>;
}

const OS: Record<string, string> = {
  darwin: 'darwin',
  linux: 'linux',
  win32: 'win32',
  windows: 'win32',
  android: 'android',
  freebsd: 'freebsd',
  openbsd: 'openbsd',
  netbsd: 'netbsd',
  sunos: 'sunos',
  aix: 'aix',
};
const CPU: Record<string, string> = {
  x64: 'x64',
  '64': 'x64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: 'ia32',
  loong64: 'loong64',
  mips64el: 'mips64el',
  ppc64: 'ppc64',
  riscv64: 'riscv64',
  s390x: 's390x',
};

const file = join(ROOT, 'package-lock.json');
const lock = JSON.parse(readFileSync(file, 'utf8')) as { packages: Record<string, LockEntry> };
const added: string[] = [];
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const words = name.split('/').pop()?.split('-') ?? [];
    const os = words.map((w) => OS[w]).find(Boolean);
    const cpu = words.map((w) => CPU[w]).find(Boolean);
    if (!os || !cpu) {
      console.warn(`lock:platforms: cannot tell the platform of ${name} (needed by ${path}); left out`);
      continue;
    }
    lock.packages[key] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [os],
      cpu: [cpu],
      ...(os === 'linux' ? { libc: [words.includes('musl') ? 'musl' : 'glibc'] } : {}),
    };
    added.push(`${name}@${version}`);
  }
}
if (added.length > 0) {
  const sorted = Object.fromEntries(
    Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
  );
  writeFileSync(file, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
}
console.log(
  added.length ? `lock:platforms: added ${added.join(', ')}` : 'lock:platforms: the lock is complete',
);
