import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AfterUploadAction } from '../../main/api/contract.ts';
import { addSyncRule } from '../store/sync.ts';
import { useFerry } from '../store/store.ts';
import { Modal } from './Modal.tsx';
import { ProviderMark } from './ProviderMark.tsx';

/** "*.jpg, *.png" or one per line → ["*.jpg", "*.png"]. */
export function parseGlobs(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((glob) => glob.trim())
    .filter((glob) => glob !== '');
}

const AFTER: AfterUploadAction[] = ['keep', 'move', 'delete'];

/**
 * The "Watch a folder" form. The folder is typed (or pasted) as a full path: the window has no folder
 * dialog, and with `ferry serve` the path is on the computer Ferry runs on, not the browser's. The
 * server checks it (exists, is a folder, not watched yet for that account) and its refusal is shown
 * under the fields.
 */
export function SyncRuleForm({ onClose }: { onClose: () => void }) {
  const accounts = useFerry((s) => s.accounts);
  const providers = useFerry((s) => s.providers);
  const kind = useFerry((s) => s.transportKind);
  const fileAccounts = accounts.filter(
    (account) => providers.find((p) => p.id === account.provider)?.capabilities.sources !== 'url',
  );
  const [accountName, setAccountName] = useState(fileAccounts[0]?.name ?? '');
  const [dir, setDir] = useState('');
  const [include, setInclude] = useState('');
  const [exclude, setExclude] = useState('');
  const [recursive, setRecursive] = useState(true);
  const [afterUpload, setAfterUpload] = useState<AfterUploadAction>('keep');
  const [moveTo, setMoveTo] = useState('uploaded');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { t } = useTranslation();
  const windows = typeof navigator !== 'undefined' && /Windows/.test(navigator.userAgent);
  const example = windows ? 'C:\\Users\\you\\Pictures\\Export' : '/home/you/Pictures/Export';

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    if (!accountName) return;
    if (dir.trim() === '') {
      setError(t('syncForm.needDir'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await addSyncRule({
        account: accountName,
        dir: dir.trim(),
        include: parseGlobs(include),
        exclude: parseGlobs(exclude),
        recursive,
        afterUpload,
        ...(afterUpload === 'move' ? { moveTo: moveTo.trim() } : {}),
      });
      onClose();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
      setBusy(false);
    }
  };

  return (
    <Modal
      title={t('sync.watch')}
      onClose={onClose}
      labelId="sync-form-title"
      footer={
        <>
          <button type="button" className="button is-ghost" onClick={onClose}>
            {t('actions.cancel')}
          </button>
          <button type="submit" form="sync-form" className="button is-primary" disabled={busy || !accountName}>
            {busy ? t('syncForm.adding') : t('syncForm.submit')}
          </button>
        </>
      }
    >
      <form id="sync-form" className="form" onSubmit={(event) => void submit(event)} noValidate>
        <fieldset className="provider-choice">
          <legend className="field-label">{t('syncForm.uploadTo')}</legend>
          <div className="provider-grid">
            {fileAccounts.map((account) => (
              <label key={account.id} className={`provider-option${account.name === accountName ? ' is-checked' : ''}`}>
                <input
                  type="radio"
                  name="sync-account"
                  value={account.name}
                  checked={account.name === accountName}
                  onChange={() => setAccountName(account.name)}
                />
                <ProviderMark provider={account.provider} size={28} />
                <span className="provider-option-text">
                  <span className="provider-option-name">{account.name}</span>
                  <span className="provider-option-kind">{account.providerName}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <div className="field">
          <label className="field-label" htmlFor="sync-dir">
            {t('syncForm.folder')}{' '}
            <span className="required" aria-hidden="true">
              *
            </span>
          </label>
          <input
            id="sync-dir"
            className="input mono"
            required
            value={dir}
            onChange={(e) => setDir(e.target.value)}
            placeholder={example}
            autoComplete="off"
            spellCheck={false}
            autoFocus
            aria-describedby="sync-dir-hint"
          />
          <p className="field-hint" id="sync-dir-hint">
            {kind === 'serve' ? t('syncForm.dirHintServe') : t('syncForm.dirHint')}
          </p>
        </div>
        <div className="field-row">
          <div className="field">
            <label className="field-label" htmlFor="sync-include">
              {t('syncForm.include')}
            </label>
            <input
              id="sync-include"
              className="input mono"
              value={include}
              onChange={(e) => setInclude(e.target.value)}
              placeholder="*.jpg, *.png"
              autoComplete="off"
              spellCheck={false}
            />
            <p className="field-hint">{t('syncForm.includeHint')}</p>
          </div>
          <div className="field">
            <label className="field-label" htmlFor="sync-exclude">
              {t('syncForm.exclude')}
            </label>
            <input
              id="sync-exclude"
              className="input mono"
              value={exclude}
              onChange={(e) => setExclude(e.target.value)}
              placeholder="drafts/**, *.psd"
              autoComplete="off"
              spellCheck={false}
            />
            <p className="field-hint">{t('syncForm.excludeHint')}</p>
          </div>
        </div>
        <label className="inline-field check-field">
          <input type="checkbox" checked={recursive} onChange={(e) => setRecursive(e.target.checked)} />
          <span>{t('syncForm.recursive')}</span>
        </label>
        <fieldset className="field">
          <legend className="field-label">{t('sync.onceUploaded')}</legend>
          <div className="radio-list">
            {AFTER.map((option) => (
              <label key={option} className="radio-option">
                <input
                  type="radio"
                  name="sync-after"
                  value={option}
                  checked={afterUpload === option}
                  onChange={() => setAfterUpload(option)}
                />
                <span>
                  <span className="radio-label">{t(`syncForm.after.${option}`)}</span>
                  <span className="field-hint">{t(`syncForm.after.${option}Hint`)}</span>
                </span>
              </label>
            ))}
          </div>
          {afterUpload === 'move' ? (
            <div className="field nested-field">
              <label className="field-label" htmlFor="sync-move-to">
                {t('syncForm.subfolder')}
              </label>
              <input
                id="sync-move-to"
                className="input is-medium mono"
                value={moveTo}
                onChange={(e) => setMoveTo(e.target.value)}
                autoComplete="off"
                spellCheck={false}
              />
            </div>
          ) : null}
        </fieldset>
        {error ? (
          <p className="callout tone-danger" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}
