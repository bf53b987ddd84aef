/**
 * What a proxy setting may be, on its own (no imports), so that the API's input schemas can check it
 * without loading the proxy agents: `system`, `direct`, '' (an account's "use the global one"), or an
 * http:// or https:// proxy URL with a host.
 */

/**
 * Why `value` is not a usable proxy setting, or null when it is: `system`, `direct`, '' (an account's
 * "use the global one") or an http:// or https:// URL with a host. The reason names the value with
 * its password hidden.
 */
export function proxySettingProblem(value: string, scope: 'global' | 'account'): string | null {
  if (value === 'system' || value === 'direct') return null;
  if (value === '') {
    return scope === 'account' ? null : 'is empty: give system, direct or a proxy URL such as http://host:3128';
  }
  const shown = `"${maskProxyText(value)}"`;
  if (/\s/.test(value)) return `${shown} contains spaces: give system, direct or a proxy URL such as http://host:3128`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${shown} is not a URL: give system, direct or a proxy URL such as http://user:password@host:3128`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `${shown} uses ${url.protocol.replace(/:$/, '')}://, which Ferry does not support: give an http:// or https:// proxy (or system, direct)`;
  }
  if (!url.hostname) return `${shown} has no host: give a proxy URL such as http://host:3128`;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return `${shown} has a path, query or fragment: give only the proxy's address, such as http://host:3128`;
  }
  return null;
}

/** `text` (a proxy URL, well-formed or not) with the password replaced by `***`. */
export function maskProxyText(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/i, '$1:***@');
}

/** The password of a proxy URL, decoded ('' when there is none or `value` is not a URL). */
export function proxyPassword(value: string | undefined): string {
  if (!value || !value.includes('@')) return '';
  try {
    return decodeURIComponent(new URL(value).password);
  } catch {
    return '';
  }
}

/**
 * Answers show a proxy password as `hidden` (the API's redaction), so a form that saves what it was
 * shown sends `http://user:[secret]@host:3128` back. Then the stored password is kept — if the proxy's
 * scheme, host, port and user are unchanged; a hidden password for another proxy is an error (the
 * reason), since the old password must not go to a new host unasked. Returns the value to store.
 */
export function withStoredPassword(
  next: string,
  stored: string | undefined,
  hidden: string,
): { value: string } | { problem: string } {
  if (proxyPassword(next) !== hidden) return { value: next };
  try {
    const given = new URL(next);
    const kept = new URL(stored ?? '');
    if (given.protocol === kept.protocol && given.host === kept.host && given.username === kept.username) {
      return { value: stored ?? '' };
    }
  } catch {
    // Nothing stored to keep: fall through.
  }
  return { problem: `"${maskProxyText(next)}" has no password to keep for this proxy: type the password again` };
}
