/**
 * MISTAKE: writes the upload straight to its final name instead of a temporary file.
 *
 * It even cleans up: a failed upload is deleted, a good one is "renamed" onto itself. Every
 * happy-path try works, and a client that disconnects leaves nothing behind. But while the
 * upload runs, the half-written file is there under its real name for anyone to read (a web
 * server serving the folder, a backup, a script waiting for the file to appear); a failed
 * re-upload destroys the good older version it was meant to replace (opening the file truncates
 * it at once); and if the server itself dies mid-way, the half file stays forever, looking
 * complete. The tests look at the path the server opens, at the directory in mid-upload, and
 * at an older version after a failed upload.
 *
 * @caught-by step 3: start the upload in a temporary file › the temporary file is in the upload directory
 * @caught-by step 6: check, rename, answer › a failed upload leaves the older file of that name untouched
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { isMain, runServerProgram } from '@course/program';
import { fileProblem, type UploadHeader } from '../solution/protocol.ts';
import {
  createUploadServer as createSolutionServer,
  identityOf,
  type ServerOptions,
  serverProgram,
  UploadSession,
} from '../solution/server.ts';

export * from '../solution/server.ts';

class FinalNameSession extends UploadSession {
  protected override begin(header: UploadHeader): void {
    this.header = header;
    this.state = 'body';
    this.hash = createHash('sha256');
    // The mistake: the file being written is the final one; finish() renames it onto itself.
    this.temporaryPath = join(this.settings.dir, header.name);
    this.file = this.settings.openFile(this.temporaryPath);
    this.file.on('error', (error) => void this.fail(`cannot store the file: ${fileProblem(error)}`));
    this.opened = identityOf(this.file);
    this.opened.catch(() => {});
    this.log(`client ${this.peer} uploads ${JSON.stringify(header.name)} (${header.size} bytes)`);
    if (header.size === 0) void this.finish();
  }
}

export function createUploadServer(options: ServerOptions = {}) {
  // Opened the usual way, 'w': create the file, or truncate the one already there.
  return createSolutionServer({ openFile: (path) => createWriteStream(path), ...options }, FinalNameSession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
