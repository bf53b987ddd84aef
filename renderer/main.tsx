import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Trans } from 'react-i18next';
import { App } from './App.tsx';
import { t } from './i18n.ts';
import { setTransport } from './store/api.ts';
import { loadCatalog } from './store/catalog.ts';
import { showRange } from './store/lists.ts';
import { ferryStore } from './store/store.ts';
import { preloadLazyParts } from './lazyViews.tsx';
import { connectEvents } from './store/connectEvents.ts';
import { refreshSummary } from './store/summary.ts';
import { loadSyncRules } from './store/sync.ts';
import { toastError } from './store/toasts.ts';
import { pickTransport } from './transport/pickTransport.ts';
import './styles/app.css';

const root = createRoot(document.getElementById('root')!);
const transport = pickTransport();

if (!transport) {
  root.render(
    <div className="fatal">
      <h1>{t('boot.title')}</h1>
      <p>
        <Trans i18nKey="boot.text" components={{ code: <code /> }} />
      </p>
    </div>,
  );
} else {
  setTransport(transport);
  connectEvents(transport);
  // The queue's first page is the first command on the socket: the window opens on the queue, and its
  // rows need nothing else (the list asks for the same page when it mounts and finds it in flight).
  const firstPage = ferryStore.getState().view === 'queue' ? showRange('queue', 0, 0) : Promise.resolve();
  const catalogAndTotals = loadCatalog().then(() => Promise.all([refreshSummary(), loadSyncRules()]));
  catalogAndTotals.catch(toastError);
  // The first render of a big queue's window keeps the main thread for a while. It starts once the
  // first page, the catalog and the totals are in, so that it already shows the rows instead of an
  // empty list rendered again when they come: from ferry serve they are usually here before this
  // runs (renderer/public/early-socket.js asked for them while the bundle loaded), over Electron's IPC
  // they take milliseconds. Never later than 100 ms: a slow server must not keep the window blank.
  whenSettled([firstPage, catalogAndTotals], 100, () => {
    root.render(
      <StrictMode>
        <App />
      </StrictMode>,
    );
    preloadAfterFirstRows();
  });
}

/** Runs `then` once every promise settled, or after `limitMs`, whichever comes first. */
function whenSettled(promises: Promise<unknown>[], limitMs: number, then: () => void): void {
  let ran = false;
  const run = (): void => {
    if (ran) return;
    ran = true;
    clearTimeout(timer);
    then();
  };
  const timer = setTimeout(run, limitMs);
  void Promise.allSettled(promises).then(run);
}

/** Reads the other views' code (lazyViews.tsx) once the queue has its first rows, or after 3 s. */
function preloadAfterFirstRows(): void {
  let done = false;
  const start = (): void => {
    if (done) return;
    done = true;
    stop();
    clearTimeout(timer);
    const idle = window.requestIdleCallback ?? ((run: () => void) => setTimeout(run, 50));
    idle(() => void preloadLazyParts().catch(() => undefined));
  };
  const stop = ferryStore.subscribe((s) => {
    if (s.queue.ready) start();
  });
  const timer = setTimeout(start, 3_000);
  // The first render usually has the rows already (the early socket): then no change is coming to wait for.
  if (ferryStore.getState().queue.ready) start();
}
