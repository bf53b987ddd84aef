import { useTranslation } from 'react-i18next';
import { t as translate } from '../i18n.ts';
import { copyText } from '../lib/clipboard.ts';
import { formatLink, type LinkFormat } from '../lib/links.ts';
import { pushToast, toastError } from '../store/toasts.ts';
import { Icon } from './Icon.tsx';

const FORMATS: Array<{ format: LinkFormat; label: string }> = [
  { format: 'url', label: 'URL' },
  { format: 'markdown', label: 'Markdown' },
  { format: 'html', label: 'HTML' },
];

export async function copyLinkAs(format: LinkFormat, url: string, name: string, mime: string): Promise<void> {
  try {
    await copyText(formatLink(format, url, name, mime));
    pushToast(
      'success',
      translate('linkCopy.copied', { name, format: FORMATS.find((f) => f.format === format)?.label ?? format }),
    );
  } catch (error) {
    toastError(error);
  }
}

/** Copy a link as URL, Markdown or HTML: three small buttons in a group. */
export function LinkCopyMenu({
  url,
  name,
  mime,
  compact = false,
}: {
  url: string;
  name: string;
  mime: string;
  compact?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <div className={`link-copy${compact ? ' is-compact' : ''}`} role="group" aria-label={t('linkCopy.group', { name })}>
      {compact ? null : (
        <span className="link-copy-label">
          <Icon name="copy" /> {t('linkCopy.copyAs')}
        </span>
      )}
      {FORMATS.map(({ format, label }) => (
        <button
          key={format}
          type="button"
          className="button is-small"
          aria-label={t('linkCopy.copyNamed', { format: label, name })}
          title={t('linkCopy.copyFormat', { format: label })}
          onClick={() => void copyLinkAs(format, url, name, mime)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}
