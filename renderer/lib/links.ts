/** A finished upload's link as plain URL, Markdown or HTML, for pasting elsewhere. */
export type LinkFormat = 'url' | 'markdown' | 'html';

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\[\]()*_`])/g, '\\$1');
}

export function formatLink(format: LinkFormat, url: string, name: string, mime = ''): string {
  const image = mime.startsWith('image/');
  switch (format) {
    case 'url':
      return url;
    case 'markdown':
      return `${image ? '!' : ''}[${escapeMarkdown(name)}](${url.replace(/\)/g, '%29').replace(/ /g, '%20')})`;
    case 'html':
      return image
        ? `<img src="${escapeHtml(url)}" alt="${escapeHtml(name)}">`
        : `<a href="${escapeHtml(url)}">${escapeHtml(name)}</a>`;
    default: {
      const never: never = format;
      return never;
    }
  }
}
