/**
 * MISTAKE: hashing on the event loop in workers mode. The pool is there (stats shows its
 * threads), but runHash() never uses it: `async` and a Promise around hashRounds() would change
 * nothing, the hash still runs on the loop, and while it runs no other client is answered, not
 * even `ping`. The test sends big hashes on several connections, then a `ping`: it comes back
 * after a hash, not before them all.
 * @caught-by step 5: a pool of worker threads › while the threads hash, a ping from another connection is answered before any hash
 */
import { isMain, runServerProgram } from '@course/program';
import { createHashServer, hashServerProgram } from '../solution/server.ts';

export * from '../solution/server.ts';

/** The mistake: every hash on the event loop, whatever --mode says. */
export const program = hashServerProgram((options, parts) =>
  createHashServer({ ...options, mode: 'inline' }, parts),
);

if (isMain(import.meta.url)) runServerProgram(program);
