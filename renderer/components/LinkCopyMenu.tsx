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
    pushToast('success', `Copied the link to ${name} as ${FORMATS.find((f) => f.format === format)?.label ?? format}`);
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
  return (
    <div className={`link-copy${compact ? ' is-compact' : ''}`} role="group" aria-label={`Copy the link to ${name}`}>
      {compact ? null : (
        <span className="link-copy-label">
          <Icon name="copy" /> Copy as
        </span>
      )}
      {FORMATS.map(({ format, label }) => (
        <button
          key={format}
          type="button"
          className="button is-small"
          aria-label={`Copy ${label} link to ${name}`}
          title={`Copy as ${label}`}
          onClick={() => void copyLinkAs(format, url, name, mime)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}
