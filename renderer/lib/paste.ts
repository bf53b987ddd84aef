/**
 * What a paste (Ctrl/Cmd+V) in the window carries that Ferry can upload: files and images from the
 * clipboard (a copied file in the file manager, a screenshot, an image copied in a browser), or else
 * links in the text. Text pasted into a field is the field's, never an upload.
 */
import { isJunk, parseUrls } from './dropEntries.ts';

export interface Pasted {
  files: File[];
  urls: string[];
}

/** True when the paste is meant for a text field (or an editable element) rather than the window. */
export function pasteIsForField(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  if (!element || typeof element.closest !== 'function') return false;
  return element.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]') !== null;
}

/** A name for a clipboard image, which browsers call just "image.png": when it was pasted, as screenshot tools do. */
export function pastedName(type: string, now = new Date()): string {
  const ext =
    (type.split('/')[1] ?? 'png')
      .replace('jpeg', 'jpg')
      .replace(/\+.*$/, '')
      .replace(/[^a-z0-9]/gi, '') || 'png';
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}`;
  return `Pasted image ${stamp}.${ext}`;
}

function renamed(file: File, now: Date): File {
  // A real file copied in a file manager keeps its name; only the clipboard's generic names are replaced.
  if (file.name !== '' && !/^image\.\w+$/i.test(file.name)) return file;
  return new File([file], pastedName(file.type, now), { type: file.type, lastModified: file.lastModified });
}

/** The files (else the links) of a paste; empty when it carries nothing to upload. */
export function readPaste(data: DataTransfer | null, now = new Date()): Pasted {
  if (!data) return { files: [], urls: [] };
  let files = Array.from(data.files ?? []);
  if (files.length === 0) {
    // Some sources put an image only in `items` (kind "file"), not in `files`.
    files = Array.from(data.items ?? [])
      .filter((item) => item.kind === 'file')
      .map((item) => item.getAsFile())
      .filter((file): file is File => file !== null);
  }
  files = files.filter((file) => !isJunk(file.name)).map((file) => renamed(file, now));
  if (files.length > 0) return { files, urls: [] };
  return { files: [], urls: parseUrls(data.getData('text/plain') ?? '') };
}
