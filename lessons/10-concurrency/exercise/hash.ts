/**
 * Lesson 10: the CPU work of the `hash` command. h1 = sha256(UTF-8 bytes of text), and
 * h(k+1) = sha256(hk's 32 raw bytes); the answer is the last one in lowercase hex.
 */
import { createHash } from 'node:crypto';

/** How many rounds between two looks at `stopped()`: a look costs far less than the rounds. */
export const CHECK_EVERY = 4096;

/**
 * SHA-256 applied `rounds` times (rounds >= 1) to `text`: lowercase hex. Gives up, returning
 * undefined, when `stopped()` says so (it is asked every CHECK_EVERY rounds): a worker thread
 * learns this way that the client has gone, and is free again at once.
 */
export function hashRounds(
  rounds: number,
  text: string,
  stopped: () => boolean = () => false,
): string | undefined {
  let digest = createHash('sha256').update(text, 'utf8').digest();
  for (let round = 1; round < rounds; round += 1) {
    if (round % CHECK_EVERY === 0 && stopped()) return undefined;
    digest = createHash('sha256').update(digest).digest();
  }
  return digest.toString('hex');
}
