/**
 * Lesson 09: the upload protocol, shared by server.ts and client.ts.
 *
 * Over lesson 08's frames (a 4-byte unsigned big-endian length, then that many bytes):
 *
 *   client → server   one header frame, JSON: {"name": "report.pdf", "size": N, "sha256": "<64 hex>"}
 *   client → server   body frames carrying exactly N bytes in total (none when N is 0)
 *   client → server   only when the header has no "sha256": one trailer frame, JSON: {"sha256": "<64 hex>"}
 *   client → server   FIN
 *   server → client   one answer frame, JSON: {"ok": true, "name", "size", "sha256"}
 *                                         or {"ok": false, "error": "..."}
 *
 * The server never trusts the header: checkName(), parseHeader() and parseTrailer() are where a
 * client's words become values the server may act on. A body frame is raw bytes, so nothing in a
 * frame says "I am the trailer": the server counts. The frame after the announced size is the
 * trailer; a trailer sent early is body bytes, and makes the body too long, too short or wrong.
 */
import { encodeFrame } from '@course/struct-framing/framing';

export {
  encodeFrame,
  FrameDecoder,
  FramingError,
  MAX_FRAME_BYTES,
} from '@course/struct-framing/framing';

/** The first frame: what the client is about to send. */
export interface UploadHeader {
  /** A plain file name, no directory: `report.pdf`. */
  name: string;
  /** The exact number of body bytes that follow. */
  size: number;
  /**
   * SHA-256 of those bytes, 64 hexadecimal digits (lower case once parsed). Absent: the client
   * hashes while it sends, and the hash comes after the body, in the trailer frame.
   */
  sha256?: string;
}

/** The frame after the body when the header had no hash: {"sha256": "<64 hex>"}. */
export interface UploadTrailer {
  sha256: string;
}

/** The server's one answer. */
export type UploadAnswer =
  | { ok: true; name: string; size: number; sha256: string }
  | { ok: false; error: string };

/** The longest file name, in UTF-8 bytes, that common file systems (ext4, APFS, NTFS) store. */
export const MAX_NAME_BYTES = 255;

/** The size of the body frames the client sends: 64 KiB. */
export const BODY_FRAME_BYTES = 64 * 1024;

/**
 * The largest frame the server accepts, header or body: 1 MiB. A frame is held whole in memory
 * until its last byte arrives, so this bounds what one client can make the server hold.
 */
export const MAX_BODY_FRAME_BYTES = 1024 * 1024;

/** The largest trailer frame: 1 KiB. It holds one hash; anything longer is not a trailer. */
export const MAX_TRAILER_BYTES = 1024;

/** The SHA-256 of nothing: the hash an empty file announces. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The client broke the protocol; the message is what the server answers, word for word. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// region step-1
/**
 * Step 1: why `name` may not be used as a file name in the upload directory, or undefined when
 * it may. Only a plain name is safe: no directory part of any kind, so that joining it to the
 * upload directory can never point anywhere else; nothing a terminal listing it would obey; no
 * name of the server's own files; nothing another system (Windows) would store as another name.
 */
export function checkName(name: string): string | undefined {
  if (name === '') return 'it is empty';
  // The kernel ends a path at a NUL byte: 'a.txt\0.png' would be checked as one name, stored as another.
  if (name.includes('\0')) return 'it contains a NUL byte';
  if (name.includes('/')) return 'it contains a slash (/)';
  // A directory separator on Windows, and a trap for any code that converts paths for it.
  if (name.includes('\\')) return 'it contains a backslash (\\)';
  if (name.includes('..')) return 'it contains ".."';
  if (name === '.') return 'it is "." (the directory itself)';
  // A newline forges lines in a listing or a log; ESC starts a terminal command (clear the
  // screen, set the title); C1 controls (U+0080 to U+009F) are commands too on some terminals.
  const control = /\p{Cc}/u.exec(name)?.[0];
  if (control !== undefined) return `it contains a control character (${codePoint(control)})`;
  // U+202E shows 'report\u202Efdp.exe' as 'reportexe.pdf': a name that displays as another.
  const bidi = /\p{Bidi_Control}/u.exec(name)?.[0];
  if (bidi !== undefined) return `it contains a bidirectional control (${codePoint(bidi)})`;
  // Hidden from `ls`, and the server's own temporary files (.upload-….part) start with a dot.
  if (name.startsWith('.')) return 'it starts with "." (hidden, like the server\'s own temporary files)';
  // `rm -f *` in the upload directory would read '-rf' as options.
  if (name.startsWith('-')) return 'it starts with "-" (a command would take it for an option)';
  // Windows drops them: 'a.txt.' and 'a.txt ' are stored as 'a.txt'.
  if (/[. ]$/.test(name)) return 'it ends with a dot or a space';
  const device = WINDOWS_DEVICE.exec(name)?.[1];
  if (device !== undefined) return `it is a device name on Windows (${device.toUpperCase()})`;
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `it is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}
// endregion step-1

/**
 * The names Windows keeps for devices, whatever the case and the extension: `con`, `NUL.txt`,
 * `com1.tar.gz`, `lpt¹`. Opening one opens the device, not a file.
 */
export const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]) *(?:\.|$)/i;

/** `U+001B` for '\x1b': how a character nobody can see is named in a message. */
export function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * `text` with every character a terminal would obey made visible: control characters (C0, DEL,
 * C1), bidirectional controls and line separators become `\u001b`, `\u202e`... Whatever a peer
 * sends, printing it through visible() cannot clear a screen or turn a line around.
 */
export function visible(text: string): string {
  return text.replace(
    /[\p{Cc}\p{Bidi_Control}\u2028\u2029]/gu,
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}

// region step-2
/**
 * Step 2: the header frame's payload as an UploadHeader, or a ProtocolError saying what is wrong
 * with it. Every field is checked, because every field comes from the client: a name that
 * checkName() refuses, a size that is not a whole number of bytes, a hash that is not 64 hex
 * digits. Fields the protocol does not know are ignored.
 */
export function parseHeader(payload: Uint8Array): UploadHeader {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new ProtocolError('the header is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('the header must be a JSON object with "name", "size" and "sha256"');
  }
  const { name, size, sha256 } = value as Record<string, unknown>;
  if (typeof name !== 'string') throw new ProtocolError('"name" must be a string');
  const refused = checkName(name);
  if (refused !== undefined)
    throw new ProtocolError(`refused name ${visible(JSON.stringify(name))}: ${refused}`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new ProtocolError('"size" must be a whole number of bytes, 0 or more');
  }
  if (sha256 === undefined) return { name, size }; // the hash comes in the trailer
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(sha256)) {
    throw new ProtocolError('"sha256" must be 64 hexadecimal digits');
  }
  return { name, size, sha256: sha256.toLowerCase() };
}
// endregion step-2

// region step-10
/**
 * Step 10: the trailer frame's payload, the frame after the body when the header had no hash:
 * the SHA-256 it carries (lower case), or a ProtocolError saying what is wrong. Longer than
 * MAX_TRAILER_BYTES, not JSON, not an object, or no 64-hex-digit "sha256": refused.
 */
export function parseTrailer(payload: Uint8Array): string {
  if (payload.length > MAX_TRAILER_BYTES) {
    throw new ProtocolError(`the trailer is longer than ${MAX_TRAILER_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new ProtocolError('the trailer is not valid JSON');
  }
  const sha256 = (value as Partial<Record<string, unknown>> | null)?.sha256;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(sha256)) {
    throw new ProtocolError('the trailer must be {"sha256": "<64 hexadecimal digits>"}');
  }
  return sha256.toLowerCase();
}
// endregion step-10

/** One frame holding `value` as JSON (UTF-8): a header, a trailer or an answer. */
export function jsonFrame(value: UploadHeader | UploadTrailer | UploadAnswer): Buffer {
  return encodeFrame(Buffer.from(JSON.stringify(value), 'utf8'));
}

/** The answer frame's payload, checked; a ProtocolError when it is not an answer at all. */
export function parseAnswer(payload: Uint8Array): UploadAnswer {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new ProtocolError('the answer is not valid JSON');
  }
  const answer = value as Partial<Record<string, unknown>> | null;
  if (answer?.ok === false && typeof answer.error === 'string') return { ok: false, error: answer.error };
  if (
    answer?.ok === true &&
    typeof answer.name === 'string' &&
    typeof answer.size === 'number' &&
    typeof answer.sha256 === 'string'
  ) {
    return { ok: true, name: answer.name, size: answer.size, sha256: answer.sha256 };
  }
  throw new ProtocolError(`the answer is not {"ok": true, ...} or {"ok": false, "error": ...}`);
}

/** Plain words for the file system's error codes. */
const FILE_WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'file already exists',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
};

/**
 * `permission denied (EACCES)` for a file system error. Node's own message names the path
 * (`EACCES: permission denied, open '/srv/uploads/.upload-1f2e.part'`): a server must not send
 * its paths to a client, so only the words and the code are kept.
 */
export function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  const words = FILE_WORDS[code] ?? /^\w+: ([^,]+)/.exec((error as Error).message)?.[1] ?? 'failed';
  return `${words} (${code})`;
}
