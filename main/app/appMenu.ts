/**
 * The application menu. macOS needs one for the usual shortcuts (copy, paste, hide, quit); Windows
 * and Linux get none in a packaged app (copy and paste work in text fields without it). The
 * reload and DevTools entries exist only when running unpackaged.
 */
import type { MenuItemConstructorOptions } from 'electron';

export function applicationMenu(platform: NodeJS.Platform, packaged: boolean): MenuItemConstructorOptions[] | null {
  const development: MenuItemConstructorOptions[] = packaged ? [] : [{ role: 'viewMenu' }];
  if (platform === 'darwin') return [{ role: 'appMenu' }, { role: 'editMenu' }, ...development, { role: 'windowMenu' }];
  return packaged ? null : [{ role: 'editMenu' }, ...development];
}
