/**
 * MISTAKE: names the temporary file after the client's file: `report.pdf.part`.
 *
 * It looks tidy, and every upload on its own works: the file is written under another name,
 * checked, and renamed into place. But two uploads of the same name at once share that one
 * temporary file. Opened with 'wx', the second one's open fails (EEXIST), and its discard()
 * removes the first one's file, still being written: the first upload then fails at its
 * rename, and both are lost. Opened with 'w', the second truncates the first's bytes instead.
 * The name is also not one of the server's own (`.upload-<16 hex>.part`), so a server killed
 * mid-upload leaves it behind for ever: the next start removes only its own names.
 * The tests catch it: one checks the name of the temporary file, one runs two uploads of one
 * name at once and lets the second fail.
 *
 * @caught-by step 3: start the upload in a temporary file › the temporary file is in the upload directory, under a random hidden name
 * @caught-by step 6: check, rename, answer › two uploads of one name at once each have their own temporary file
 */
import { createHash } from 'node:crypto';
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

class PredictableNameSession extends UploadSession {
  protected override begin(header: UploadHeader): void {
    this.header = header;
    this.state = 'body';
    this.hash = createHash('sha256');
    // The mistake: a temporary name made from the client's name, the same for every upload of it.
    this.temporaryPath = join(this.settings.dir, `${header.name}.part`);
    this.file = this.settings.openFile(this.temporaryPath);
    this.file.on('error', (error) => void this.fail(`cannot store the file: ${fileProblem(error)}`));
    this.opened = identityOf(this.file);
    this.opened.catch(() => {});
    this.log(`client ${this.peer} uploads ${JSON.stringify(header.name)} (${header.size} bytes)`);
    if (header.size === 0) void this.finish();
  }
}

export function createUploadServer(options: ServerOptions = {}) {
  return createSolutionServer(options, PredictableNameSession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
