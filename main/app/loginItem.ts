/**
 * Start at login. macOS and Windows have `app.setLoginItemSettings`; Linux has none in Electron, so
 * there Ferry writes (or removes) an XDG autostart entry, `~/.config/autostart/ferry.desktop`,
 * which every freedesktop session honours. Either way Ferry starts with `--hidden`: in the tray,
 * without a window. On macOS the argument cannot be passed; the app asks
 * `getLoginItemSettings().wasOpenedAtLogin` instead.
 *
 * Only a packaged app registers itself: an unpackaged `electron .` would register the bare Electron
 * binary, which starts without Ferry.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const HIDDEN_FLAG = '--hidden';

/** One argument of a desktop entry's Exec key, quoted as the spec asks. */
export function quoteExecArgument(value: string): string {
  if (/^[\w./+,:@%-]+$/.test(value)) return value;
  return `"${value.replace(/(["`$\\])/g, '\\$1')}"`;
}

export function autostartDesktopEntry(executable: string): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Ferry',
    'Comment=Resumable uploads to your media platforms',
    `Exec=${quoteExecArgument(executable)} ${HIDDEN_FLAG}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function autostartPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'autostart', 'ferry.desktop');
}

/** Writes or removes the XDG autostart entry. `executable`: the AppImage, else the installed binary. */
export async function setLinuxAutostart(enabled: boolean, executable: string, path = autostartPath()): Promise<void> {
  if (!enabled) {
    await rm(path, { force: true });
    return;
  }
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, autostartDesktopEntry(executable), { mode: 0o644 });
}
