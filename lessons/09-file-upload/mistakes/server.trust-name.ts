/**
 * MISTAKE: trusts the name in the header: checks its type, not what it says.
 *
 * Every honest client sends a plain base name (the course's client sends basename(file)), so
 * every try works. But the name is just bytes a client chose: `../escaped.txt` is joined to the
 * upload directory and lands next to it, `../../home/you/.bashrc` lands in your home, and a
 * server running as root can be made to overwrite anything on the machine. This is path
 * traversal, one of the oldest holes in file servers. The test sends hostile names over the
 * wire and checks each answer, and that nothing was written anywhere.
 *
 * @caught-by step 2: read the header, trusting nothing › hostile names are refused over the wire
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

class TrustingSession extends UploadSession {
  protected override readHeader(frame: Buffer): UploadHeader {
    let header: UploadHeader;
    try {
      header = JSON.parse(frame.toString('utf8')) as UploadHeader;
    } catch {
      throw new ProtocolError('the header is not valid JSON');
    }
    // The mistake: a string is a name. Nothing stops '/', '\\', '..' or NUL.
    if (typeof header.name !== 'string' || !Number.isSafeInteger(header.size) || header.size < 0) {
      throw new ProtocolError('the header needs "name", "size" and "sha256"');
    }
    return { name: header.name, size: header.size, sha256: String(header.sha256).toLowerCase() };
  }
}

export function createUploadServer(options: ServerOptions = {}) {
  return createSolutionServer(options, TrustingSession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
