import { ferryStore } from './store.ts';
import type { Toast } from './slices.ts';

let nextToastId = 1;
const TOAST_MS: Record<Toast['level'], number> = { info: 4_000, success: 2_500, warning: 7_000, error: 9_000 };

/** Shows a short message in the corner; errors stay longer. Returns its id. */
export function pushToast(level: Toast['level'], message: string): number {
  const id = nextToastId++;
  ferryStore.setState((s) => ({ toasts: [...s.toasts.slice(-2), { id, level, message }] }));
  setTimeout(() => dismissToast(id), TOAST_MS[level]);
  return id;
}

export function dismissToast(id: number): void {
  ferryStore.setState((s) =>
    s.toasts.some((t) => t.id === id) ? { toasts: s.toasts.filter((t) => t.id !== id) } : {},
  );
}

/** Shows what went wrong with an action, in the server's words when it gave some. */
export function toastError(error: unknown): void {
  pushToast('error', error instanceof Error ? error.message : String(error));
}
