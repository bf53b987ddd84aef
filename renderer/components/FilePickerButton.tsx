import { useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { openPicker } from '../store/picker.ts';
import { isJunk } from '../lib/dropEntries.ts';
import { Icon } from './Icon.tsx';

/** "Choose files…": the keyboard way to what drag and drop does. */
export function FilePickerButton({ className = 'button', label }: { className?: string; label?: string }) {
  const input = useRef<HTMLInputElement>(null);
  const { t } = useTranslation();
  return (
    <>
      <button type="button" className={className} onClick={() => input.current?.click()}>
        <Icon name="upload" />
        {label ?? t('picker.choose')}
      </button>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="file-input"
        onChange={(event) => {
          const files = Array.from(event.target.files ?? []);
          event.target.value = '';
          const kept = files.filter((file) => !isJunk(file.name));
          openPicker({ files: kept, urls: [], skipped: files.length - kept.length });
        }}
      />
    </>
  );
}
