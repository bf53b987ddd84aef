/**
 * The hosts the engine cannot reach, for the offline banner. They live in `status.offlineHosts`
 * (what `app.status` said at start and after a reconnect), and each `network.changed` event
 * replaces them with the list it carries, so the banner follows without asking again.
 */
import type { NetworkChanged, OfflineHostInfo } from '../../main/api/contract.ts';
import { t } from '../i18n.ts';
import type { FerryState } from './slices.ts';
import { ferryStore } from './store.ts';
import { pushToast } from './toasts.ts';

const NONE: OfflineHostInfo[] = [];

/** The hosts that cannot be reached now (the same empty array while there are none, so selectors stay stable). */
export function selectOfflineHosts(state: FerryState): OfflineHostInfo[] {
  const hosts = state.status?.offlineHosts;
  return hosts && hosts.length > 0 ? hosts : NONE;
}

export function applyNetworkChanged(change: NetworkChanged): void {
  // Before the first app.status answer there is no status to amend: that answer brings the list.
  ferryStore.setState((s) => (s.status ? { status: { ...s.status, offlineHosts: change.offlineHosts } } : {}));
  if (change.state === 'online' && !change.offlineHosts.some((host) => host.host === change.host)) {
    pushToast('success', t('network.back', { host: change.host }));
  }
}
