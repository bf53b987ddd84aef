import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AccountInfo, ProviderInfo } from '../../main/api/contract.ts';
import { addAccount, updateAccount } from '../store/catalog.ts';
import { useFerry } from '../store/store.ts';
import { Modal } from './Modal.tsx';
import { ProviderMark } from './ProviderMark.tsx';

/**
 * The account form, generated from the provider's field list. Secrets are password inputs that never
 * show a stored value: editing shows "set" / "not set", and an empty secret keeps the stored one.
 */
export function AccountForm({ account, onClose }: { account: AccountInfo | null; onClose: () => void }) {
  const providers = useFerry((s) => s.providers);
  const [providerId, setProviderId] = useState(account?.provider ?? providers[0]?.id ?? '');
  const provider = providers.find((p) => p.id === providerId);
  const [name, setName] = useState(account?.name ?? '');
  const [baseUrl, setBaseUrl] = useState(account?.baseUrl ?? '');
  const [concurrency, setConcurrency] = useState(String(account?.concurrency ?? 2));
  const [values, setValues] = useState<Record<string, string>>(() => ({ ...(account?.settings ?? {}) }));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { t } = useTranslation();
  const editing = account !== null;

  const setValue = (key: string, value: string): void => setValues((v) => ({ ...v, [key]: value }));

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    if (!provider) return;
    setBusy(true);
    setError(null);
    const settings: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const field of provider.fields) {
      const value = (values[field.key] ?? '').trim();
      if (field.kind === 'secret') {
        if (value !== '') secrets[field.key] = value;
      } else if (value !== '' || editing) settings[field.key] = value;
    }
    const parsedConcurrency = Number(concurrency);
    try {
      if (editing) {
        await updateAccount({
          account: account.name,
          ...(name.trim() !== account.name ? { name: name.trim() } : {}),
          baseUrl: baseUrl.trim() === '' ? null : baseUrl.trim(),
          settings,
          secrets,
          ...(Number.isInteger(parsedConcurrency) ? { concurrency: parsedConcurrency } : {}),
        });
      } else {
        await addAccount({
          provider: provider.id,
          name: name.trim(),
          ...(baseUrl.trim() !== '' ? { baseUrl: baseUrl.trim() } : {}),
          settings,
          secrets,
          ...(Number.isInteger(parsedConcurrency) ? { concurrency: parsedConcurrency } : {}),
        });
      }
      onClose();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
      setBusy(false);
    }
  };

  return (
    <Modal
      title={editing ? t('accountForm.editTitle', { name: account.name }) : t('queue.empty.addAccount')}
      onClose={onClose}
      labelId="account-form-title"
      footer={
        <>
          <button type="button" className="button is-ghost" onClick={onClose}>
            {t('actions.cancel')}
          </button>
          <button type="submit" form="account-form" className="button is-primary" disabled={busy || !provider}>
            {busy ? t('actions.saving') : editing ? t('accountForm.saveChanges') : t('accounts.add')}
          </button>
        </>
      }
    >
      <form id="account-form" className="form" onSubmit={(event) => void submit(event)} noValidate>
        {editing ? null : (
          <fieldset className="provider-choice">
            <legend className="field-label">{t('accountForm.provider')}</legend>
            <div className="provider-grid">
              {providers.map((p: ProviderInfo) => (
                <label key={p.id} className={`provider-option${p.id === providerId ? ' is-checked' : ''}`}>
                  <input
                    type="radio"
                    name="provider"
                    value={p.id}
                    checked={p.id === providerId}
                    onChange={() => setProviderId(p.id)}
                  />
                  <ProviderMark provider={p.id} size={28} />
                  <span className="provider-option-text">
                    <span className="provider-option-name">{p.name}</span>
                    <span className="provider-option-kind">
                      {p.capabilities.sources === 'url' ? t('accountForm.importsLinks') : t('accountForm.uploadsFiles')}
                    </span>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
        )}
        <div className="field">
          <label className="field-label" htmlFor="account-name">
            {t('accountForm.name')}{' '}
            <span className="required" aria-hidden="true">
              *
            </span>
          </label>
          <input
            id="account-name"
            className="input"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder={t('accountForm.namePlaceholder')}
            autoComplete="off"
            autoFocus
          />
          <p className="field-hint">{t('accountForm.nameHint')}</p>
        </div>
        {provider ? (
          <div className="field">
            <label className="field-label" htmlFor="account-base-url">
              {provider.capabilities.baseUrlRequired ? t('accountForm.siteAddress') : t('accountForm.apiAddress')}
              {provider.capabilities.baseUrlRequired ? (
                <span className="required" aria-hidden="true">
                  {' '}
                  *
                </span>
              ) : null}
            </label>
            <input
              id="account-base-url"
              className="input"
              type="url"
              required={provider.capabilities.baseUrlRequired}
              value={baseUrl}
              onChange={(e) => setBaseUrl(e.target.value)}
              placeholder={provider.capabilities.defaultBaseUrl ?? 'https://community.example.com'}
              autoComplete="off"
            />
            <p className="field-hint">
              {provider.capabilities.baseUrlRequired
                ? t('accountForm.siteHint', { provider: provider.name })
                : t('accountForm.apiHint', {
                    address: provider.capabilities.defaultBaseUrl ?? t('accountForm.theDefault'),
                  })}
            </p>
          </div>
        ) : null}
        {provider?.fields.map((field) => {
          const id = `account-field-${field.key}`;
          const stored = account?.secrets[field.key];
          return (
            <div className="field" key={field.key}>
              <label className="field-label" htmlFor={id}>
                {field.label}
                {field.required && !(field.kind === 'secret' && stored === 'set') ? (
                  <span className="required" aria-hidden="true">
                    {' '}
                    *
                  </span>
                ) : null}
                {field.kind === 'secret' && editing ? (
                  <span className={`tag ${stored === 'set' ? 'tone-success' : 'tone-muted'}`}>
                    {stored === 'set' ? t('accounts.secret.set') : t('accounts.secret.missing')}
                  </span>
                ) : null}
              </label>
              {field.choices ? (
                <select
                  id={id}
                  className="select"
                  value={values[field.key] ?? field.default ?? ''}
                  onChange={(e) => setValue(field.key, e.target.value)}
                >
                  {field.choices.map((choice) => (
                    <option key={choice} value={choice}>
                      {choice}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={id}
                  className="input"
                  type={field.kind === 'secret' ? 'password' : 'text'}
                  autoComplete={field.kind === 'secret' ? 'new-password' : 'off'}
                  spellCheck={false}
                  value={values[field.key] ?? ''}
                  required={field.required && !(field.kind === 'secret' && stored === 'set')}
                  placeholder={
                    field.kind === 'secret' && stored === 'set' ? t('accountForm.storedSecret') : (field.default ?? '')
                  }
                  onChange={(e) => setValue(field.key, e.target.value)}
                />
              )}
              {field.hint ? <p className="field-hint">{field.hint}</p> : null}
            </div>
          );
        })}
        <div className="field">
          <label className="field-label" htmlFor="account-concurrency">
            {t('accounts.concurrency')}
          </label>
          <input
            id="account-concurrency"
            className="input is-narrow"
            type="number"
            min={1}
            max={32}
            value={concurrency}
            onChange={(e) => setConcurrency(e.target.value)}
          />
          <p className="field-hint">{t('accountForm.concurrencyHint')}</p>
        </div>
        {error ? (
          <p className="callout tone-danger" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}
