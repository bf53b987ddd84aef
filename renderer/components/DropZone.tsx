import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { t as translate } from '../i18n.ts';
import { expandDrop, snapshotDrop } from '../lib/dropEntries.ts';
import { pasteIsForField, readPaste } from '../lib/paste.ts';
import { openPicker } from '../store/picker.ts';
import { ferryStore } from '../store/store.ts';
import { pushToast } from '../store/toasts.ts';
import { Icon } from './Icon.tsx';

function carriesDroppable(event: DragEvent): boolean {
  const types = Array.from(event.dataTransfer?.types ?? []);
  return types.includes('Files') || types.includes('text/uri-list');
}

/**
 * Drag and drop anywhere on the window: an overlay while something is dragged over, and the picker
 * once it is dropped. Pasting (Ctrl/Cmd+V outside text fields) does the same with the clipboard's
 * files and images, or else with the links in its text.
 */
export function DropZone() {
  const [over, setOver] = useState(false);
  const { t } = useTranslation();
  useEffect(() => {
    // dragenter/dragleave fire for every child crossed; a counter tells when the pointer really left.
    let depth = 0;
    const onEnter = (event: DragEvent): void => {
      if (!carriesDroppable(event)) return;
      event.preventDefault();
      depth += 1;
      setOver(true);
    };
    const onOver = (event: DragEvent): void => {
      if (!carriesDroppable(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    };
    const onLeave = (event: DragEvent): void => {
      if (!carriesDroppable(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setOver(false);
    };
    const needAccount = (): boolean => {
      if (ferryStore.getState().accounts.length > 0) return false;
      pushToast('warning', translate('drop.needAccount'));
      ferryStore.setState({ view: 'accounts' });
      return true;
    };
    const onDrop = (event: DragEvent): void => {
      depth = 0;
      setOver(false);
      if (!event.dataTransfer || !carriesDroppable(event)) return;
      event.preventDefault();
      if (needAccount()) return;
      const snapshot = snapshotDrop(event.dataTransfer);
      void expandDrop(snapshot).then((dropped) => openPicker(dropped));
    };
    const onPaste = (event: ClipboardEvent): void => {
      // A paste into a field, or while a dialog (the picker, a form) is open, belongs to it.
      if (pasteIsForField(event.target) || ferryStore.getState().picker || document.querySelector('[role="dialog"]'))
        return;
      const pasted = readPaste(event.clipboardData);
      if (pasted.files.length === 0 && pasted.urls.length === 0) return;
      event.preventDefault();
      if (needAccount()) return;
      openPicker(pasted);
    };
    window.addEventListener('dragenter', onEnter);
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('dragenter', onEnter);
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
      window.removeEventListener('paste', onPaste);
    };
  }, []);
  if (!over) return null;
  return (
    <div className="drop-overlay" aria-hidden="true">
      <div className="drop-card">
        <Icon name="upload" size={36} />
        <strong>{t('drop.title')}</strong>
        <span>{t('drop.text')}</span>
      </div>
    </div>
  );
}
