import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * --data-dir, else $FERRY_DATA_DIR, else the desktop app's user-data folder (the same place Electron's
 * app.getPath('userData') gives for "Ferry"), so that a queue started in one continues in the other.
 */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.FERRY_DATA_DIR) return resolve(env.FERRY_DATA_DIR);
  switch (process.platform) {
    case 'darwin':
      return join(homedir(), 'Library', 'Application Support', 'Ferry');
    case 'win32':
      return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Ferry');
    default:
      return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Ferry');
  }
}
