/**
 * MISTAKE: in discard(), destroys the file stream and unlinks the file at once, without waiting
 * for the stream's 'close'.
 *
 * On Linux, unlink() works on an open file, so most failures clean up fine. But a write stream
 * opens its file in the background: an upload that fails at once (a body frame too long in the
 * same packet as the header, a client that resets right away) is discarded while the file is
 * still being opened. unlink() finds nothing (ENOENT, ignored), then the open completes and
 * creates the file: a temporary file left behind, for every such client. Wait for 'close':
 * then the file exists, or never will. The test gives the server a disk that opens its files
 * 200 ms late.
 *
 * @caught-by step 5: leave nothing behind when it goes wrong › a temporary file still being opened is removed too
 */
import { unlink } from 'node:fs/promises';
import { isMain, runServerProgram } from '@course/program';
import {
  createUploadServer as createSolutionServer,
  type ServerOptions,
  serverProgram,
  UploadSession,
} from '../solution/server.ts';

export * from '../solution/server.ts';

class HastyDiscardSession extends UploadSession {
  protected override async discard(): Promise<void> {
    const { file, temporaryPath } = this;
    this.file = undefined;
    this.temporaryPath = undefined;
    file?.destroy(); // the mistake: no wait for 'close'
    if (temporaryPath) {
      await unlink(temporaryPath).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw error;
      });
    }
  }
}

export function createUploadServer(options: ServerOptions = {}) {
  return createSolutionServer(options, HastyDiscardSession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
