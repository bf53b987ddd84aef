/**
 * "Does another process still have this file open?", asked right before a watched folder moves or
 * deletes a file: a copy from a slow NAS, a phone or a card reader can pause for longer than the
 * stability check and still be writing.
 *
 * - Linux: the /proc/<pid>/fd symlinks of every process this user may read (other users' processes
 *   are invisible unless Ferry runs as root). Bounded: at most `maxDescriptors` links are read and
 *   the scan yields to the event loop between processes; a scan that hits the bound answers
 *   `incomplete`, and the caller keeps the file and asks again later.
 * - macOS: `lsof -F pn -- PATH...` when lsof is installed (it is by default); without it, `unsupported`.
 * - Windows and others: `unsupported`. There the quiet period is the only protection; Windows itself
 *   refuses to rename or delete a file that a writer opened without FILE_SHARE_DELETE, which is how
 *   most copy tools open it, and Ferry then keeps the file and reports the failure.
 *
 * Mapped files (mmap without an open descriptor) are not seen on any platform.
 */
import { execFile } from 'node:child_process';
import { readdir, readlink } from 'node:fs/promises';

export type OpenFilesAnswer =
  /** Every process that could be looked at was: `holders` maps each path held open to its pids. */
  | { kind: 'known'; holders: Map<string, number[]>; descriptorsRead: number }
  /** The platform can tell, but this look stopped early (bound reached, tool failed): ask again. */
  | { kind: 'incomplete'; reason: string }
  /** The platform cannot tell (documented). */
  | { kind: 'unsupported'; reason: string };

export interface OpenFilesOptions {
  /** Upper bound on /proc descriptor links read in one look (default 200,000). */
  maxDescriptors?: number;
  /** Processes whose descriptors do not count (default: this process). */
  ignorePids?: readonly number[];
  /** For tests: another /proc. */
  procRoot?: string;
}

export async function whoHasOpen(paths: readonly string[], options: OpenFilesOptions = {}): Promise<OpenFilesAnswer> {
  if (paths.length === 0) return { kind: 'known', holders: new Map(), descriptorsRead: 0 };
  const ignore = new Set(options.ignorePids ?? [process.pid]);
  if (process.platform === 'linux')
    return scanProc(paths, ignore, options.maxDescriptors ?? 200_000, options.procRoot ?? '/proc');
  if (process.platform === 'darwin') return askLsof(paths, ignore);
  return {
    kind: 'unsupported',
    reason: `Ferry cannot tell on ${process.platform} whether another program still has a file open`,
  };
}

async function scanProc(
  paths: readonly string[],
  ignore: Set<number>,
  maxDescriptors: number,
  root: string,
): Promise<OpenFilesAnswer> {
  const wanted = new Set(paths);
  const holders = new Map<string, number[]>();
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (error) {
    return {
      kind: 'incomplete',
      reason: `cannot read ${root} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    };
  }
  let read = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (ignore.has(pid)) continue;
    let fds: string[];
    try {
      fds = await readdir(`${root}/${entry}/fd`);
    } catch {
      // Gone since the listing, or another user's process: nothing this user could see.
      continue;
    }
    for (const fd of fds) {
      if (read >= maxDescriptors) {
        return { kind: 'incomplete', reason: `more than ${maxDescriptors} open files on this machine to look through` };
      }
      read += 1;
      let target: string;
      try {
        target = await readlink(`${root}/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!wanted.has(target)) continue;
      const pids = holders.get(target) ?? [];
      if (!pids.includes(pid)) pids.push(pid);
      holders.set(target, pids);
    }
  }
  return { kind: 'known', holders, descriptorsRead: read };
}

function askLsof(paths: readonly string[], ignore: Set<number>): Promise<OpenFilesAnswer> {
  return new Promise((resolve) => {
    execFile('lsof', ['-F', 'pn', '--', ...paths], { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') {
        resolve({
          kind: 'unsupported',
          reason: 'lsof is not installed, so Ferry cannot tell whether another program still has a file open',
        });
        return;
      }
      // lsof exits with 1 when none of the files is open (and prints nothing).
      if (error && !(typeof code === 'number' && code === 1 && stdout.trim() === '')) {
        if (stdout.trim() === '') {
          resolve({ kind: 'incomplete', reason: `lsof failed (${error.message})` });
          return;
        }
      }
      const holders = new Map<string, number[]>();
      let pid = 0;
      for (const line of stdout.split('\n')) {
        if (line.startsWith('p')) pid = Number(line.slice(1));
        else if (line.startsWith('n') && pid > 0 && !ignore.has(pid)) {
          const path = line.slice(1);
          const pids = holders.get(path) ?? [];
          if (!pids.includes(pid)) pids.push(pid);
          holders.set(path, pids);
        }
      }
      resolve({ kind: 'known', holders, descriptorsRead: 0 });
    });
  });
}
