/**
 * What lesson 10's server tests share: the lesson's server started as a program, with clients,
 * and the digest a hash request must get, computed independently with node:crypto.
 */
import { createHash } from 'node:crypto';
import { connect, lessonOf, reproSetup } from '@course/helpers';

export const lesson = lessonOf(import.meta.url);

/** The digest the server must send, computed here, independently, with node:crypto. */
export function expectedHash(rounds: number, text: string): string {
  let digest = createHash('sha256').update(Buffer.from(text, 'utf8')).digest();
  for (let i = 1; i < rounds; i += 1) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

/** Starts server.ts with `args` and connects `n` clients to it. */
export async function start(args: string[], n = 1) {
  reproSetup({ serverArgs: args });
  const server = await lesson.startServer('server', args);
  const peers = await Promise.all(Array.from({ length: n }, () => connect(server.port)));
  return { port: server.port, peers, server };
}
