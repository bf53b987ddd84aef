import type { TFunction } from 'i18next';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { SyncRuleInfo, SyncRuleState, SyncTrashEntry } from '../../main/api/contract.ts';
import { EmptyState } from '../components/EmptyState.tsx';
import { Icon } from '../components/Icon.tsx';
import { ProviderMark } from '../components/ProviderMark.tsx';
import { SyncRuleForm } from '../components/SyncRuleForm.tsx';
import { formatCount, formatDate, formatRelative } from '../lib/format.ts';
import { ferryStore, useFerry } from '../store/store.ts';
import {
  loadSyncRules,
  loadSyncTrash,
  removeSyncRule,
  restoreSyncTrash,
  setAllSyncPaused,
  setSyncRulePaused,
} from '../store/sync.ts';

const STATUS: Record<SyncRuleState, { tone: string; live?: boolean }> = {
  watching: { tone: 'success', live: true },
  starting: { tone: 'accent' },
  paused: { tone: 'muted' },
  error: { tone: 'danger' },
  elsewhere: { tone: 'neutral' },
};

function SyncStatusChip({ rule }: { rule: SyncRuleInfo }) {
  const { t } = useTranslation();
  const status = STATUS[rule.status];
  return (
    <span className={`chip tone-${status.tone}`} data-status={rule.status} title={rule.statusMessage ?? undefined}>
      <span className={`chip-dot${status.live ? ' is-live' : ''}`} aria-hidden="true" />
      <span className="chip-label">{t(`sync.status.${rule.status}`)}</span>
    </span>
  );
}

function afterUploadText(rule: SyncRuleInfo, t: TFunction): string {
  switch (rule.afterUpload) {
    case 'keep':
      return t('sync.after.keep');
    case 'move':
      return t('sync.after.move', { folder: rule.moveTo ?? 'uploaded' });
    case 'delete':
      return t('sync.after.delete');
    default: {
      const never: never = rule.afterUpload;
      return never;
    }
  }
}

function Globs({ globs, none }: { globs: string[]; none: string }) {
  if (globs.length === 0) return <>{none}</>;
  return (
    <>
      {globs.map((glob) => (
        <code key={glob} className="glob">
          {glob}
        </code>
      ))}
    </>
  );
}

function SyncRuleCard({ rule }: { rule: SyncRuleInfo }) {
  const [confirmRemove, setConfirmRemove] = useState(false);
  const { t } = useTranslation();
  const titleId = `sync-${rule.id}-title`;
  const c = rule.counts;
  const tiles: Array<{ label: string; value: number; tone?: string }> = [
    { label: t('sync.count.uploaded'), value: c.uploaded, tone: c.uploaded > 0 ? 'success' : undefined },
    { label: t('sync.count.queued'), value: c.queued },
    { label: t('sync.count.waiting'), value: c.pending },
    { label: t('sync.count.refused'), value: c.refused, tone: c.refused > 0 ? 'warning' : undefined },
    { label: t('sync.count.failed'), value: c.failed, tone: c.failed > 0 ? 'danger' : undefined },
  ];
  return (
    <article
      className={`card sync-card${rule.paused ? ' is-paused' : ''}`}
      aria-labelledby={titleId}
      data-rule-id={rule.id}
    >
      <header className="account-head">
        <span className="folder-mark" aria-hidden="true">
          <Icon name="folder" size={20} />
        </span>
        <div className="account-title">
          <h2 id={titleId} className="mono ellipsis sync-dir" title={rule.dir}>
            {rule.dir}
          </h2>
          <span className="muted sync-account">
            <ProviderMark provider={rule.provider} size={16} name={rule.provider ?? undefined} />
            {rule.accountName ?? t('sync.accountRemoved')}
          </span>
        </div>
        <SyncStatusChip rule={rule} />
      </header>
      {rule.status === 'error' && rule.statusMessage ? (
        <p className="callout tone-danger sync-callout" role="status">
          <Icon name="alert" /> {rule.statusMessage}
        </p>
      ) : null}
      <div className="sync-body">
        <dl className="facts sync-facts">
          <div>
            <dt>{t('sync.files')}</dt>
            <dd>
              <Globs globs={rule.include} none={t('sync.everyFile')} />
            </dd>
          </div>
          {rule.exclude.length > 0 ? (
            <div>
              <dt>{t('sync.skipped')}</dt>
              <dd>
                <Globs globs={rule.exclude} none="" />
              </dd>
            </div>
          ) : null}
          <div>
            <dt>{t('sync.subfolders')}</dt>
            <dd>{rule.recursive ? t('sync.included') : t('sync.notWatched')}</dd>
          </div>
          <div>
            <dt>{t('sync.onceUploaded')}</dt>
            <dd>{afterUploadText(rule, t)}</dd>
          </div>
        </dl>
        <ul className="sync-counts" aria-label={t('sync.filesOf', { dir: rule.dir })}>
          {tiles.map((tile) => (
            <li key={tile.label} className={`sync-count${tile.tone ? ` tone-${tile.tone}` : ''}`}>
              <span className="sync-count-value">{formatCount(tile.value)}</span>
              <span className="sync-count-label">{tile.label}</span>
            </li>
          ))}
        </ul>
      </div>
      {c.duplicate > 0 ? (
        <p className="muted sync-note">{t('sync.duplicates', { count: c.duplicate, n: formatCount(c.duplicate) })}</p>
      ) : null}
      {rule.problems.length > 0 ? (
        <ul className="sync-problems" aria-label={t('sync.problems')}>
          {rule.problems.slice(0, 3).map((problem) => (
            <li key={problem.path}>
              <span
                className={`tag tone-${problem.state === 'failed' ? 'danger' : problem.state === 'kept' ? 'neutral' : 'warning'}`}
              >
                {t(`sync.problem.${problem.state}`)}
              </span>
              <span className="mono ellipsis" title={problem.path}>
                {problem.path.slice(rule.dir.length + 1) || problem.path}
              </span>
              <span className="muted ellipsis" title={problem.reason ?? undefined}>
                {problem.reason ?? ''}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="account-controls">
        <label className="inline-field">
          <input
            type="checkbox"
            role="switch"
            className="switch"
            checked={!rule.paused}
            onChange={(e) => void setSyncRulePaused(rule.id, !e.target.checked)}
            aria-label={t('sync.watchingDir', { dir: rule.dir })}
          />
          <span>{rule.paused ? t('sync.paused') : t('sync.active')}</span>
        </label>
        <span className="spacer" />
        {confirmRemove ? (
          <span className="confirm">
            <span>{t('sync.confirmStop')}</span>
            <button type="button" className="button is-small is-danger" onClick={() => void removeSyncRule(rule)}>
              {t('sync.stop')}
            </button>
            <button type="button" className="button is-small is-ghost" onClick={() => setConfirmRemove(false)}>
              {t('sync.keep')}
            </button>
          </span>
        ) : (
          <button
            type="button"
            className="button is-small is-danger-ghost"
            onClick={() => setConfirmRemove(true)}
            aria-label={t('sync.removeDir', { dir: rule.dir })}
          >
            <Icon name="trash" /> {t('actions.remove')}
          </button>
        )}
      </div>
    </article>
  );
}

/**
 * Files that "delete" rules moved into Ferry's trash, each with Restore. Read when the view shows and
 * whenever the rules change (an upload finishing changes their counts); hidden while empty.
 */
function SyncTrashList({ rules }: { rules: SyncRuleInfo[] }) {
  const [entries, setEntries] = useState<SyncTrashEntry[]>([]);
  const [busy, setBusy] = useState<number | null>(null);
  const { t } = useTranslation();
  useEffect(() => {
    let live = true;
    void loadSyncTrash().then((list) => {
      if (live) setEntries(list);
    });
    return () => {
      live = false;
    };
  }, [rules]);
  if (entries.length === 0) return null;
  const restore = async (entry: SyncTrashEntry): Promise<void> => {
    setBusy(entry.id);
    if (await restoreSyncTrash(entry)) setEntries((list) => list.filter((e) => e.id !== entry.id));
    setBusy(null);
  };
  return (
    <section className="card sync-trash" aria-labelledby="sync-trash-title">
      <h2 id="sync-trash-title">{t('sync.trash.title')}</h2>
      <p className="muted">{t('sync.trash.text')}</p>
      <ul className="sync-trash-list">
        {entries.map((entry) => (
          <li key={entry.id} data-trash-id={entry.id} className="sync-trash-row">
            <span className="mono ellipsis" title={entry.path}>
              {entry.path}
            </span>
            <span className="muted">
              {entry.present
                ? t('sync.trash.keptUntil', {
                    date: formatDate(entry.expiresAt),
                    relative: formatRelative(entry.expiresAt),
                  })
                : t('sync.trash.missing')}
            </span>
            <button
              type="button"
              className="button is-small"
              disabled={!entry.present || busy === entry.id}
              onClick={() => void restore(entry)}
              aria-label={t('sync.trash.restoreNamed', { path: entry.path })}
            >
              {t('sync.trash.restore')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function SyncView() {
  const rules = useFerry((s) => s.syncRules);
  const ready = useFerry((s) => s.syncReady);
  const canWatch = useFerry((s) =>
    s.accounts.some((account) => s.providers.find((p) => p.id === account.provider)?.capabilities.sources !== 'url'),
  );
  const [adding, setAdding] = useState(false);
  const { t } = useTranslation();
  useEffect(() => {
    if (!ferryStore.getState().syncReady) void loadSyncRules();
  }, []);
  const active = rules.filter((rule) => !rule.paused).length;

  let body: React.ReactNode;
  if (!ready) body = null;
  else if (rules.length === 0) {
    body = (
      <EmptyState
        icon="sync"
        title={t('sync.empty.title')}
        actions={
          canWatch ? (
            <button type="button" className="button is-primary" onClick={() => setAdding(true)}>
              <Icon name="plus" /> {t('sync.watch')}
            </button>
          ) : (
            <button
              type="button"
              className="button is-primary"
              onClick={() => ferryStore.setState({ view: 'accounts' })}
            >
              <Icon name="plus" /> {t('sync.empty.addAccount')}
            </button>
          )
        }
      >
        {t('sync.empty.text')}
      </EmptyState>
    );
  } else {
    body = (
      <div className="account-list">
        {rules.map((rule) => (
          <SyncRuleCard key={rule.id} rule={rule} />
        ))}
      </div>
    );
  }

  return (
    <section className="view view-narrow" aria-labelledby="sync-title">
      <header className="view-header">
        <div className="view-title-row">
          <h1 id="sync-title">{t('nav.sync')}</h1>
          <div className="header-actions">
            {rules.length > 0 ? (
              <>
                <button
                  type="button"
                  className="button"
                  onClick={() => void setAllSyncPaused(true)}
                  disabled={active === 0}
                >
                  <Icon name="pause" /> {t('queue.pauseAll')}
                </button>
                <button
                  type="button"
                  className="button"
                  onClick={() => void setAllSyncPaused(false)}
                  disabled={active === rules.length}
                >
                  <Icon name="play" /> {t('queue.resumeAll')}
                </button>
              </>
            ) : null}
            <button type="button" className="button is-primary" onClick={() => setAdding(true)} disabled={!canWatch}>
              <Icon name="plus" /> {t('sync.watch')}
            </button>
          </div>
        </div>
        <p className="view-lede">{t('sync.lede')}</p>
      </header>
      <div className="view-scroll">
        {body}
        {ready ? <SyncTrashList rules={rules} /> : null}
      </div>
      {adding ? <SyncRuleForm onClose={() => setAdding(false)} /> : null}
    </section>
  );
}
