/* global window, document */
// Sets the theme before the first paint so that a dark-mode user does not see a white flash.
(function () {
  var theme;
  try {
    theme = window.localStorage.getItem('ferry.theme') || 'system';
  } catch {
    theme = 'system';
  }
  var dark =
    theme === 'dark' ||
    (theme === 'system' && window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  document.documentElement.style.colorScheme = dark ? 'dark' : 'light';
})();
