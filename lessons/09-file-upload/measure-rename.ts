/**
 * Is a rename across file systems a copy? Run: npx tsx lessons/09-file-upload/measure-rename.ts [DIR_A DIR_B]
 *
 * Renames a file within one directory (one file system), then from DIR_A to DIR_B. By default
 * DIR_A is /dev/shm (a tmpfs on Linux) and DIR_B the system's temporary directory; pass two
 * directories on different file systems on another system (a USB stick, another drive).
 * `fs.rename()` is rename(2): across file systems it copies nothing and fails with EXDEV. Only
 * tools such as `mv` and Python's `shutil.move` catch that and fall back to copy-then-delete,
 * which is not atomic: a reader can see the half-copied file.
 */
import { mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// portable: /dev/shm is Linux's memory file system; elsewhere, name two folders on two disks.
const [dirA = '/dev/shm', dirB = tmpdir()] = process.argv.slice(2);
const a = await mkdtemp(join(dirA, 'rename-'));
const b = await mkdtemp(join(dirB, 'rename-'));
try {
  const devices = `${dirA} is device ${(await stat(a)).dev}, ${dirB} is device ${(await stat(b)).dev}`;
  console.log(`${process.platform}, Node ${process.version}; ${devices}`);

  await writeFile(join(a, '.part'), 'hello, world\n');
  await rename(join(a, '.part'), join(a, 'hello.txt'));
  console.log(`rename within ${dirA}: ok`);

  try {
    await rename(join(a, 'hello.txt'), join(b, 'hello.txt'));
    console.log(`rename from ${dirA} to ${dirB}: ok (the same file system?)`);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    console.log(`rename from ${dirA} to ${dirB}: ${code}, ${message.split(',')[0]}`);
  }
} finally {
  await rm(a, { recursive: true, force: true });
  await rm(b, { recursive: true, force: true });
}
