import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { setTransport } from './store/api.ts';
import { loadCatalog } from './store/catalog.ts';
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
      <h1>Open Ferry from its link</h1>
      <p>
        This page needs the address <code>ferry serve</code> printed, with its <code>?token=…</code>. Run{' '}
        <code>ferry serve</code> again and open the link it shows.
      </p>
    </div>,
  );
} else {
  setTransport(transport);
  connectEvents(transport);
  loadCatalog()
    .then(() => Promise.all([refreshSummary(), loadSyncRules()]))
    .catch(toastError);
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
