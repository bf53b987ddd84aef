import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Trans } from 'react-i18next';
import { App } from './App.tsx';
import { t } from './i18n.ts';
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
      <h1>{t('boot.title')}</h1>
      <p>
        <Trans i18nKey="boot.text" components={{ code: <code /> }} />
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
