/**
 * MISTAKE: ignores what the file's write() returns, and never pauses the socket.
 *
 * write() always takes the bytes, so nothing is lost and every upload arrives intact: on a fast
 * disk, with small files, nobody notices. But when the network is faster than the disk (a
 * busy disk, a network share, a slow SD card), every byte the disk cannot take yet waits in the
 * server's memory: a 4 GB upload can hold gigabytes of RAM, and a few at once take the server
 * down. `false` means "stop until 'drain'": pausing the socket lets TCP slow the client down
 * instead. The test gives the server a slow disk, sends 8 MiB at once, and measures the most
 * the server queued for the disk.
 *
 * @caught-by step 4: write the body, with backpressure › a slow disk pauses the socket
 */
import { isMain, runServerProgram } from '@course/program';
import { ProtocolError, type UploadHeader } from '../solution/protocol.ts';
import {
  createUploadServer as createSolutionServer,
  type ServerOptions,
  serverProgram,
  UploadSession,
} from '../solution/server.ts';

export * from '../solution/server.ts';

class HastySession extends UploadSession {
  protected override receive(frame: Buffer): void {
    const { size } = this.header as UploadHeader;
    if (this.received + frame.length > size) {
      throw new ProtocolError(`the body is longer than the ${size} bytes announced`);
    }
    this.received += frame.length;
    this.hash?.update(frame);
    this.file?.write(frame); // the mistake: its false is ignored, the socket keeps flowing
    if (this.received === size) void this.finish();
  }
}

export function createUploadServer(options: ServerOptions = {}) {
  return createSolutionServer(options, HastySession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
