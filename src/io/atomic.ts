// Files are written to a temporary sibling and renamed into place, so a reader (or a crash) never
// sees half a file and an existing file is replaced only by a complete new one. Only a regular file
// is ever replaced: rename() would otherwise swap a device (/dev/null), a FIFO or a symlink for a
// regular file. A temporary left behind by a process that was killed mid-write is removed by the
// next write to (or check of) the same path.
import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const tempName = (path: string, pid: number) => `.${basename(path)}.${pid}.${Date.now().toString(36)}.tmp`;

/** What is at `path` when it is something other than a regular file ('a directory', 'a symbolic
 *  link', ...), or null when it is a regular file or nothing. */
export function notRegularFile(path: string): string | null {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (st.isFile()) return null;
  return st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : st.isFIFO() ? 'a named pipe (FIFO)'
    : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporaries of `path` whose writer is no longer running (killed mid-write). */
export function removeStaleTemps(path: string): void {
  const prefix = `.${basename(path)}.`, dir = dirname(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-z]+\.tmp$/.exec(n.slice(prefix.length));
    if (m && !alive(Number(m[1]))) rmSync(join(dir, n), { force: true });
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const what = notRegularFile(path);
  if (what) throw Object.assign(new Error(`${path} is ${what}`), { code: 'ENOTREGULAR', path });
  const tmp = join(dirname(path), tempName(path, process.pid));
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) try { closeSync(fd); } catch { /* already failing */ }
    rmSync(tmp, { force: true });
    throw e;
  }
}
