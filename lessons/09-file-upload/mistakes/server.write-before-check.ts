/**
 * MISTAKE: writes each body frame to the file first, and checks the size after.
 *
 * The answer is the same (`the body is longer than the 10 bytes announced`), and the file is
 * removed by discard() anyway, so nothing seems wrong. But the bytes beyond the announced size
 * have reached the disk: a client can make the server write more than it agreed to take, a
 * whole frame more each time, and on a disk that is nearly full that frame is what fills it.
 * Check first, then write: what was refused must never be stored, even for a moment. The test
 * counts the bytes the server hands to its file.
 *
 * @caught-by step 4: write the body, with backpressure › bytes beyond the announced size never reach the disk
 */
import type { Hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { isMain, runServerProgram } from '@course/program';
import { ProtocolError, type UploadHeader } from '../solution/protocol.ts';
import {
  createUploadServer as createSolutionServer,
  type ServerOptions,
  serverProgram,
  UploadSession,
} from '../solution/server.ts';

export * from '../solution/server.ts';

class WriteFirstSession extends UploadSession {
  protected override receive(frame: Buffer): void {
    const { size } = this.header as UploadHeader;
    const file = this.file as Writable;
    // The mistake: the frame goes to the disk before its size is checked.
    const ok = file.write(frame);
    if (this.received + frame.length > size) {
      throw new ProtocolError(`the body is longer than the ${size} bytes announced`);
    }
    this.received += frame.length;
    (this.hash as Hash).update(frame);
    if (!ok && !this.waitingForDisk) {
      this.waitingForDisk = true;
      this.socket.pause();
      file.once('drain', () => {
        this.waitingForDisk = false;
        this.socket.resume();
        this.restartDeadline();
      });
    }
    if (this.received === size) void this.finish();
  }
}

export function createUploadServer(options: ServerOptions = {}) {
  return createSolutionServer(options, WriteFirstSession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
