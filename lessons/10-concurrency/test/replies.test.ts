/**
 * Lesson 10's Replies on its own, in this process: each reply leaves in the order of its request,
 * the ones ready together leave in one write, and `pending` counts what has not left. The promises
 * are settled by hand, in the order each test chooses.
 */
import { describe, expect, test } from 'vitest';
import { Replies } from '#impl/replies.ts';

/** A reply the test settles when it wants. */
function later() {
  let settle!: { resolve: (text: string) => void; reject: (error: Error) => void };
  const promise = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return { promise, ...settle };
}

/** Lets the promise callbacks run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('step 3: sleep, and replies in order', () => {
  test('a reply waits for the ones before it, then everything ready leaves in one write', async () => {
    const writes: string[] = [];
    const replies = new Replies((text) => writes.push(text));
    replies.add('pong');
    expect(writes, 'a reply with nothing before it leaves at once').toEqual(['pong\n']);
    expect(replies.pending, 'nothing is waiting').toBe(0);

    const [sleep, hash] = [later(), later()];
    replies.add(sleep.promise);
    replies.add('pong');
    replies.add(hash.promise);
    expect(writes, 'the pong waits for the sleep before it').toEqual(['pong\n']);
    expect(replies.pending, 'a sleep, a pong and a hash not sent yet').toBe(3);

    hash.resolve('3a7bd3e2');
    await settled();
    expect(writes, 'the hash is ready, but the sleep before it is not: nothing leaves').toEqual(['pong\n']);
    expect(replies.pending, 'still 3: ready or not, none has left').toBe(3);

    sleep.resolve('slept 300');
    await settled();
    expect(writes, 'the sleep is ready: it and the two after it leave, in order, in one write').toEqual([
      'pong\n',
      'slept 300\npong\n3a7bd3e2\n',
    ]);
    expect(replies.pending, 'all sent').toBe(0);

    replies.add('pong');
    expect(writes.at(-1), 'and the next reply leaves at once again').toBe('pong\n');

    const [first, second] = [later(), later()];
    replies.add(first.promise);
    replies.add(second.promise);
    first.resolve('slept 1');
    await settled();
    expect(writes.at(-1), 'the first of two is ready: it leaves alone').toBe('slept 1\n');
    expect(replies.pending, 'one sent, one still to come').toBe(1);
  });

  test('a reply whose promise fails is answered `ERR <its message>`, in its place', async () => {
    const writes: string[] = [];
    const replies = new Replies((text) => writes.push(text));
    const [busy, fine] = [later(), later()];
    replies.add(busy.promise);
    replies.add(fine.promise);
    fine.resolve('ok');
    busy.reject(new Error('cancelled'));
    await settled();
    expect(writes.join(''), 'the failed reply keeps its place').toBe('ERR cancelled\nok\n');
    expect(replies.pending).toBe(0);
  });
});
