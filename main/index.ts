/**
 * The composition root of the desktop app (Electron's main process; `npm start` builds it to
 * dist/main/index.js). Everything that decides something lives in `app/`, `ipc/` and the engine,
 * tested without Electron; this file only connects Electron's objects to them:
 *
 * - before `ready`: the `app://` scheme, the data folder (shared with the `ferry` command) as
 *   userData, the single-instance lock, files from the command line and the app icon;
 * - at `ready`: the encrypted secret store, the desktop core (database, API, engine, watched folders:
 *   main/host/ferryHost.ts), IPC, tray, window;
 * - on quit: watched folders and the engine stop (their jobs go back to the queue), the database is
 *   closed, then Electron quits.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import {
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  app,
  clipboard,
  dialog,
  globalShortcut,
  ipcMain,
  nativeImage,
  net,
  powerMonitor,
  powerSaveBlocker,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron';
import electronLog from 'electron-log/main';
import electronUpdater from 'electron-updater';
import { resolveDataDir } from './cli/dataDir.ts';
import { applicationMenu } from './app/appMenu.ts';
import { APP_SCHEME, serveRendererRequest } from './app/appProtocol.ts';
import { startDesktopCore, type DesktopCore } from './app/desktopCore.ts';
import { ElectronShell } from './app/electronShell.ts';
import { electronSystemProxy } from './app/systemProxy.ts';
import { startDesktopFeatures, type DesktopFeatures } from './app/desktopFeatures.ts';
import { cliArguments, parseLaunchArgs } from './app/launchArgs.ts';
import { TrayText, trayLanguage } from './app/trayText.ts';
import { configureFerryLog, desktopLogDir, logFunction } from './host/ferryLog.ts';
import { parseStageBytes, stageAndEnqueue } from './app/stageBytes.ts';
import { installLastResort } from './engine/lastResort.ts';
import { MainWindow } from './app/mainWindow.ts';
import { guardPermissions } from './app/navigationGuard.ts';
import { wireNetworkWake } from './app/networkWake.ts';
import type { TrayAction } from './app/overallProgress.ts';
import { IpcTransport } from './ipc/ipcTransport.ts';
import { revealJobInFolder } from './ipc/revealInFolder.ts';
import { FileSecretStore } from './secrets/fileSecretStore.ts';
import { redactSecrets } from './secrets/redaction.ts';
import { SafeStorageSecretStore } from './secrets/safeStorageSecretStore.ts';
import { getAdapter } from './providers/registry.ts';

/** dist/main when built; the packaged app keeps the same layout inside app.asar. */
const here = dirname(fileURLToPath(import.meta.url));
const appRoot = join(here, '..', '..');
const PATHS = {
  preload: join(here, '..', 'preload', 'index.cjs'),
  renderer: join(here, '..', 'renderer'),
  icon: join(appRoot, 'build', 'icon.png'),
  trayIcon: join(appRoot, 'build', 'tray', process.platform === 'darwin' ? 'trayTemplate.png' : 'tray.png'),
};
/** Longest a quit may take before Ferry exits anyway (requests are aborted, not awaited to the end). */
const QUIT_TIMEOUT_MS = 15_000;

// Before ready ------------------------------------------------------------------------------------

// The main process runs the engine: the same lean heap as the `ferry` command (bin/ferry.js says
// why; peak RSS stays flat with file size).
if (process.env.FERRY_LEAN_HEAP !== '0') {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=20');
}

// A standard, secure scheme: the renderer gets a real origin and ES modules load normally.
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true },
  },
]);

const launchContext = { defaultApp: Boolean(process.defaultApp), appPath: app.getAppPath() };
const launch = parseLaunchArgs(process.argv, { ...launchContext, cwd: process.cwd() });
// The same folder the `ferry` command uses, so a queue started in one continues in the other; it is
// also userData, which keys the single-instance lock: one app per data folder.
const dataDir = resolveDataDir(launch.dataDir ?? undefined, process.env);
app.setName('Ferry');
app.setPath('userData', dataDir);
if (process.platform === 'win32') app.setAppUserModelId('app.ferry.desktop');
/** Electron's log folder; `<data folder>/logs` if Electron cannot say (the log must never stop the app). */
function platformLogs(): string {
  try {
    return app.getPath('logs');
  } catch {
    return join(dataDir, 'logs');
  }
}
// The log (host/ferryLog.ts): electron-log, in the platform's log folder, redacted, rotated by size.
const logDir = desktopLogDir(
  dataDir,
  resolveDataDir(undefined, { ...process.env, FERRY_DATA_DIR: '' }),
  platformLogs(),
);
const logPath = configureFerryLog(electronLog, { dir: logDir, fileName: 'desktop.log', console: true });
const log = logFunction(electronLog);
// Crashes of the window's renderer and of helper processes (GPU, network, utility) are recorded with
// their reason and exit code; uncaught errors of main go through installLastResort below.
electronLog.eventLogger.startLogging({ level: 'error' });
// Last-resort handlers (main/engine/lastResort.ts), in the real Electron main process only: the tests
// that load this file under a fake Electron keep their runner's own handlers.
if (process.versions.electron) installLastResort(log, (code) => app.exit(code));

const cli = cliArguments(process.argv);
if (cli) {
  // `Ferry --cli ARGS`: the `ferry` command, run by the app's binary (the installed app's `ferry`
  // launcher does this; ELECTRON_RUN_AS_NODE is off by a fuse). No window, no tray, no lock here:
  // the command takes the data folder's run lock itself when it uploads.
  app.dock?.hide();
  import('./cli/main.ts')
    .then(({ main }) => main(cli))
    .then(
      (code) => app.exit(code),
      (error: unknown) => {
        log('The ferry command failed', error);
        app.exit(1);
      },
    );
} else if (!app.requestSingleInstanceLock()) {
  // Another Ferry runs on this data folder: it receives our arguments ('second-instance') and shows
  // its window. Nothing else to do here.
  app.quit();
} else {
  run();
}

function run(): void {
  log(`Ferry ${app.getVersion()} starting (data folder ${dataDir})`);
  let core: DesktopCore | null = null;
  let ipc: IpcTransport | null = null;
  let electronShell: ElectronShell | null = null;
  let window: MainWindow | null = null;
  let quitting = false;
  let shutDown = false;
  /** Files that arrived before the core was ready (command line, app icon during launch). */
  const early: string[] = [...launch.files];
  let features: DesktopFeatures | null = null;
  /** ferry:// links that arrived before the core was ready. */
  const earlyLinks: string[] = [...launch.links];
  const followLink = (link: string): void => {
    if (features) void features.handleLink(link);
    else earlyLinks.push(link);
  };
  // macOS hands ferry:// links over as an event (also at launch, before ready).
  app.on('open-url', (event, url) => {
    event.preventDefault();
    followLink(url);
  });

  const receive = (paths: readonly string[]): void => {
    if (core) core.receiveFiles(paths).catch((error: unknown) => log('Could not take the files given to Ferry', error));
    else early.push(...paths);
  };

  app.on('open-file', (event, path) => {
    event.preventDefault();
    receive([path]);
  });

  app.on('second-instance', (_event, argv, workingDirectory) => {
    const args = parseLaunchArgs(argv, { ...launchContext, cwd: workingDirectory });
    if (args.files.length > 0) receive(args.files);
    for (const link of args.links) followLink(link);
    if (args.files.length === 0 && args.links.length === 0) window?.show();
  });

  app.on('activate', () => window?.show());

  app.on('window-all-closed', () => {
    // Reached only when close-to-tray is off (or there is no tray). macOS apps stay in the dock.
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('before-quit', (event) => {
    quitting = true;
    if (shutDown) return;
    event.preventDefault();
    void shutdown();
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  async function shutdown(): Promise<void> {
    if (shutDown) return;
    const force = setTimeout(() => {
      log(`Quitting took longer than ${QUIT_TIMEOUT_MS / 1000} s; exiting anyway (uploads resume next time)`);
      app.exit(0);
    }, QUIT_TIMEOUT_MS);
    try {
      features?.close();
      ipc?.close();
      // The core stops the watched folders and the engine, releases the run lock, then closes the database.
      await core?.close();
    } catch (error) {
      log('Could not stop cleanly', error);
    } finally {
      electronShell?.destroy();
      clearTimeout(force);
      shutDown = true;
      app.quit();
    }
  }

  const onTrayAction = (action: TrayAction): void => {
    if (action.type === 'quit') app.quit();
    else if (action.type === 'open' || !core) window?.show();
    else core.trayAction(action).catch((error: unknown) => log(`The tray action ${action.type} failed`, error));
  };

  async function start(): Promise<void> {
    protocol.handle(APP_SCHEME, (request) => serveRendererRequest(PATHS.renderer, request));
    guardPermissions(session.defaultSession);
    const menu = applicationMenu(process.platform, app.isPackaged);
    if (menu !== null || app.isPackaged) Menu.setApplicationMenu(menu ? Menu.buildFromTemplate(menu) : null);

    const secrets = new SafeStorageSecretStore({ safeStorage, dataDir, fallback: new FileSecretStore(dataDir) });

    const loadTrayIcon = (path: string) => {
      const image = nativeImage.createFromPath(path);
      if (process.platform === 'darwin') image.setTemplateImage(true);
      return image;
    };
    const trayIcon = loadTrayIcon(PATHS.trayIcon);
    const trayIcons = Object.fromEntries(
      (['uploading', 'paused', 'error'] as const).map((state) => [
        state,
        loadTrayIcon(PATHS.trayIcon.replace(/\.png$/, `-${state}.png`)),
      ]),
    );
    // The tray's language: the system's until the settings are read (desktopFeatures.ts applies them).
    const trayText = new TrayText(trayLanguage('system', app.getLocale()));
    const mainWindow = new MainWindow({
      createWindow: (options) => new BrowserWindow(options),
      preloadPath: PATHS.preload,
      iconPath: process.platform === 'linux' ? PATHS.icon : null,
      openExternal: (url) => shell.openExternal(url),
      hideOnClose: () => Boolean(electronShell?.hasTray && core?.api.settings.get().closeToTray),
      isQuitting: () => quitting,
      onCreated: (created) => ipc?.attach(created.webContents),
      log,
    });
    window = mainWindow;
    electronShell = new ElectronShell({
      app,
      Tray,
      Menu,
      Notification,
      powerSaveBlocker,
      trayIcon,
      trayIcons,
      clipboard,
      notificationIcon: process.platform === 'darwin' ? null : PATHS.icon,
      window: mainWindow,
      onTrayAction,
      platform: process.platform,
      executable: process.env.APPIMAGE ?? process.execPath,
      log,
      text: trayText,
      menuExtras: () => features?.menuExtras() ?? [],
    });

    // The core opens the database and the queue with the adapter registry handed in here.
    const started = await startDesktopCore({
      dataDir,
      adapterFor: getAdapter,
      secrets,
      shell: electronShell,
      version: app.getVersion(),
      log,
      // Unless a proxy is set in Settings, provider requests use the system's (per URL, PAC included).
      systemProxy: electronSystemProxy(session.defaultSession),
      notifications: { describe: (jobs) => trayText.describeBatch(jobs) },
    });
    const { queue } = started;
    core = started;
    // Waking up or the network coming back: the hosts that could not be reached are probed at once.
    const unwireWake = wireNetworkWake({
      powerMonitor,
      net,
      probeNow: () => started.engine?.probeNow() ?? Promise.resolve(),
      log,
    });
    app.once('will-quit', unwireWake);
    ipc = new IpcTransport({
      ipcMain,
      call: (command, input) => started.call(command, input),
      subscribe: (listener) => started.api.subscribe(listener),
      openLogFolder: async () => {
        const failure = await shell.openPath(logDir);
        return failure === ''
          ? { ok: true, value: null }
          : { ok: false, error: { code: 'INTERNAL', message: `Ferry could not open ${logDir}: ${failure}` } };
      },
      rendererLog: (message) => electronLog.scope('renderer').error(message),
      stageBytes: async (input) => {
        const request = parseStageBytes(input);
        return 'ok' in request ? request : stageAndEnqueue(started.api, request, log);
      },
      reveal: (jobId) =>
        revealJobInFolder(
          {
            findJob: (id) => queue.jobs.get(id),
            isStaged: (path) => started.api.staging.isStaged(path),
            exists: existsSync,
            showItemInFolder: (path) => shell.showItemInFolder(path),
          },
          jobId,
        ),
      log,
    });

    const updater = electronUpdater.autoUpdater;
    updater.logger = electronLog;
    features = startDesktopFeatures({
      core: started,
      shell: electronShell,
      text: trayText,
      systemLocale: () => app.getLocale(),
      clipboard,
      globalShortcut,
      updater,
      packaged: app.isPackaged,
      platform: process.platform,
      openLogFolder: () => void shell.openPath(logDir),
      log,
    });
    // ferry:// links open Ferry (Windows and Linux; macOS and the Linux packages declare it too).
    if (app.isPackaged && !app.isDefaultProtocolClient('ferry')) app.setAsDefaultProtocolClient('ferry');

    // Started at login (macOS says so; elsewhere the login item passes --hidden): tray only. Without
    // a tray the window must show, or Ferry would run out of reach.
    const hidden = (launch.hidden || app.getLoginItemSettings().wasOpenedAtLogin) && electronShell.hasTray;
    if (!hidden) mainWindow.show();
    if (early.length > 0) receive(early.splice(0));
    for (const link of earlyLinks.splice(0)) followLink(link);
  }

  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => {
      log('Ferry could not start', error);
      // Redacted like the log (host/ferryLog.ts): people share screenshots of error boxes.
      const message = redactSecrets(error instanceof Error ? error.message : String(error));
      dialog.showErrorBox('Ferry could not start', `${message}\n\nDetails are in ${logPath}.`);
      shutDown = true;
      app.exit(1);
    });
}
