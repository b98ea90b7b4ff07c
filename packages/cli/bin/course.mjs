#!/usr/bin/env node
// The `course` command. Vitest loads first, before tsx's loader hooks are registered, which makes
// it start about 400 ms faster; then the TypeScript entry point runs through tsx. `course nc`
// runs no tests: it loads only its own module, and starts faster.
import { register } from 'tsx/esm/api';

if (process.argv[2] === 'nc') {
  register();
  const { ncCommand } = await import('../src/nc.ts');
  process.exitCode = await ncCommand(process.argv.slice(3));
} else {
  await import('vitest/node');
  register();
  await import('../src/course.ts');
}
