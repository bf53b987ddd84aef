import { useTranslation } from 'react-i18next';
import { selectOfflineHosts } from '../store/network.ts';
import { useFerry } from '../store/store.ts';
import { Icon } from './Icon.tsx';

/**
 * Says above the views that uploads wait for the network rather than fail: which hosts cannot be
 * reached, and that nothing needs doing. Gone as soon as the engine reaches them again (a toast says
 * so). Hidden while the window's own connection to Ferry is lost, since the list may be stale then.
 */
export function NetworkBanner() {
  const hosts = useFerry(selectOfflineHosts);
  const connection = useFerry((s) => s.connection);
  const { t } = useTranslation();
  if (hosts.length === 0 || connection === 'closed') return null;
  const text =
    hosts.length === 1
      ? t('network.bannerOne', { host: hosts[0]!.host })
      : t('network.bannerMany', { n: hosts.length, hosts: hosts.map((host) => host.host).join(', ') });
  return (
    <div
      className="banner network-banner"
      role="status"
      data-testid="network-banner"
      title={hosts.map((host) => `${host.host}: ${host.code}`).join('\n')}
    >
      <Icon name="globe" size={16} />
      <span>{text}</span>
    </div>
  );
}
