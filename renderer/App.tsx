import { Component, useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { AccountPicker } from './components/AccountPicker.tsx';
import { DetailsPanel } from './components/DetailsPanel.tsx';
import { DropZone } from './components/DropZone.tsx';
import { NetworkBanner } from './components/NetworkBanner.tsx';
import { Sidebar } from './components/Sidebar.tsx';
import { Toasts } from './components/Toasts.tsx';
import { useKeyboardShortcuts } from './components/useKeyboardShortcuts.ts';
import { applyLanguage, t } from './i18n.ts';
import { ferryStore, useFerry } from './store/store.ts';
import { AccountsView } from './views/AccountsView.tsx';
import { HistoryView } from './views/HistoryView.tsx';
import { QueueView } from './views/QueueView.tsx';
import { SettingsView } from './views/SettingsView.tsx';
import { SyncView } from './views/SyncView.tsx';

export const THEME_KEY = 'ferry.theme';

/** Applies the theme setting; "system" follows the OS and changes with it. */
function useTheme(): void {
  const theme = useFerry((s) => s.settings?.theme ?? null);
  useEffect(() => {
    let chosen = theme;
    if (chosen === null) {
      try {
        chosen = (localStorage.getItem(THEME_KEY) as typeof theme) ?? 'system';
      } catch {
        chosen = 'system';
      }
    } else {
      try {
        localStorage.setItem(THEME_KEY, chosen);
      } catch {
        // The theme still applies; the next start may flash the system theme first.
      }
    }
    const media = typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
    const apply = (): void => {
      const resolved = chosen === 'system' || chosen === null ? (media?.matches ? 'dark' : 'light') : chosen;
      document.documentElement.dataset.theme = resolved;
      document.documentElement.style.colorScheme = resolved;
      if (ferryStore.getState().resolvedTheme !== resolved) ferryStore.setState({ resolvedTheme: resolved });
    };
    apply();
    if (chosen !== 'system' || !media) return;
    media.addEventListener('change', apply);
    return () => media.removeEventListener('change', apply);
  }, [theme]);
}

/** Applies the language setting; "system" follows the browser's or OS's languages, also when they change. */
function useLanguage(): void {
  const language = useFerry((s) => s.settings?.language ?? null);
  useEffect(() => {
    applyLanguage(language);
    if (language !== 'system') return;
    const onChange = (): void => applyLanguage('system');
    window.addEventListener('languagechange', onChange);
    return () => window.removeEventListener('languagechange', onChange);
  }, [language]);
}

class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  override render(): ReactNode {
    if (!this.state.error) return this.props.children;
    return (
      <div className="fatal" role="alert">
        <h1>{t('fatal.title')}</h1>
        <p>{this.state.error.message}</p>
        <p className="muted">{t('fatal.text')}</p>
        <button type="button" className="button is-primary" onClick={() => window.location.reload()}>
          {t('actions.reload')}
        </button>
      </div>
    );
  }
}

function CurrentView() {
  const view = useFerry((s) => s.view);
  switch (view) {
    case 'queue':
      return <QueueView />;
    case 'history':
      return <HistoryView />;
    case 'sync':
      return <SyncView />;
    case 'accounts':
      return <AccountsView />;
    case 'settings':
      return <SettingsView />;
    default: {
      const never: never = view;
      return never;
    }
  }
}

function ConnectionBanner() {
  const connection = useFerry((s) => s.connection);
  const { t } = useTranslation();
  if (connection !== 'closed') return null;
  return (
    <div className="banner" role="status">
      {t('conn.lost')}
    </div>
  );
}

export function App() {
  useTheme();
  useLanguage();
  useKeyboardShortcuts();
  const detailsOpen = useFerry((s) => s.detailsId !== null && (s.view === 'queue' || s.view === 'history'));
  return (
    <ErrorBoundary>
      <div className={`app${detailsOpen ? ' has-details' : ''}`}>
        <Sidebar />
        <main className="main">
          <ConnectionBanner />
          <NetworkBanner />
          <CurrentView />
        </main>
        {detailsOpen ? <DetailsPanel /> : null}
        <DropZone />
        <AccountPicker />
        <Toasts />
      </div>
    </ErrorBoundary>
  );
}
