/**
 * MISTAKE: checks the hash in finish(), but not the size of the file on disk.
 *
 * The hash covers every byte received, so checking the size as well looks redundant, and every
 * test of the network passes. But the hash is computed from the frames as they arrive, not
 * from the file: it says what the client sent, not what the disk kept. A write that was lost
 * (a full disk that a buggy layer did not report, a stream that was ended too early) leaves a
 * short file that the server renames into place and answers ok for. stat() after the close
 * checks what is really there. The test gives the server a disk that loses the last byte of
 * each write.
 *
 * @caught-by step 6: check, rename, answer › a disk that lost bytes is caught
 */
import type { Hash } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { isMain, runServerProgram } from '@course/program';
import { fileProblem, type UploadHeader } from '../solution/protocol.ts';
import {
  createUploadServer as createSolutionServer,
  type ServerOptions,
  serverProgram,
  UploadSession,
} from '../solution/server.ts';

export * from '../solution/server.ts';

class HashOnlySession extends UploadSession {
  protected override async finish(): Promise<void> {
    this.state = 'finishing';
    const header = this.header as UploadHeader;
    const file = this.file as Writable;
    const temporaryPath = this.temporaryPath as string;
    try {
      await new Promise<void>((resolve, reject) => {
        file.once('error', reject);
        file.once('close', () => resolve());
        file.end();
      });
      const sha256 = (this.hash as Hash).digest('hex');
      // The mistake: no stat(), so the size on disk is never compared with the header's.
      if (sha256 !== header.sha256) {
        return this.fail(
          `the SHA-256 of the ${this.received} bytes received is ${sha256}, not ${header.sha256}`,
        );
      }
      await rename(temporaryPath, join(this.settings.dir, header.name));
      this.temporaryPath = undefined;
      this.file = undefined;
    } catch (error) {
      return this.fail(`cannot store the file: ${fileProblem(error)}`);
    }
    if (this.state !== 'finishing') return;
    this.state = 'done';
    this.log(
      `client ${this.peer} stored ${JSON.stringify(header.name)} (${header.size} bytes, sha256 ${header.sha256})`,
    );
    this.answer({ ok: true, name: header.name, size: header.size, sha256: header.sha256 });
  }
}

export function createUploadServer(options: ServerOptions = {}) {
  return createSolutionServer(options, HashOnlySession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
