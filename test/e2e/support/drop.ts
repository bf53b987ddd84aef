import type { Page } from '@playwright/test';

export interface FakeFile {
  name: string;
  size: number;
  type: string;
}

/**
 * Drops files on the window with a real DataTransfer, as the browser does for a drag from the desktop:
 * the File objects are made in the page (PNG-signed bytes of the given size) and dragenter, dragover
 * and drop are dispatched with that DataTransfer.
 */
export async function dropFiles(page: Page, files: FakeFile[], selector = '.main'): Promise<void> {
  await page.evaluate(
    ({ files: list, selector: target }) => {
      // This runs in the page; the test project has no DOM types, so the few used are named here.
      interface PageTransfer {
        items: { add(file: unknown): void };
      }
      interface PageGlobals {
        DataTransfer: new () => PageTransfer;
        File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
        DragEvent: new (
          type: string,
          init: { bubbles: boolean; cancelable: boolean; dataTransfer: PageTransfer },
        ) => unknown;
        document: {
          querySelector(selector: string): { dispatchEvent(event: unknown): boolean } | null;
          body: { dispatchEvent(event: unknown): boolean };
        };
      }
      const { DataTransfer, File, DragEvent, document } = globalThis as unknown as PageGlobals;
      const transfer = new DataTransfer();
      for (const spec of list) {
        const bytes = new Uint8Array(spec.size);
        bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].slice(0, spec.size));
        for (let i = 8; i < bytes.length; i += 1) bytes[i] = (i * 31 + spec.name.length) & 0xff;
        transfer.items.add(new File([bytes], spec.name, { type: spec.type }));
      }
      const element = document.querySelector(target) ?? document.body;
      for (const type of ['dragenter', 'dragover', 'drop']) {
        element.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
      }
    },
    { files, selector },
  );
}
