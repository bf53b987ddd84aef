import { useEffect } from 'react';
import { closeDetails } from '../store/details.ts';
import { clearSelection, removeSelection, selectAllJobs, togglePauseSelection } from '../store/jobActions.ts';
import { ferryStore } from '../store/store.ts';

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  if (!element || typeof element.closest !== 'function') return false;
  return element.closest('input, textarea, select, [contenteditable="true"], [role="dialog"]') !== null;
}

/**
 * Queue shortcuts: Ctrl/Cmd+A selects every upload, Delete removes the selection, Space pauses it (or
 * resumes it when nothing in it runs), Escape closes the details or clears the selection. Keys typed
 * into fields and dialogs are left alone.
 */
export function useKeyboardShortcuts(): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const state = ferryStore.getState();
      if (state.view !== 'queue' || state.picker || isTyping(event.target)) return;
      const hasSelection = state.selectAll || Object.keys(state.selection).length > 0;
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'a') {
        event.preventDefault();
        selectAllJobs();
        return;
      }
      if (event.key === 'Delete' && hasSelection) {
        event.preventDefault();
        void removeSelection();
        return;
      }
      if (event.key === ' ' && hasSelection && !(event.target as HTMLElement | null)?.closest?.('button')) {
        event.preventDefault();
        void togglePauseSelection();
        return;
      }
      if (event.key === 'Escape') {
        if (state.detailsId !== null) closeDetails();
        else if (hasSelection) clearSelection();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
