import { Component, useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { AccountPicker } from './components/AccountPicker.tsx';
import { DropZone } from './components/DropZone.tsx';
import { NetworkBanner } from './components/NetworkBanner.tsx';
import { Sidebar } from './components/Sidebar.tsx';
import { Toasts } from './components/Toasts.tsx';
import { useKeyboardShortcuts } from './components/useKeyboardShortcuts.ts';
import { applyLanguage, t } from './i18n.ts';
import type { ViewName } from './store/slices.ts';
import { ferryStore, useFerry } from './store/store.ts';
import { lazyParts, useLazyPart, ViewLoading } from './lazyViews.tsx';
import { QueueView } from './views/QueueView.tsx';

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
  if (view === 'queue') return <QueueView />;
  return <LazyView key={view} view={view} />;
}

/** A view from its own chunk (lazyViews.tsx): shown in the same pass when its code is loaded. */
function LazyView({ view }: { view: Exclude<ViewName, 'queue'> }) {
  const View = useLazyPart(lazyParts[view]);
  return View ? <View /> : <ViewLoading />;
}

function LazyDetailsPanel() {
  const Panel = useLazyPart(lazyParts.details);
  return Panel ? <Panel /> : null;
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
        {detailsOpen ? <LazyDetailsPanel /> : null}
        <DropZone />
        <AccountPicker />
        <Toasts />
      </div>
    </ErrorBoundary>
  );
}
