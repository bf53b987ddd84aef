import { useTranslation } from 'react-i18next';
import { formatCount } from '../lib/format.ts';
import { ferryStore, useFerry } from '../store/store.ts';
import type { ViewName } from '../store/slices.ts';
import { Icon, type IconName } from './Icon.tsx';

const ITEMS: Array<{ view: ViewName; icon: IconName }> = [
  { view: 'queue', icon: 'queue' },
  { view: 'history', icon: 'history' },
  { view: 'sync', icon: 'sync' },
  { view: 'accounts', icon: 'accounts' },
  { view: 'settings', icon: 'settings' },
];

export function Sidebar() {
  const view = useFerry((s) => s.view);
  const active = useFerry((s) => s.summary.counts.active);
  const failed = useFerry((s) => s.summary.counts.failed);
  const accounts = useFerry((s) => s.accounts.length);
  const folders = useFerry((s) => s.syncRules.length);
  const folderErrors = useFerry((s) => s.syncRules.filter((rule) => rule.status === 'error').length);
  const connection = useFerry((s) => s.connection);
  const kind = useFerry((s) => s.transportKind);
  const { t } = useTranslation();
  return (
    <nav className="sidebar" aria-label="Ferry">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <svg viewBox="0 0 32 32" width="26" height="26">
            <path d="M4 20h24l-3 6H7z" fill="currentColor" opacity="0.9" />
            <path d="M15 4v14M15 4l8 11h-8" fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round" />
          </svg>
        </span>
        <span className="brand-name">Ferry</span>
      </div>
      <ul className="nav">
        {ITEMS.map((item) => (
          <li key={item.view}>
            <button
              type="button"
              className={`nav-item${view === item.view ? ' is-active' : ''}`}
              aria-current={view === item.view ? 'page' : undefined}
              onClick={() => ferryStore.setState({ view: item.view, detailsId: null, detail: null })}
            >
              <Icon name={item.icon} size={18} />
              <span className="nav-label">{t(`nav.${item.view}`)}</span>
              {item.view === 'queue' && active > 0 ? (
                <span className="nav-badge" aria-label={t('nav.activeCount', { n: formatCount(active) })}>
                  {formatCount(active)}
                </span>
              ) : null}
              {item.view === 'history' && failed > 0 ? (
                <span className="nav-badge tone-danger" aria-label={t('nav.failedCount', { n: formatCount(failed) })}>
                  {formatCount(failed)}
                </span>
              ) : null}
              {item.view === 'sync' && folderErrors > 0 ? (
                <span className="nav-badge tone-danger" aria-label={t('nav.folderErrors', { count: folderErrors })}>
                  {folderErrors}
                </span>
              ) : item.view === 'sync' && folders > 0 ? (
                <span className="nav-count">{folders}</span>
              ) : null}
              {item.view === 'accounts' && accounts > 0 ? <span className="nav-count">{accounts}</span> : null}
            </button>
          </li>
        ))}
      </ul>
      <div className="sidebar-foot">
        <span className={`conn conn-${connection}`} role="status">
          <span className="conn-dot" aria-hidden="true" />
          {connection === 'open'
            ? kind === 'electron'
              ? t('conn.ready')
              : t('conn.connected')
            : connection === 'connecting'
              ? t('conn.connecting')
              : t('conn.reconnecting')}
        </span>
        <span className="shortcut-hint">{t('nav.dropHint')}</span>
      </div>
    </nav>
  );
}
