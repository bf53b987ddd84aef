/**
 * Keeps the computer from suspending while uploads run (`powerSaveBlocker.start(
 * 'prevent-app-suspension')`) and lets it sleep again once they are done. The display may still
 * turn off. Idempotent: `update` is called on every progress change.
 */

/** The part of Electron's `powerSaveBlocker` used here. */
export interface PowerSaveBlockerLike {
  start(type: 'prevent-app-suspension'): number;
  stop(id: number): void;
}

export class PowerSaveSwitch {
  readonly #blocker: PowerSaveBlockerLike;
  #id: number | null = null;

  constructor(blocker: PowerSaveBlockerLike) {
    this.#blocker = blocker;
  }

  get blocking(): boolean {
    return this.#id !== null;
  }

  /** Blocks suspension when `uploading`, releases the block otherwise. */
  update(uploading: boolean): void {
    if (uploading && this.#id === null) this.#id = this.#blocker.start('prevent-app-suspension');
    else if (!uploading && this.#id !== null) {
      this.#blocker.stop(this.#id);
      this.#id = null;
    }
  }
}
