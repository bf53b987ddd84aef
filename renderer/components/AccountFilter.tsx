import { useTranslation } from 'react-i18next';
import { useFerry } from '../store/store.ts';

export function AccountFilter({ value, onChange }: { value: number | null; onChange: (id: number | null) => void }) {
  const accounts = useFerry((s) => s.accounts);
  const { t } = useTranslation();
  return (
    <select
      className="select"
      aria-label={t('filter.byAccount')}
      value={value ?? ''}
      onChange={(event) => onChange(event.target.value === '' ? null : Number(event.target.value))}
    >
      <option value="">{t('filter.allAccounts')}</option>
      {accounts.map((account) => (
        <option key={account.id} value={account.id}>
          {account.name} · {account.providerName}
        </option>
      ))}
    </select>
  );
}
