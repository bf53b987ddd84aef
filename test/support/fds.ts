/** Descriptors of this process (Linux /proc), for tests that check files are closed. */
import { readdirSync, readlinkSync } from 'node:fs';

/** File descriptors of this process that are open on `path`. */
export function fdsOn(path: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count += 1;
    } catch {
      // Closed between the listing and the readlink.
    }
  }
  return count;
}

/** How many descriptors this process has open. */
export const openFds = (): number => readdirSync('/proc/self/fd').length;
