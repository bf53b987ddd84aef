/**
 * The global hotkey (setting `clipboardHotkey`, an Electron accelerator such as
 * `CommandOrControl+Shift+U`; `''` = off, the default): registered with Electron's `globalShortcut`,
 * registered again whenever the setting changes, and released on quit. When the system refuses it
 * (another app holds that combination), the person is told so, with the key named, and Ferry keeps
 * running without it.
 */

/** The part of Electron's `globalShortcut` used here. */
export interface GlobalShortcutLike {
  register(accelerator: string, callback: () => void): boolean;
  unregister(accelerator: string): void;
}

export interface HotkeyOptions {
  globalShortcut: GlobalShortcutLike;
  onPress: () => void;
  tell: (level: 'info' | 'warning' | 'error', message: string) => void;
  log: (message: string, error?: unknown) => void;
}

export class Hotkey {
  readonly #options: HotkeyOptions;
  #current = '';

  constructor(options: HotkeyOptions) {
    this.#options = options;
  }

  /** The accelerator registered now, or '' when none is. */
  get current(): string {
    return this.#current;
  }

  /** Registers `accelerator` in place of the current one ('' = none). Returns whether it is active. */
  set(accelerator: string): boolean {
    const next = accelerator.trim();
    if (next === this.#current) return next !== '';
    this.release();
    if (next === '') return false;
    let registered: boolean;
    try {
      registered = this.#options.globalShortcut.register(next, () => this.#options.onPress());
    } catch (error) {
      // Electron throws for an accelerator it cannot parse.
      this.#options.log(`Could not register the hotkey ${next}`, error);
      this.#options.tell(
        'error',
        `Ferry cannot use ${next} as a hotkey: it is not a key combination Ferry understands`,
      );
      return false;
    }
    if (!registered) {
      this.#options.tell(
        'warning',
        `Another app already uses ${next}: choose another hotkey in Settings to upload the clipboard`,
      );
      return false;
    }
    this.#current = next;
    return true;
  }

  release(): void {
    if (this.#current === '') return;
    try {
      this.#options.globalShortcut.unregister(this.#current);
    } catch (error) {
      this.#options.log(`Could not release the hotkey ${this.#current}`, error);
    }
    this.#current = '';
  }
}
