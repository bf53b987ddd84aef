import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { parseUrls } from '../lib/dropEntries.ts';
import { openPicker } from '../store/picker.ts';
import { useFerry } from '../store/store.ts';
import { Icon } from './Icon.tsx';

/** "Add link": for providers that import from a public URL (Oktopost). Shown only when one exists. */
export function AddLinkButton() {
  const hasUrlProvider = useFerry((s) =>
    s.accounts.some((a) => s.providers.find((p) => p.id === a.provider)?.capabilities.sources === 'url'),
  );
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const { t } = useTranslation();
  if (!hasUrlProvider) return null;
  const urls = parseUrls(text);
  return (
    <div className="popover-anchor">
      <button type="button" className="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        <Icon name="link" /> {t('addLink.button')}
      </button>
      {open ? (
        <form
          className="popover"
          onSubmit={(event) => {
            event.preventDefault();
            if (urls.length === 0) return;
            openPicker({ files: [], urls });
            setText('');
            setOpen(false);
          }}
        >
          <label className="field-label" htmlFor="add-link-input">
            {t('addLink.label')}
          </label>
          <textarea
            id="add-link-input"
            rows={3}
            value={text}
            placeholder="https://example.com/launch.mp4"
            onChange={(e) => setText(e.target.value)}
            autoFocus
          />
          <div className="popover-actions">
            <button type="button" className="button is-ghost" onClick={() => setOpen(false)}>
              {t('actions.cancel')}
            </button>
            <button type="submit" className="button is-primary" disabled={urls.length === 0}>
              {t('actions.continue')}
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
}
