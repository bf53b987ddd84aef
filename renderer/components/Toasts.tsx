import { useTranslation } from 'react-i18next';
import { dismissToast } from '../store/toasts.ts';
import { useFerry } from '../store/store.ts';
import { Icon } from './Icon.tsx';

export function Toasts() {
  const toasts = useFerry((s) => s.toasts);
  const { t } = useTranslation();
  return (
    <div className="toasts" role="region" aria-label={t('toasts.label')}>
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast tone-${toast.level}`} role={toast.level === 'error' ? 'alert' : 'status'}>
          <Icon name={toast.level === 'success' ? 'check' : toast.level === 'info' ? 'info' : 'alert'} />
          <span className="toast-text">{toast.message}</span>
          <button
            type="button"
            className="icon-button"
            aria-label={t('toasts.dismiss')}
            onClick={() => dismissToast(toast.id)}
          >
            <Icon name="close" size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
