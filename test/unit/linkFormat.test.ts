import { describe, expect, it } from 'vitest';
import { formatCopiedLink } from '../../main/api/contract.ts';

describe('formatCopiedLink', () => {
  const video = { url: 'https://cdn.example/v/1', name: 'clip.mp4' };
  const image = { url: 'https://cdn.example/i/2', name: 'shot [1].png' };

  it('copies nothing when off or when the result has no URL', () => {
    expect(formatCopiedLink('off', video)).toBeNull();
    expect(formatCopiedLink('url', { url: null, name: 'a.mp4' })).toBeNull();
  });

  it('copies the URL, a Markdown link (an image inline) or escaped HTML', () => {
    expect(formatCopiedLink('url', video)).toBe('https://cdn.example/v/1');
    expect(formatCopiedLink('markdown', video)).toBe('[clip.mp4](https://cdn.example/v/1)');
    expect(formatCopiedLink('markdown', image)).toBe('![shot \\[1\\].png](https://cdn.example/i/2)');
    expect(formatCopiedLink('html', video)).toBe('<a href="https://cdn.example/v/1">clip.mp4</a>');
    expect(formatCopiedLink('html', { url: 'https://x/?a=1&b="2"', name: '<b>.jpg' })).toBe(
      '<img src="https://x/?a=1&amp;b=&quot;2&quot;" alt="&lt;b&gt;.jpg">',
    );
  });

  it('trusts a MIME type over the name and keeps Markdown targets intact', () => {
    expect(formatCopiedLink('markdown', { url: 'https://x/a (1)', name: 'noext', mime: 'image/png' })).toBe(
      '![noext](https://x/a%20%281%29)',
    );
    expect(formatCopiedLink('markdown', { url: 'https://x/a', name: 'b.png', mime: 'video/mp4' })).toBe(
      '[b.png](https://x/a)',
    );
  });
});
