/**
 * Reads what was dropped: files, folders (walked recursively through the entries API, skipping system
 * junk) and links. The entries must be taken while the drop event is being dispatched, so reading is
 * split in a synchronous snapshot and an asynchronous walk.
 */

/** Names that are never uploads: Finder, Explorer and VCS leftovers. Hidden files are skipped too. */
const JUNK = new Set([
  '.DS_Store',
  'Thumbs.db',
  'ehthumbs.db',
  'desktop.ini',
  '.localized',
  '__MACOSX',
  '.Spotlight-V100',
  '.Trashes',
  '.fseventsd',
  '.git',
]);

export function isJunk(name: string): boolean {
  return JUNK.has(name) || name.startsWith('.') || name.startsWith('~$') || name === 'Icon\r';
}

export interface DropSnapshot {
  entries: FileSystemEntry[];
  files: File[];
  urls: string[];
}

export interface DroppedItems {
  files: File[];
  urls: string[];
  skipped: number;
}

const URL_PATTERN = /^https?:\/\/\S+$/i;

export function parseUrls(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && URL_PATTERN.test(line));
}

/** Call inside the drop handler: entries and files vanish once it returns. */
export function snapshotDrop(data: DataTransfer): DropSnapshot {
  const entries: FileSystemEntry[] = [];
  const files: File[] = [];
  for (const item of Array.from(data.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) files.push(file);
    }
  }
  if (entries.length === 0 && files.length === 0) files.push(...Array.from(data.files ?? []));
  const urls =
    files.length === 0 && entries.length === 0
      ? parseUrls(data.getData('text/uri-list') || data.getData('text/plain'))
      : [];
  return { entries, files, urls };
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries answers in batches (100 in Chromium) until it answers an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

export async function expandDrop(snapshot: DropSnapshot): Promise<DroppedItems> {
  const files: File[] = [];
  let skipped = 0;
  for (const file of snapshot.files) {
    if (isJunk(file.name)) skipped += 1;
    else files.push(file);
  }
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (isJunk(entry.name)) {
      skipped += 1;
      return;
    }
    if (entry.isFile) files.push(await fileOf(entry as FileSystemFileEntry));
    else if (entry.isDirectory) for (const child of await readAll(entry as FileSystemDirectoryEntry)) await walk(child);
  };
  for (const entry of snapshot.entries) await walk(entry);
  return { files, urls: snapshot.urls, skipped };
}
