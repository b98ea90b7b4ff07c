// `node scripts/run.mjs scripts/NAME.ts [args]`: runs one of the course's TypeScript scripts that
// start vitest (npm test) from its bundle (packages/helpers/src/bundle-cache.mjs).
import { resolve } from 'node:path';
import { runCommand } from '@course/helpers/bundle-cache';

const [script] = process.argv.splice(2, 1); // the script sees its own arguments at argv[2]
if (!script) throw new Error('usage: node scripts/run.mjs scripts/NAME.ts [args]');
await runCommand(resolve(script));
