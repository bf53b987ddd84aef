/**
 * The views other than the queue, and the details panel, live in chunks of their own (Vite splits
 * at each dynamic import): the window starts on the queue, and parsing and compiling the code of the
 * settings, history, sync and accounts views before the first rows only delays them. The chunks are
 * read as soon as the queue has shown its first page (or after a few seconds), so that by the time
 * someone opens another view its code is there and it shows at once, exactly as before.
 *
 * Not React.lazy: a lazy component suspends on its first render even when its code is loaded, which
 * would flash the fallback on every first visit. A loaded view here renders in the same pass; only a
 * view opened before its chunk arrived shows the fallback (an empty, busy view) for that moment.
 */
import { useEffect, useState, type ComponentType } from 'react';

interface LazyPart {
  load: () => Promise<ComponentType>;
  component: ComponentType | null;
  promise: Promise<ComponentType> | null;
}

function lazyPart(load: () => Promise<ComponentType>): LazyPart {
  return { load, component: null, promise: null };
}

export const lazyParts = {
  history: lazyPart(() => import('./views/HistoryView.tsx').then((m) => m.HistoryView)),
  sync: lazyPart(() => import('./views/SyncView.tsx').then((m) => m.SyncView)),
  accounts: lazyPart(() => import('./views/AccountsView.tsx').then((m) => m.AccountsView)),
  settings: lazyPart(() => import('./views/SettingsView.tsx').then((m) => m.SettingsView)),
  details: lazyPart(() => import('./components/DetailsPanel.tsx').then((m) => m.DetailsPanel)),
};

function loadPart(part: LazyPart): Promise<ComponentType> {
  part.promise ??= part.load().then(
    (component) => (part.component = component),
    (error: unknown) => {
      // Let a later render try again (a chunk that failed to arrive may arrive the next time).
      part.promise = null;
      throw error;
    },
  );
  return part.promise;
}

/** Loads every lazy part's code; resolves when all are ready (tests await it, the app fires and forgets). */
export function preloadLazyParts(): Promise<void> {
  return Promise.all(Object.values(lazyParts).map(loadPart)).then(() => undefined);
}

/**
 * The part's component once its code is loaded, else null (and the load starts). A load that fails
 * is thrown during render, so the window's error boundary says so with its reload button.
 */
export function useLazyPart(part: LazyPart): ComponentType | null {
  const [failure, setFailure] = useState<Error | null>(null);
  const [, setLoaded] = useState(0);
  useEffect(() => {
    if (part.component) return;
    let live = true;
    loadPart(part).then(
      () => live && setLoaded((n) => n + 1),
      (error: unknown) => live && setFailure(error instanceof Error ? error : new Error(String(error))),
    );
    return () => {
      live = false;
    };
  }, [part]);
  if (failure) throw failure;
  return part.component;
}

/** A view whose code is still loading: the view's frame, empty and marked busy for screen readers. */
export function ViewLoading() {
  return <section className="view" aria-busy="true" />;
}
