/**
 * The wire diagrams of lesson 09, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordExchange, type WireEvent } from '@course/helpers/wire';
import { upload } from './solution/client.ts';
import { createUploadServer } from './solution/server.ts';

/** The file uploaded: small enough that every frame fits on one arrow. */
export const CONTENT = 'hello, world\n';

/** An upload of hello.txt by the solution's client, recorded: `hashFirst` as upload() takes it. */
async function recordUpload(hashFirst: boolean): Promise<WireEvent[]> {
  const root = mkdtempSync(join(tmpdir(), 'course-09-diagram-'));
  try {
    const file = join(root, 'hello.txt');
    writeFileSync(file, CONTENT);
    const events = await recordExchange({
      server: createUploadServer({ dir: join(root, 'uploads') }),
      // The client's frames reach the server as one piece when it half-closes: arrivals are
      // otherwise cut by chance, and the diagram must be the same on every build.
      cut: 'coalesce',
      direction: 'request',
      client: async (port) => {
        const answer = await upload({ port, file, hashFirst });
        if (readFileSync(join(root, 'uploads', 'hello.txt'), 'utf8') !== CONTENT) {
          throw new Error(`the upload did not store hello.txt: ${JSON.stringify(answer)}`);
        }
      },
    });
    return events;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'small-upload': {
    title:
      'client.ts --hash-first uploads hello.txt (13 bytes): a header frame with the hash, one body frame, FIN, and the answer frame',
    'zh-CN': {
      title:
        'client.ts --hash-first 上传 hello.txt（13 字节）：一个带哈希的报头帧、一个数据体帧、FIN，以及回答帧',
    },
    record: () => recordUpload(true),
  },
  'trailer-upload': {
    title:
      'client.ts uploads hello.txt (13 bytes): a header frame without the hash, one body frame, the trailer frame with the hash, FIN, and the answer frame',
    'zh-CN': {
      title:
        'client.ts 上传 hello.txt（13 字节）：一个不带哈希的报头帧、一个数据体帧、带哈希的尾帧、FIN，以及回答帧',
    },
    record: () => recordUpload(false),
  },
};
