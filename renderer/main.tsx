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
  if (ferryStore.getState().view === 'queue') void showRange('queue', 0, 0);
  loadCatalog()
    .then(() => Promise.all([refreshSummary(), loadSyncRules()]))
    .catch(toastError);
  // The first render keeps the main thread for a few hundred milliseconds on a big queue's window,
  // and the socket's open event (which sends the queued commands) waits behind it. Rendering once the
  // socket is open (it opens within milliseconds from ferry serve; never later than 100 ms) lets the
  // server read the first page while the window renders.
  afterOpen(transport, 100, () => {
    root.render(
      <StrictMode>
        <App />
      </StrictMode>,
    );
    preloadAfterFirstRows();
  });
}

/** Runs `then` once the transport is open, or after `limitMs`, whichever comes first. */
function afterOpen(link: NonNullable<typeof transport>, limitMs: number, then: () => void): void {
  let ran = false;
  let stop: (() => void) | null = null;
  const run = (): void => {
    if (ran) return;
    ran = true;
    clearTimeout(timer);
    stop?.();
    then();
  };
  const timer = setTimeout(run, limitMs);
  stop = link.onConnection((state) => {
    if (state === 'open') queueMicrotask(run);
  });
  if (ran) stop();
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
}
