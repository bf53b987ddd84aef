import { useState } from 'react';
import { useTranslation } from 'react-i18next';
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
  const { t } = useTranslation();
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
            {account.paused ? ` · ${t('accounts.pausedTag')}` : ''}
          </span>
        </div>
        <div className="account-head-actions">
          <button
            type="button"
            className="button is-small"
            onClick={onEdit}
            aria-label={t('accounts.editNamed', { name: account.name })}
          >
            <Icon name="edit" /> {t('actions.edit')}
          </button>
        </div>
      </header>
      <dl className="facts account-facts">
        <div>
          <dt>{t('accounts.address')}</dt>
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
          <dt>{t('accounts.secrets')}</dt>
          <dd className="secret-tags">
            {Object.entries(account.secrets).map(([key, state]) => (
              <span
                key={key}
                className={`tag ${state === 'set' ? 'tone-success' : 'tone-danger'}`}
                title={t(state === 'set' ? 'accounts.secret.setNamed' : 'accounts.secret.missingNamed', { key })}
              >
                {provider?.fields.find((f) => f.key === key)?.label ?? key}:{' '}
                {state === 'set' ? t('accounts.secret.set') : t('accounts.secret.missing')}
              </span>
            ))}
          </dd>
        </div>
      </dl>
      <div className="account-controls">
        <label className="inline-field">
          <span>{t('accounts.concurrency')}</span>
          <input
            type="number"
            className="input is-narrow"
            min={1}
            max={32}
            defaultValue={account.concurrency}
            key={account.concurrency}
            aria-label={t('accounts.concurrencyNamed', { name: account.name })}
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
            aria-label={t('accounts.enabledNamed', { name: account.name })}
          />
          <span>{account.paused ? t('sync.paused') : t('sync.active')}</span>
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
          <Icon name="plug" /> {test === 'running' ? t('accounts.testing') : t('accounts.test')}
        </button>
        {confirmRemove ? (
          <span className="confirm">
            <span>{t('accounts.confirmRemove')}</span>
            <button
              type="button"
              className="button is-small is-danger"
              onClick={() => void removeAccount(account.name)}
            >
              {t('actions.remove')}
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
            aria-label={t('accounts.removeNamed', { name: account.name })}
          >
            <Icon name="trash" /> {t('actions.remove')}
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
  const { t } = useTranslation();
  return (
    <section className="view view-narrow" aria-labelledby="accounts-title">
      <header className="view-header">
        <div className="view-title-row">
          <h1 id="accounts-title">{t('nav.accounts')}</h1>
          <div className="header-actions">
            <button type="button" className="button is-primary" onClick={() => setEditing('new')}>
              <Icon name="plus" /> {t('accounts.add')}
            </button>
          </div>
        </div>
        <p className="view-lede">{t('accounts.lede')}</p>
      </header>
      <div className="view-scroll">
        {accounts.length === 0 ? (
          <EmptyState
            icon="accounts"
            title={t('accounts.empty.title')}
            actions={
              <button type="button" className="button is-primary" onClick={() => setEditing('new')}>
                <Icon name="plus" /> {t('accounts.empty.addFirst')}
              </button>
            }
          >
            {t('accounts.empty.text')}
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
