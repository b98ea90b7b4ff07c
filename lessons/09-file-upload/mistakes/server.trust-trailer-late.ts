/**
 * MISTAKE: stores the file as soon as the body is in, and means to check the trailer after.
 *
 * The server hashes while it writes, so once the last body byte is in it knows the hash: why
 * wait for the client's? It renames the file and answers ok with its own hash, and the trailer
 * arrives to find the upload over. But its own hash says only what arrived, not what was sent:
 * a body cut or changed on the way, or a file that changed on the client's disk while it was
 * read, is stored and confirmed as if it were right. Nothing checks the client's hash, so
 * nothing is checked at all. The trailer is the client's word for what it sent: wait for it,
 * compare, and only then rename and answer.
 *
 * @caught-by step 10: the hash in a trailer, after the body › a trailer with another hash is refused
 * @caught-by step 10: the hash in a trailer, after the body › a client that half-closes after the body, with no trailer, is refused
 */
import type { Hash } from 'node:crypto';
import { isMain, runServerProgram } from '@course/program';
import type { UploadHeader } from '../solution/protocol.ts';
import {
  createUploadServer as createSolutionServer,
  type ServerOptions,
  serverProgram,
  UploadSession,
} from '../solution/server.ts';

export * from '../solution/server.ts';

class TrailerLaterSession extends UploadSession {
  protected override bodyComplete(): void {
    const header = this.header as UploadHeader;
    if (header.sha256 === undefined) {
      // The mistake: the server's own hash stands in for the client's, which is never read.
      this.header = { ...header, sha256: (this.hash as Hash).copy().digest('hex') };
    }
    void this.finish();
  }
}

export function createUploadServer(options: ServerOptions = {}) {
  return createSolutionServer(options, TrailerLaterSession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
