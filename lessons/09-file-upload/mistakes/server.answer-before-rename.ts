/**
 * MISTAKE: answers ok as soon as the file is checked, and renames it after.
 *
 * The rename takes a moment and nearly always works, so the client nearly always finds its
 * file. But the answer promises something that has not happened yet: a client that looks for
 * its file the moment it reads ok may not find it, and when the rename fails (a directory of
 * that name, a full directory, permissions) the client has been told ok for a file that will
 * never exist, and the temporary file is left behind. Rename, then answer: the answer is the
 * last thing, and it tells the truth. The test makes the rename fail: a directory holds the
 * name.
 *
 * @caught-by step 6: check, rename, answer › the file is renamed before the answer
 */
import type { Hash } from 'node:crypto';
import { rename, stat } from 'node:fs/promises';
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

class EagerAnswerSession extends UploadSession {
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
      const { size } = await stat(temporaryPath);
      if (size !== header.size) {
        return this.fail(`${size} bytes reached the disk, not the ${header.size} announced`);
      }
      if (sha256 !== header.sha256) {
        return this.fail(`the SHA-256 of the ${size} bytes received is ${sha256}, not ${header.sha256}`);
      }
      // The mistake: the answer goes out before the rename.
      this.state = 'done';
      this.answer({ ok: true, name: header.name, size: header.size, sha256: header.sha256 });
      await rename(temporaryPath, join(this.settings.dir, header.name));
      this.temporaryPath = undefined;
      this.file = undefined;
    } catch (error) {
      return this.fail(`cannot store the file: ${fileProblem(error)}`);
    }
    this.log(
      `client ${this.peer} stored ${JSON.stringify(header.name)} (${header.size} bytes, sha256 ${header.sha256})`,
    );
  }
}

export function createUploadServer(options: ServerOptions = {}) {
  return createSolutionServer(options, EagerAnswerSession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
