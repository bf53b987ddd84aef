const TOKEN_KEY = 'ferry.token';

/**
 * The serve token arrives once in the page URL (`?token=…`). It is kept in sessionStorage, so a
 * reload of the tab still works, and removed from the address bar at once so that it does not end up
 * in the history, in bookmarks or in a screenshot.
 */
export function takeToken(location: Location = window.location, history: History = window.history): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // Storage may be disabled; the token still works for this page's life.
    }
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}
