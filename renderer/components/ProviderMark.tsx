/** The coloured mark of a provider: a rounded square with its initials, the same everywhere. */
const MARKS: Record<string, { label: string; hue: string }> = {
  selfcommunity: { label: 'SC', hue: '#0f9d8a' },
  twentythree: { label: '23', hue: '#e8623b' },
  ofauth: { label: 'OF', hue: '#1f8ae0' },
  oktopost: { label: 'Ok', hue: '#7b4fd6' },
  xvid: { label: 'Xv', hue: '#d83a5e' },
};

export function providerHue(provider: string | null): string {
  return (provider && MARKS[provider]?.hue) || '#6b7280';
}

export function ProviderMark({ provider, name, size = 20 }: { provider: string | null; name?: string; size?: number }) {
  const mark = (provider && MARKS[provider]) || { label: (provider ?? '?').slice(0, 2), hue: '#6b7280' };
  return (
    <span
      className="provider-mark"
      style={{ background: mark.hue, width: size, height: size, fontSize: Math.round(size * 0.45) }}
      title={name}
      aria-hidden="true"
    >
      {mark.label}
    </span>
  );
}
