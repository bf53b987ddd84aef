import { useTranslation } from 'react-i18next';
import { formatBytes, formatCount } from '../lib/format.ts';
import { choosePickerAccount, closePicker, judge, removePickerItem, submitPicker } from '../store/picker.ts';
import { useFerry } from '../store/store.ts';
import { Icon, iconForMime } from './Icon.tsx';
import { Modal } from './Modal.tsx';
import { ProviderMark } from './ProviderMark.tsx';
import { guessMime } from '../lib/mime.ts';

/** Where do these files go? The account list, and each file with whether that account takes it. */
export function AccountPicker() {
  const picker = useFerry((s) => s.picker);
  const accounts = useFerry((s) => s.accounts);
  const providers = useFerry((s) => s.providers);
  const { t } = useTranslation();
  if (!picker) return null;
  const account = accounts.find((a) => a.name === picker.accountName);
  const provider = providers.find((p) => p.id === account?.provider);
  const verdicts = judge(picker.items, provider);
  const accepted = verdicts.filter((v) => v.reason === null);
  const refused = verdicts.length - accepted.length;
  const bytes = accepted.reduce((sum, v) => sum + (v.item.size ?? 0), 0);
  const what = picker.items.every((i) => i.kind === 'url') ? 'links' : 'files';
  const count = (n: number): string => t(`picker.${what}`, { count: n, n: formatCount(n) });
  return (
    <Modal
      title={t('picker.upload', { what: count(picker.items.length) })}
      onClose={closePicker}
      labelId="picker-title"
      wide
      footer={
        <>
          <span className="footer-note">
            {refused > 0 ? `${t('picker.leftOut', { n: formatCount(refused) })} · ` : ''}
            {accepted.length > 0 && bytes > 0 ? formatBytes(bytes) : ''}
          </span>
          <button type="button" className="button is-ghost" onClick={closePicker}>
            {t('actions.cancel')}
          </button>
          <button
            type="button"
            className="button is-primary"
            disabled={!account || accepted.length === 0 || picker.busy}
            onClick={() => void submitPicker()}
          >
            <Icon name="upload" />
            {picker.busy
              ? t('picker.queuing')
              : accepted.length === 0
                ? t('picker.nothing')
                : t('picker.upload', { what: count(accepted.length) })}
          </button>
        </>
      }
    >
      <div className="picker">
        <fieldset className="picker-accounts">
          <legend className="field-label">{t('queue.col.account')}</legend>
          {accounts.map((a) => (
            <label key={a.id} className={`picker-account${a.name === picker.accountName ? ' is-checked' : ''}`}>
              <input
                type="radio"
                name="picker-account"
                value={a.name}
                checked={a.name === picker.accountName}
                onChange={() => choosePickerAccount(a.name)}
              />
              <ProviderMark provider={a.provider} size={24} />
              <span className="picker-account-text">
                <span className="picker-account-name">{a.name}</span>
                <span className="muted">{a.providerName}</span>
              </span>
              {a.paused ? <span className="tag tone-muted">{t('accounts.pausedTag')}</span> : null}
            </label>
          ))}
        </fieldset>
        <div className="picker-files">
          <div className="field-label">
            {count(picker.items.length)}
            {picker.skipped > 0 ? (
              <span className="muted">
                {' '}
                · {t('picker.systemSkipped', { count: picker.skipped, n: picker.skipped })}
              </span>
            ) : null}
          </div>
          <ul className="picker-list" aria-label={t('picker.list')}>
            {verdicts.map(({ item, reason }) => (
              <li
                key={item.key}
                className={`picker-item${reason ? ' is-refused' : ''}`}
                data-refused={reason ? 'true' : 'false'}
              >
                <span className="file-icon" aria-hidden="true">
                  <Icon name={item.kind === 'url' ? 'globe' : iconForMime(guessMime(item.name, item.type))} size={16} />
                </span>
                <div className="picker-item-text">
                  <span className="ellipsis" title={item.url ?? item.name}>
                    {item.name}
                  </span>
                  {reason ? (
                    <span className="picker-reason">
                      <Icon name="alert" size={12} /> {reason}
                    </span>
                  ) : null}
                </div>
                <span className="picker-size">{item.size === null ? t('picker.link') : formatBytes(item.size)}</span>
                <button
                  type="button"
                  className="icon-button"
                  aria-label={t('picker.leaveOut', { name: item.name })}
                  onClick={() => removePickerItem(item.key)}
                >
                  <Icon name="close" size={14} />
                </button>
              </li>
            ))}
          </ul>
          {picker.error ? (
            <p className="callout tone-danger" role="alert">
              <Icon name="alert" /> {picker.error}
            </p>
          ) : null}
        </div>
      </div>
    </Modal>
  );
}
