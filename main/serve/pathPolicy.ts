/**
 * Which local paths API commands may name when `ferry serve` answers the network (`--allow-remote`)
 * or was given `--allow-path`: only paths inside the allowed folders. Whoever holds the token can
 * otherwise queue any file this user can read (`~/.ssh/id_ed25519`, a tax return) for upload to an
 * account of theirs, or watch any folder.
 *
 * A path is judged by where it really leads: symbolic links are resolved with realpath and `..` is
 * resolved, both the way the queue resolves it (lexically first) and the way the operating system
 * does (links first), and both must land inside an allowed folder. Files dropped onto the page do not
 * pass through here: the server stages them itself, inside its own data folder.
 */
import { realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ApiErrorPayload } from '../api/contract.ts';
import { FerryError } from '../core/errors.ts';

/** The input fields, per command, that name local paths. */
function pathsOf(command: string, input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return [];
  const fields = input as { paths?: unknown; dir?: unknown };
  if (command === 'jobs.enqueue' && Array.isArray(fields.paths)) {
    // URLs are fetched by the provider, not read from this disk.
    return fields.paths.filter((path): path is string => typeof path === 'string' && !/^https?:\/\//i.test(path));
  }
  if (command === 'sync.add' && typeof fields.dir === 'string') return [fields.dir];
  return [];
}

/** realpath, or for a path that does not exist (yet): realpath of its nearest existing folder + the rest. */
async function whereItLeads(path: string): Promise<string> {
  let head = path;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...rest.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(head);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === head) throw error;
      rest.push(relative(parent, head));
      head = parent;
    }
  }
}

export class PathPolicy {
  /** The allowed folders, each resolved to its real path. */
  readonly roots: readonly string[];
  readonly #shown: string;

  private constructor(roots: string[]) {
    this.roots = roots;
    this.#shown = roots.join(', ');
  }

  /**
   * Resolves each allowed folder (it must exist and be a folder). Throws FerryError('invalid') with
   * the folder and the reason otherwise, so `ferry serve` stops before listening.
   */
  static async create(allowed: readonly string[]): Promise<PathPolicy> {
    const roots: string[] = [];
    for (const folder of allowed) {
      let real: string;
      try {
        real = await realpath(resolve(folder));
        if (!(await stat(real)).isDirectory())
          throw new FerryError('invalid', `--allow-path ${folder}: it is a file, not a folder`);
      } catch (error) {
        if (error instanceof FerryError) throw error;
        throw new FerryError(
          'invalid',
          `--allow-path ${folder}: no such folder (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
        );
      }
      if (!roots.includes(real)) roots.push(real);
    }
    return new PathPolicy(roots);
  }

  #inside(real: string): boolean {
    return this.roots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep));
  }

  /**
   * Null when every local path in the command's input lies inside an allowed folder (or the command
   * names none); otherwise the refusal to send instead of running the command. Malformed input is let
   * through: the command's own validation refuses it with a better message.
   */
  async check(command: string, input: unknown): Promise<ApiErrorPayload | null> {
    for (const path of pathsOf(command, input)) {
      if (path === '' || path.includes('\0')) continue;
      // The queue resolves the path lexically (`a/link/..` is `a`), the watcher hands it to the
      // operating system as given (`link/..` is the link target's parent): both must stay inside.
      const forms = new Set([resolve(path), path]);
      let refused = this.roots.length === 0;
      for (const form of forms) {
        if (refused) break;
        try {
          refused = !this.#inside(await whereItLeads(form));
        } catch {
          refused = true;
        }
      }
      if (!refused) continue;
      const shown = path.length > 200 ? `${path.slice(0, 197)}...` : path;
      const message =
        this.roots.length === 0
          ? `Cannot use ${shown} over the network: this "ferry serve" takes no file or folder paths. Drop files onto the page instead, or start it with --allow-path DIR for the folders it may read`
          : `Cannot use ${shown} over the network: it is not inside a folder this "ferry serve" may read (${this.#shown}). Pick a file there, or start it with --allow-path for that folder`;
      return { code: 'INVALID_INPUT', message };
    }
    return null;
  }
}
