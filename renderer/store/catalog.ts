/** Providers, accounts and settings: read at start, kept fresh by events, changed by forms. */
import type {
  AccountAddInput,
  AccountInfo,
  AccountUpdateInput,
  ConnectionTestResult,
  Settings,
} from '../../main/api/contract.ts';
import { t } from '../i18n.ts';
import { call } from './api.ts';
import { ferryStore } from './store.ts';
import { pushToast, toastError } from './toasts.ts';

export async function loadCatalog(): Promise<void> {
  const [status, providers, accounts, settings] = await Promise.all([
    call('app.status'),
    call('providers.list'),
    call('accounts.list'),
    call('settings.get'),
  ]);
  ferryStore.setState({ status, providers, accounts, settings, booted: true });
}

function upsertAccount(account: AccountInfo): void {
  ferryStore.setState((s) => {
    const index = s.accounts.findIndex((a) => a.id === account.id);
    const accounts =
      index === -1 ? [...s.accounts, account] : s.accounts.map((a) => (a.id === account.id ? account : a));
    return { accounts };
  });
}

/** Adds an account; throws the server's refusal so the form can show it next to the fields. */
export async function addAccount(input: AccountAddInput): Promise<AccountInfo> {
  const account = await call('accounts.add', input);
  upsertAccount(account);
  pushToast('success', t('toast.accountAdded', { provider: account.providerName, name: account.name }));
  return account;
}

export async function updateAccount(input: AccountUpdateInput): Promise<AccountInfo> {
  const account = await call('accounts.update', input);
  upsertAccount(account);
  pushToast('success', t('toast.accountSaved', { name: account.name }));
  return account;
}

export async function removeAccount(name: string): Promise<void> {
  try {
    await call('accounts.remove', { account: name });
    ferryStore.setState((s) => ({ accounts: s.accounts.filter((a) => a.name !== name) }));
    pushToast('info', t('toast.accountRemoved', { name }));
  } catch (error) {
    toastError(error);
  }
}

export function testAccount(name: string): Promise<ConnectionTestResult> {
  return call('accounts.test', { account: name });
}

export async function setAccountPaused(name: string, paused: boolean): Promise<void> {
  try {
    upsertAccount(await call(paused ? 'accounts.pause' : 'accounts.resume', { account: name }));
  } catch (error) {
    toastError(error);
  }
}

export async function setAccountConcurrency(name: string, concurrency: number): Promise<void> {
  try {
    upsertAccount(await call('accounts.setConcurrency', { account: name, concurrency }));
  } catch (error) {
    toastError(error);
  }
}

/**
 * Saves settings as the server accepts them, or throws its refusal (ApiCallError) with nothing
 * changed: for fields that show the reason next to themselves instead of in a toast.
 */
export async function saveSettings(patch: Partial<Settings>): Promise<Settings> {
  const settings = await call('settings.set', patch);
  ferryStore.setState({ settings });
  return settings;
}

export async function changeSettings(patch: Partial<Settings>): Promise<void> {
  // Shown at once; the answer (or the settings.changed event) has the last word.
  ferryStore.setState((s) => (s.settings ? { settings: { ...s.settings, ...patch } } : {}));
  try {
    ferryStore.setState({ settings: await call('settings.set', patch) });
  } catch (error) {
    toastError(error);
    ferryStore.setState({ settings: await call('settings.get').catch(() => ferryStore.getState().settings) });
  }
}
