import { useState } from 'react';
import type { AccountInfo, ConnectionTestResult } from '../../main/api/contract.ts';
import { AccountForm } from '../components/AccountForm.tsx';
import { EmptyState } from '../components/EmptyState.tsx';
import { Icon } from '../components/Icon.tsx';
import { ProviderMark } from '../components/ProviderMark.tsx';
import { removeAccount, setAccountConcurrency, setAccountPaused, testAccount } from '../store/catalog.ts';
import { useFerry } from '../store/store.ts';

function AccountCard({ account, onEdit }: { account: AccountInfo; onEdit: () => void }) {
  const provider = useFerry((s) => s.providers.find((p) => p.id === account.provider));
  const [test, setTest] = useState<ConnectionTestResult | 'running' | { error: string } | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const titleId = `account-${account.id}-title`;
  const address = account.baseUrl ?? provider?.capabilities.defaultBaseUrl ?? '—';
  return (
    <article className={`card account-card${account.paused ? ' is-paused' : ''}`} aria-labelledby={titleId}>
      <header className="account-head">
        <ProviderMark provider={account.provider} size={36} />
        <div className="account-title">
          <h2 id={titleId}>{account.name}</h2>
          <span className="muted">
            {account.providerName}
            {account.paused ? ' · paused' : ''}
          </span>
        </div>
        <div className="account-head-actions">
          <button type="button" className="button is-small" onClick={onEdit} aria-label={`Edit ${account.name}`}>
            <Icon name="edit" /> Edit
          </button>
        </div>
      </header>
      <dl className="facts account-facts">
        <div>
          <dt>Address</dt>
          <dd className="mono ellipsis" title={address}>
            {address}
          </dd>
        </div>
        {Object.entries(account.settings).map(([key, value]) => (
          <div key={key}>
            <dt>{provider?.fields.find((f) => f.key === key)?.label ?? key}</dt>
            <dd className="ellipsis">{value || '—'}</dd>
          </div>
        ))}
        <div>
          <dt>Secrets</dt>
          <dd className="secret-tags">
            {Object.entries(account.secrets).map(([key, state]) => (
              <span
                key={key}
                className={`tag ${state === 'set' ? 'tone-success' : 'tone-danger'}`}
                title={`${key} is ${state}`}
              >
                {provider?.fields.find((f) => f.key === key)?.label ?? key}: {state}
              </span>
            ))}
          </dd>
        </div>
      </dl>
      <div className="account-controls">
        <label className="inline-field">
          <span>Uploads at once</span>
          <input
            type="number"
            className="input is-narrow"
            min={1}
            max={32}
            defaultValue={account.concurrency}
            key={account.concurrency}
            aria-label={`Uploads at once for ${account.name}`}
            onBlur={(event) => {
              const value = Number(event.target.value);
              if (Number.isInteger(value) && value >= 1 && value !== account.concurrency)
                void setAccountConcurrency(account.name, value);
            }}
          />
        </label>
        <label className="inline-field">
          <input
            type="checkbox"
            role="switch"
            className="switch"
            checked={!account.paused}
            onChange={(e) => void setAccountPaused(account.name, !e.target.checked)}
            aria-label={`Uploads of ${account.name} enabled`}
          />
          <span>{account.paused ? 'Paused' : 'Active'}</span>
        </label>
        <span className="spacer" />
        <button
          type="button"
          className="button is-small"
          disabled={test === 'running'}
          onClick={async () => {
            setTest('running');
            try {
              setTest(await testAccount(account.name));
            } catch (error) {
              setTest({ error: error instanceof Error ? error.message : String(error) });
            }
          }}
        >
          <Icon name="plug" /> {test === 'running' ? 'Testing…' : 'Test connection'}
        </button>
        {confirmRemove ? (
          <span className="confirm">
            <span>Remove it and its uploads?</span>
            <button
              type="button"
              className="button is-small is-danger"
              onClick={() => void removeAccount(account.name)}
            >
              Remove
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
            aria-label={`Remove ${account.name}`}
          >
            <Icon name="trash" /> Remove
          </button>
        )}
      </div>
      {test && test !== 'running' ? (
        'error' in test ? (
          <p className="callout tone-danger" role="status">
            <Icon name="alert" /> {test.error}
          </p>
        ) : (
          <p className={`callout tone-${test.ok ? 'success' : 'danger'}`} role="status">
            <Icon name={test.ok ? 'check' : 'alert'} /> {test.ok ? test.checked : (test.message ?? test.checked)}
          </p>
        )
      ) : null}
    </article>
  );
}

export function AccountsView() {
  const accounts = useFerry((s) => s.accounts);
  const [editing, setEditing] = useState<AccountInfo | 'new' | null>(null);
  return (
    <section className="view view-narrow" aria-labelledby="accounts-title">
      <header className="view-header">
        <div className="view-title-row">
          <h1 id="accounts-title">Accounts</h1>
          <div className="header-actions">
            <button type="button" className="button is-primary" onClick={() => setEditing('new')}>
              <Icon name="plus" /> Add account
            </button>
          </div>
        </div>
        <p className="view-lede">Where your files go. Secrets stay on this computer and are never shown again.</p>
      </header>
      <div className="view-scroll">
        {accounts.length === 0 ? (
          <EmptyState
            icon="accounts"
            title="No accounts yet"
            actions={
              <button type="button" className="button is-primary" onClick={() => setEditing('new')}>
                <Icon name="plus" /> Add your first account
              </button>
            }
          >
            Add the account you upload to — SelfCommunity, TwentyThree, OFAuth, Oktopost or Xvid MediaHub — with the
            keys its site gives you.
          </EmptyState>
        ) : (
          <div className="account-list">
            {accounts.map((account) => (
              <AccountCard key={account.id} account={account} onEdit={() => setEditing(account)} />
            ))}
          </div>
        )}
      </div>
      {editing ? <AccountForm account={editing === 'new' ? null : editing} onClose={() => setEditing(null)} /> : null}
    </section>
  );
}
