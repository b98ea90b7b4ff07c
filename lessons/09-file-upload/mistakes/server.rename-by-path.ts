/**
 * MISTAKE: checks the bytes as they arrive, then renames whatever the temporary name holds.
 *
 * The hash and the size are right: they are those of the bytes received. But rename() goes by
 * name, and the name may no longer be the file those bytes went to: anyone who can write to the
 * upload directory (another user, another program, once an upload that could be called
 * `.upload-….part`) can list it, see the temporary name while an upload runs, and put a file of
 * the same size under it. The client is told ok, with its own SHA-256, and `report.pdf` holds
 * the other file's bytes. Ask the descriptor who the file is (fstat: device and inode) while it
 * is open, and check that the name still points to it just before the rename.
 *
 * @caught-by step 6: check, rename, answer › a temporary file replaced under its name while the upload runs
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

class RenameByPathSession extends UploadSession {
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
      // The mistake: the size is the name's, and the rename is the name's, whoever it is now.
      const { size } = await stat(temporaryPath);
      if (size !== header.size) {
        return this.fail(`${size} bytes reached the disk, not the ${header.size} announced`);
      }
      if (sha256 !== header.sha256) {
        return this.fail(`the SHA-256 of the ${size} bytes received is ${sha256}, not ${header.sha256}`);
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
  return createSolutionServer(options, RenameByPathSession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
