#!/usr/bin/env node
// The `course` command, run from its bundle (runCommand). `course nc` runs no tests: it loads only
// its own module, and starts faster.
import { fileURLToPath } from 'node:url';
import { runCommand } from '@course/helpers/bundle-cache';

if (process.argv[2] === 'nc') {
  const { register } = await import('tsx/esm/api');
  register();
  const { ncCommand } = await import('../src/nc.ts');
  process.exitCode = await ncCommand(process.argv.slice(3));
} else {
  await runCommand(fileURLToPath(new URL('../src/course.ts', import.meta.url)));
}
