/**
 * What a launch of the desktop app asks for: files to upload (given on the command line, by the
 * file manager's "Open with", or forwarded from a second launch), `--hidden` (start in the tray, as
 * the login item does) and `--data-dir DIR`.
 *
 * Electron's argv is not tidy: it starts with the executable, then — when run unpackaged as
 * `electron .` — the app's folder; Chromium may add switches of its own (`--original-process-start-
 * time=...`) and may reorder them. So every `-`-prefixed word is a switch and is skipped (ours
 * excepted), and the app's own folder is never taken for a file. After `--`, everything is a file.
 *
 * Linux file managers start the app through its .desktop file, whose Exec ends in %U: files arrive
 * as `file://` URLs and are turned back into paths. `ferry://` links (Windows and Linux pass them as
 * an argument; macOS sends `open-url`) are kept apart, for ferryLink.ts.
 *
 * `--cli` is not read here: main/index.ts checks for it first (`cliArguments`) and runs the `ferry`
 * command instead of the app.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LaunchArgs {
  files: string[];
  hidden: boolean;
  dataDir: string | null;
  /** `ferry://…` links given to the app. */
  links: string[];
}

/** The `ferry` command's arguments when the app binary is run as `Ferry --cli ARGS…`, else null. */
export function cliArguments(argv: readonly string[]): string[] | null {
  const at = argv.indexOf('--cli');
  return at === -1 ? null : argv.slice(at + 1);
}

export interface LaunchContext {
  /** `process.defaultApp`: true when run as `electron <app folder>` (argv[1] is the app folder). */
  defaultApp: boolean;
  /** The working directory of the launch the argv comes from (relative paths are resolved there). */
  cwd: string;
  /** `app.getAppPath()`: never a file to upload. */
  appPath: string;
}

export function parseLaunchArgs(argv: readonly string[], context: LaunchContext): LaunchArgs {
  const files: string[] = [];
  const links: string[] = [];
  let hidden = false;
  let dataDir: string | null = null;
  let appFolderSkipped = !context.defaultApp;
  let onlyFiles = false;
  const appPath = resolve(context.appPath);
  for (let i = 1; i < argv.length; i += 1) {
    const word = argv[i]!;
    if (!onlyFiles && word === '--') {
      onlyFiles = true;
      continue;
    }
    if (!onlyFiles && word.startsWith('-')) {
      if (word === '--hidden') hidden = true;
      else if (word === '--data-dir' && i + 1 < argv.length) dataDir = resolve(context.cwd, argv[++i]!);
      else if (word.startsWith('--data-dir=')) dataDir = resolve(context.cwd, word.slice('--data-dir='.length));
      continue;
    }
    if (!appFolderSkipped) {
      appFolderSkipped = true;
      continue;
    }
    if (word === '') continue;
    if (/^ferry:/i.test(word)) {
      links.push(word);
      continue;
    }
    let path: string;
    try {
      path = /^file:\/\//i.test(word) ? fileURLToPath(word) : resolve(context.cwd, word);
    } catch {
      // A file:// URL of another host (a network share named by URL): not a local file.
      continue;
    }
    if (path === appPath) continue;
    files.push(path);
  }
  return { files, hidden, dataDir, links };
}
