/**
 * "Upload the clipboard" (the global hotkey, setting `clipboardHotkey`; see hotkey.ts): what is on
 * the clipboard goes to the account last used from the window, the way ShareX and PicGo do it.
 *
 * What counts, in this order (a file copied in a file manager often carries its icon as an image
 * too, so files come first):
 * 1. files copied in the file manager: `text/uri-list` (Linux; GNOME's `x-special/gnome-copied-files`
 *    too), `public.file-url` (macOS) or `FileNameW` (Windows, one UTF-16 path) — the last two are
 *    platform formats, which Electron's clipboard shows as
 *    `electron application/osclipboard;format="<name>"` — queued as they are;
 * 2. an image (`image/png`, a screenshot): copied to the data folder's `staging/` (stageBytes.ts: the
 *    same checks and clean-up as a file sent to `ferry serve`) and queued from there, named
 *    `Clipboard 2026-12-04 10.31.07.png`;
 * 3. text that is one http(s) URL: queued as a link, for providers that fetch files themselves.
 *
 * Anything else, or no account to send to, is said in a notice (and a notification: the window may
 * be hidden when the hotkey is pressed). Electron 45's clipboard is the W3C-style asynchronous one
 * (`read()` → items with `types` and `getType(type)` → Blob); it comes in through `ClipboardLike`.
 */
import { fileURLToPath } from 'node:url';
import type { ApiResult, JobView } from '../api/contract.ts';

/** One entry of Electron's `clipboard.read()`. */
export interface ClipboardItemLike {
  readonly types: string[];
  getType(type: string): Promise<unknown>;
}

/** The part of Electron's `clipboard` read here. */
export interface ClipboardLike {
  read(): Promise<ClipboardItemLike[]>;
  readText(): Promise<string>;
}

export interface ClipboardUploadDeps {
  clipboard: ClipboardLike;
  platform: NodeJS.Platform;
  /** The account uploads from outside the window go to (FileIntake.targetAccount), or null. */
  targetAccount: () => string | null;
  /** Whether that account's provider takes files or fetches URLs. */
  sourcesOf: (account: string) => 'file' | 'url' | null;
  enqueue: (account: string, paths: string[]) => Promise<ApiResult<JobView[]>>;
  /** Copies bytes into the staging folder and queues them (stageBytes.ts). */
  stage: (account: string, name: string, bytes: Uint8Array) => Promise<ApiResult<JobView[]>>;
  /** Tells the person what happened (window notice and notification). */
  tell: (level: 'info' | 'warning' | 'error', message: string) => void;
  now?: () => Date;
}

export type ClipboardOutcome =
  | { kind: 'files' | 'image' | 'url'; account: string; jobs: number }
  | { kind: 'empty' | 'no-account' | 'refused' | 'wrong-provider' };

/** Electron's name for a platform clipboard format. */
export function osFormat(name: string): string {
  return `electron application/osclipboard;format="${name}"`;
}

async function bytesOf(item: ClipboardItemLike, type: string): Promise<Buffer | null> {
  const value = await item.getType(type);
  if (value instanceof Blob) return Buffer.from(await value.arrayBuffer());
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : null;
}

function fromUris(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/\0+$/, '').trim())
    .filter((line) => line.startsWith('file://'))
    .flatMap((line) => {
      try {
        return [fileURLToPath(line)];
      } catch {
        return [];
      }
    });
}

/** The file paths on the clipboard (copied in a file manager), in the platform's own format. */
export async function clipboardFilePaths(
  items: readonly ClipboardItemLike[],
  platform: NodeJS.Platform,
): Promise<string[]> {
  for (const item of items) {
    const has = (type: string): boolean => item.types.includes(type);
    if (platform === 'win32') {
      if (!has(osFormat('FileNameW'))) continue;
      const path = (await bytesOf(item, osFormat('FileNameW')))?.toString('utf16le').replace(/\0+$/, '') ?? '';
      if (path !== '') return [path];
      continue;
    }
    const uriTypes =
      platform === 'darwin'
        ? [osFormat('public.file-url'), 'text/uri-list']
        : ['text/uri-list', osFormat('x-special/gnome-copied-files')];
    for (const type of uriTypes) {
      if (!has(type)) continue;
      const paths = fromUris((await bytesOf(item, type))?.toString('utf8') ?? '');
      if (paths.length > 0) return paths;
    }
  }
  return [];
}

/** The PNG bytes of an image on the clipboard, or null. */
async function clipboardImage(items: readonly ClipboardItemLike[]): Promise<Buffer | null> {
  for (const item of items) {
    if (!item.types.includes('image/png')) continue;
    const bytes = await bytesOf(item, 'image/png');
    if (bytes && bytes.length > 0) return bytes;
  }
  return null;
}

/** `Clipboard 2026-12-04 10.31.07.png`: sortable, and a valid file name on every system. */
export function clipboardImageName(now: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const day = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return `Clipboard ${day} ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}.png`;
}

function oneUrl(text: string): string | null {
  const trimmed = text.trim();
  if (!/^https?:\/\/\S+$/i.test(trimmed)) return null;
  try {
    return new URL(trimmed).href;
  } catch {
    return null;
  }
}

/** Uploads what is on the clipboard; never throws for what is on it (each outcome is told). */
export async function uploadClipboard(deps: ClipboardUploadDeps): Promise<ClipboardOutcome> {
  const { clipboard, tell } = deps;
  const items = await clipboard.read();
  const paths = await clipboardFilePaths(items, deps.platform);
  const image = paths.length === 0 ? await clipboardImage(items) : null;
  const url = paths.length === 0 && image === null ? oneUrl(await clipboard.readText()) : null;
  if (paths.length === 0 && image === null && url === null) {
    tell('info', 'The clipboard holds no file, image or link to upload');
    return { kind: 'empty' };
  }
  const account = deps.targetAccount();
  if (account === null) {
    tell('warning', 'Ferry does not know which account to upload the clipboard to: upload once from the window first');
    return { kind: 'no-account' };
  }
  const sources = deps.sourcesOf(account);
  const kind = paths.length > 0 ? 'files' : url === null ? 'image' : 'url';
  if ((kind === 'url') !== (sources === 'url')) {
    tell(
      'warning',
      kind === 'url'
        ? `${account} takes files, not links: copy the file itself to upload it`
        : `${account} imports files from a public URL: copy a link to upload it there`,
    );
    return { kind: 'wrong-provider' };
  }
  let result: ApiResult<JobView[]>;
  if (kind === 'image') {
    const name = clipboardImageName((deps.now ?? (() => new Date()))());
    result = await deps.stage(account, name, image!);
    if (result.ok) tell('info', `Uploading the clipboard's image to ${account} as ${name}`);
  } else {
    result = await deps.enqueue(account, kind === 'files' ? paths : [url!]);
    const what = kind === 'files' ? `${paths.length} file${paths.length === 1 ? '' : 's'}` : url!;
    if (result.ok) tell('info', `Uploading ${what} from the clipboard to ${account}`);
  }
  if (!result.ok) {
    tell('error', `Could not upload the clipboard to ${account}: ${result.error.message}`);
    return { kind: 'refused' };
  }
  return { kind, account, jobs: result.value.length };
}
