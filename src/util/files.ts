/**
 * Writing files completely or not at all: every file the project writes
 * (checkpoints, models, metrics, reports, exports, predictions) goes through
 * here, so that a full disk or a kill never leaves a partial file in place of
 * a good one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError, WriteError } from './errors';

/** Test hook: called with the bytes written so far; may throw to simulate a failing disk. */
let faultInjector: ((file: string, written: number) => void) | null = null;
export function injectWriteFault(f: ((file: string, written: number) => void) | null): void {
  faultInjector = f;
}

/** Writes every byte of data to fd, looping over short writes. */
function writeAll(fd: number, file: string, data: Buffer): void {
  let written = 0;
  while (written < data.length) {
    faultInjector?.(file, written);
    const n = fs.writeSync(fd, data, written, Math.min(data.length - written, 1 << 24));
    if (n <= 0) throw new Error(`wrote 0 bytes at offset ${written} of ${data.length}`);
    written += n;
  }
}

/**
 * Writes file atomically: the bytes go to a temporary file beside it, which is
 * flushed to disk and renamed over file only when complete. On any failure the
 * temporary file is removed, the old file is left as it was, and a WriteError
 * naming the file and the cause is thrown.
 */
export function writeFileAtomic(file: string, data: Buffer | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = `${file}.tmp-${process.pid}`;
  let fd: number | null = null;
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fd = fs.openSync(tmp, 'w');
    writeAll(fd, file, bytes);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) try { fs.closeSync(fd); } catch { /* already failing */ }
    try { fs.rmSync(tmp, { force: true }); } catch { /* best effort */ }
    throw e instanceof WriteError ? e : new WriteError(file, e);
  }
}

/** Appends one record to a log file; a short or failed append is a WriteError. */
export function appendFileComplete(file: string, text: string): void {
  try {
    faultInjector?.(file, 0);
    fs.appendFileSync(file, text);
  } catch (e) {
    throw new WriteError(file, e);
  }
}

/**
 * Checks an output path before any work: `dir` must be a folder or not exist
 * (kind 'dir'), a file path must not be an existing folder (kind 'file'), no
 * regular file may stand where one of its parent folders should be, and the
 * nearest folder that exists must be writable (a read-only file system, a
 * folder of another user). Exit 2 naming the flag and the cause.
 */
export function checkOutputPath(flag: string, p: string, kind: 'dir' | 'file'): void {
  const abs = path.resolve(p);
  if (kind === 'file' && fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
    throw new BadInputError(`${flag}: ${p} is a folder; expected a file name`);
  }
  for (let q = kind === 'dir' ? abs : path.dirname(abs); ; q = path.dirname(q)) {
    if (fs.existsSync(q)) {
      if (!fs.statSync(q).isDirectory()) throw new BadInputError(`${flag}: ${q} is a file, so ${p} cannot be written${kind === 'dir' ? ' as a folder' : ''}`);
      try {
        fs.accessSync(q, fs.constants.W_OK); // EROFS even for root; mkdir -p would report ENOENT instead
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'EROFS' ? 'is on a read-only file system (EROFS)' : `is not writable (${code ?? (e as Error).message})`;
        throw new BadInputError(`${flag}: ${p} cannot be written: ${q} ${why}; choose another ${flag}`);
      }
      return;
    }
    if (q === path.dirname(q)) return;
  }
}
