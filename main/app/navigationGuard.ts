/**
 * Keeps the window on Ferry's own pages. A link or script may not navigate the window elsewhere,
 * open a new window, attach a <webview>, or get a browser permission; http(s) links open in the
 * system browser instead, other schemes (file:, javascript:, smb:, custom handlers) nowhere.
 *
 * The few Electron objects used are described as interfaces, so that tests drive the guards with
 * fakes and the real `WebContents` / `Session` satisfy them structurally.
 */
import { isAppUrl, isWebUrl } from './appProtocol.ts';

/** The part of an Electron event the guards use. */
export interface PreventableEvent {
  preventDefault(): void;
}

export interface NavigationDetails extends PreventableEvent {
  url: string;
}

export interface WindowOpenDetails {
  url: string;
}

/** The part of `WebContents` the guards use. */
export interface GuardedContents {
  on(event: 'will-navigate', listener: (details: NavigationDetails) => void): unknown;
  on(event: 'will-redirect', listener: (details: NavigationDetails) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: WindowOpenDetails) => { action: 'deny' }): void;
}

/** The part of `Session` the guards use. */
export interface GuardedSession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(
    handler: (contents: unknown, permission: string, requestingOrigin: string) => boolean,
  ): void;
}

export interface GuardOptions {
  /** Opens an http(s) address in the system browser (Electron's `shell.openExternal`). */
  openExternal: (url: string) => Promise<void>;
  log?: (message: string, error?: unknown) => void;
}

/** Permissions the UI may use: writing to the clipboard ("copy link") and nothing else. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

/** Opens a web address in the system browser; ignores anything else. Returns whether it opened. */
export function openInBrowser(url: string, options: GuardOptions): boolean {
  if (!isWebUrl(url)) {
    options.log?.(
      `Refused to open ${JSON.stringify(url.slice(0, 200))}: only http and https links open in the browser`,
    );
    return false;
  }
  options.openExternal(url).catch((error: unknown) => options.log?.(`Could not open ${url} in the browser`, error));
  return true;
}

export function guardNavigation(contents: GuardedContents, options: GuardOptions): void {
  const stayHome = (details: NavigationDetails): void => {
    if (isAppUrl(details.url)) return;
    details.preventDefault();
    // A plain link the renderer forgot to mark as external: the person still gets the page.
    if (isWebUrl(details.url)) openInBrowser(details.url, options);
    else options.log?.(`Blocked a navigation to ${JSON.stringify(details.url.slice(0, 200))}`);
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openInBrowser(url, options);
    return { action: 'deny' };
  });
}

export function guardPermissions(session: GuardedSession): void {
  session.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(ALLOWED_PERMISSIONS.has(permission)),
  );
  session.setPermissionCheckHandler(
    (_contents, permission, origin) => ALLOWED_PERMISSIONS.has(permission) && isAppUrl(`${origin}/`),
  );
}
