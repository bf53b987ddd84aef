import { useEffect, useState } from 'react';
import type { SyncRuleInfo, SyncRuleState, SyncTrashEntry } from '../../main/api/contract.ts';
import { EmptyState } from '../components/EmptyState.tsx';
import { Icon } from '../components/Icon.tsx';
import { ProviderMark } from '../components/ProviderMark.tsx';
import { SyncRuleForm } from '../components/SyncRuleForm.tsx';
import { formatCount } from '../lib/format.ts';
import { ferryStore, useFerry } from '../store/store.ts';
import {
  loadSyncRules,
  loadSyncTrash,
  removeSyncRule,
  restoreSyncTrash,
  setAllSyncPaused,
  setSyncRulePaused,
} from '../store/sync.ts';

const STATUS: Record<SyncRuleState, { label: string; tone: string; live?: boolean }> = {
  watching: { label: 'Watching', tone: 'success', live: true },
  starting: { label: 'Starting…', tone: 'accent' },
  paused: { label: 'Paused', tone: 'muted' },
  error: { label: 'Cannot watch', tone: 'danger' },
  elsewhere: { label: 'Watched elsewhere', tone: 'neutral' },
};

function SyncStatusChip({ rule }: { rule: SyncRuleInfo }) {
  const status = STATUS[rule.status];
  return (
    <span className={`chip tone-${status.tone}`} data-status={rule.status} title={rule.statusMessage ?? undefined}>
      <span className={`chip-dot${status.live ? ' is-live' : ''}`} aria-hidden="true" />
      <span className="chip-label">{status.label}</span>
    </span>
  );
}

function afterUploadText(rule: SyncRuleInfo): string {
  switch (rule.afterUpload) {
    case 'keep':
      return 'Keep the file';
    case 'move':
      return `Move it to ${rule.moveTo ?? 'uploaded'}/`;
    case 'delete':
      return "Delete the file (into Ferry's trash)";
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
  const titleId = `sync-${rule.id}-title`;
  const c = rule.counts;
  const tiles: Array<{ label: string; value: number; tone?: string }> = [
    { label: 'Uploaded', value: c.uploaded, tone: c.uploaded > 0 ? 'success' : undefined },
    { label: 'Queued', value: c.queued },
    { label: 'Waiting', value: c.pending },
    { label: 'Refused', value: c.refused, tone: c.refused > 0 ? 'warning' : undefined },
    { label: 'Failed', value: c.failed, tone: c.failed > 0 ? 'danger' : undefined },
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
            {rule.accountName ?? 'account removed'}
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
            <dt>Files</dt>
            <dd>
              <Globs globs={rule.include} none="Every file" />
            </dd>
          </div>
          {rule.exclude.length > 0 ? (
            <div>
              <dt>Skipped</dt>
              <dd>
                <Globs globs={rule.exclude} none="" />
              </dd>
            </div>
          ) : null}
          <div>
            <dt>Subfolders</dt>
            <dd>{rule.recursive ? 'Included' : 'Not watched'}</dd>
          </div>
          <div>
            <dt>Once uploaded</dt>
            <dd>{afterUploadText(rule)}</dd>
          </div>
        </dl>
        <ul className="sync-counts" aria-label={`Files of ${rule.dir}`}>
          {tiles.map((tile) => (
            <li key={tile.label} className={`sync-count${tile.tone ? ` tone-${tile.tone}` : ''}`}>
              <span className="sync-count-value">{formatCount(tile.value)}</span>
              <span className="sync-count-label">{tile.label}</span>
            </li>
          ))}
        </ul>
      </div>
      {c.duplicate > 0 ? (
        <p className="muted sync-note">
          {formatCount(c.duplicate)} {c.duplicate === 1 ? 'file was' : 'files were'} skipped: the same content was
          already uploaded to this account.
        </p>
      ) : null}
      {rule.problems.length > 0 ? (
        <ul className="sync-problems" aria-label="Files that need a look">
          {rule.problems.slice(0, 3).map((problem) => (
            <li key={problem.path}>
              <span
                className={`tag tone-${problem.state === 'failed' ? 'danger' : problem.state === 'kept' ? 'neutral' : 'warning'}`}
              >
                {problem.state}
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
            aria-label={`Watching ${rule.dir}`}
          />
          <span>{rule.paused ? 'Paused' : 'Active'}</span>
        </label>
        <span className="spacer" />
        {confirmRemove ? (
          <span className="confirm">
            <span>Stop watching this folder?</span>
            <button type="button" className="button is-small is-danger" onClick={() => void removeSyncRule(rule)}>
              Stop watching
            </button>
            <button type="button" className="button is-small is-ghost" onClick={() => setConfirmRemove(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button
            type="button"
            className="button is-small is-danger-ghost"
            onClick={() => setConfirmRemove(true)}
            aria-label={`Remove ${rule.dir}`}
          >
            <Icon name="trash" /> Remove
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
      <h2 id="sync-trash-title">Trash</h2>
      <p className="muted">
        Files deleted after their upload stay here until the date shown, then they are removed for good. Restore puts a
        file back where it was, never over a file that is there now.
      </p>
      <ul className="sync-trash-list">
        {entries.map((entry) => (
          <li key={entry.id} data-trash-id={entry.id} className="sync-trash-row">
            <span className="mono ellipsis" title={entry.path}>
              {entry.path}
            </span>
            <span className="muted">
              {entry.present
                ? `kept until ${new Date(entry.expiresAt).toLocaleDateString()}`
                : 'missing from the trash folder'}
            </span>
            <button
              type="button"
              className="button is-small"
              disabled={!entry.present || busy === entry.id}
              onClick={() => void restore(entry)}
              aria-label={`Restore ${entry.path}`}
            >
              Restore
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
        title="No watched folders yet"
        actions={
          canWatch ? (
            <button type="button" className="button is-primary" onClick={() => setAdding(true)}>
              <Icon name="plus" /> Watch a folder
            </button>
          ) : (
            <button
              type="button"
              className="button is-primary"
              onClick={() => ferryStore.setState({ view: 'accounts' })}
            >
              <Icon name="plus" /> Add an account first
            </button>
          )
        }
      >
        A watched folder uploads on its own: every file you save, copy or export into it goes to the account you choose
        as soon as it is completely written — even while this window is closed. A file already uploaded is never sent
        twice, also after a rename or a restart.
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
          <h1 id="sync-title">Sync</h1>
          <div className="header-actions">
            {rules.length > 0 ? (
              <>
                <button
                  type="button"
                  className="button"
                  onClick={() => void setAllSyncPaused(true)}
                  disabled={active === 0}
                >
                  <Icon name="pause" /> Pause all
                </button>
                <button
                  type="button"
                  className="button"
                  onClick={() => void setAllSyncPaused(false)}
                  disabled={active === rules.length}
                >
                  <Icon name="play" /> Resume all
                </button>
              </>
            ) : null}
            <button type="button" className="button is-primary" onClick={() => setAdding(true)} disabled={!canWatch}>
              <Icon name="plus" /> Watch a folder
            </button>
          </div>
        </div>
        <p className="view-lede">Folders whose new files upload by themselves, once they are completely written.</p>
      </header>
      <div className="view-scroll">
        {body}
        {ready ? <SyncTrashList rules={rules} /> : null}
      </div>
      {adding ? <SyncRuleForm onClose={() => setAdding(false)} /> : null}
    </section>
  );
}
