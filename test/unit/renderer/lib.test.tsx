// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { refusalReason } from '../../../renderer/lib/accepts.ts';
import { expandDrop, isJunk, parseUrls } from '../../../renderer/lib/dropEntries.ts';
import { formatBytes, formatCount, formatDuration, formatSpeed, plainNumber } from '../../../renderer/lib/format.ts';
import { applyLanguage } from '../../../renderer/i18n.ts';
import { formatLink } from '../../../renderer/lib/links.ts';
import { OKTOPOST, SELFCOMMUNITY } from './fakeTransport.tsx';

describe('refusalReason', () => {
  it('takes an image under the limit and refuses one over it, naming the limit', () => {
    expect(
      refusalReason({ name: 'a.png', size: 4_000_000, type: 'image/png', kind: 'file' }, SELFCOMMUNITY),
    ).toBeNull();
    expect(refusalReason({ name: 'a.png', size: 6_000_000, type: 'image/png', kind: 'file' }, SELFCOMMUNITY)).toBe(
      "6.0 MB is over SelfCommunity's limit of 5.0 MB for this type",
    );
  });

  it('judges the type by the extension, as the server does, not by the browser guess', () => {
    expect(refusalReason({ name: 'scan.pdf', size: 10, type: '', kind: 'file' }, SELFCOMMUNITY)).toBeNull();
    expect(refusalReason({ name: 'clip.mov', size: 10, type: 'image/png', kind: 'file' }, SELFCOMMUNITY)).toContain(
      'video/quicktime',
    );
  });

  it('sends local files away from URL providers and lets unknown URLs through for the provider to judge', () => {
    expect(refusalReason({ name: 'a.png', size: 10, type: 'image/png', kind: 'file' }, OKTOPOST)).toContain(
      'cannot take a local file',
    );
    expect(refusalReason({ name: 'launch.mp4', size: null, type: '', kind: 'url' }, OKTOPOST)).toBeNull();
    expect(refusalReason({ name: 'watch', size: null, type: '', kind: 'url' }, OKTOPOST)).toBeNull();
    expect(refusalReason({ name: 'doc.pdf', size: null, type: '', kind: 'url' }, OKTOPOST)).toContain(
      'Oktopost takes video/mp4, image/png',
    );
  });
});

describe('dropped folders', () => {
  type Node = { name: string; children?: Node[] };
  const entry = (node: Node): FileSystemEntry => {
    if (!node.children) {
      return {
        name: node.name,
        isFile: true,
        isDirectory: false,
        file: (ok: (f: File) => void) => ok(new File(['x'], node.name)),
      } as unknown as FileSystemEntry;
    }
    const children = node.children.map(entry);
    return {
      name: node.name,
      isFile: false,
      isDirectory: true,
      // Answers in batches of two, then an empty batch, as readEntries does (Chromium: 100).
      createReader: () => {
        let at = 0;
        return {
          readEntries: (ok: (e: FileSystemEntry[]) => void) => {
            ok(children.slice(at, at + 2));
            at += 2;
          },
        };
      },
    } as unknown as FileSystemEntry;
  };

  it('are walked recursively, skipping system junk', async () => {
    const tree = entry({
      name: 'trip',
      children: [
        { name: 'a.jpg' },
        { name: '.DS_Store' },
        { name: 'b.jpg' },
        { name: 'day2', children: [{ name: 'c.jpg' }, { name: 'Thumbs.db' }, { name: '._c.jpg' }] },
      ],
    });
    const dropped = await expandDrop({ entries: [tree], files: [], urls: [] });
    expect(dropped.files.map((f) => f.name)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(dropped.skipped).toBe(3);
  });

  it('knows junk and links when it sees them', () => {
    expect(['.DS_Store', 'desktop.ini', '~$report.docx', 'Thumbs.db'].every(isJunk)).toBe(true);
    expect(isJunk('holiday.png')).toBe(false);
    expect(parseUrls('# comment\nhttps://a.example/x.mp4\nnot a url\nhttp://b.example/y.png ')).toEqual([
      'https://a.example/x.mp4',
      'http://b.example/y.png',
    ]);
  });
});

describe('formatting', () => {
  it('keeps numbers short and stable', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_234_567)).toBe('1.2 MB');
    expect(formatBytes(null)).toBe('—');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(185)).toBe('3m 05s');
    expect(formatDuration(7_800)).toBe('2h 10m');
  });

  it('formats counts and sizes without Intl exactly as Intl does, in both languages', () => {
    // Sizes that round at each place (x.x5, 99.95, 999.5), powers of ten and a spread of others.
    const values = [0, 1, 5, 999, 1000, 1049, 1050, 1051, 1949, 1950, 99_949, 99_950, 99_999, 100_000, 999_499];
    values.push(999_500, 999_999, 1_000_000, 1_234_567, 9_999_999, 12_345_678_901, 1e15 - 1, 4.5e15);
    let seed = 11;
    for (let i = 0; i < 3000; i += 1) {
      seed = (seed * 48271) % 2147483647;
      values.push(Math.floor((seed / 2147483647) * 10 ** (1 + (i % 14))));
    }
    try {
      for (const lang of ['en', 'de'] as const) {
        applyLanguage(lang);
        const count = new Intl.NumberFormat(lang);
        for (const n of values) expect(formatCount(n)).toBe(count.format(n));
        for (const n of values) {
          if (n < 1000) continue;
          let value = n;
          let index = 0;
          const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'];
          while (value >= 1000 && index < units.length - 1) {
            value /= 1000;
            index += 1;
          }
          const digits = value >= 100 ? 0 : 1;
          const options = { maximumFractionDigits: digits, minimumFractionDigits: digits } as const;
          const intl = (suffix: string) =>
            new Intl.NumberFormat(lang, { style: 'unit', unit: `${units[index]}${suffix}`, ...options }).format(value);
          expect(formatBytes(n)).toBe(intl(''));
          expect(formatSpeed(n)).toBe(intl('-per-second'));
        }
        // Cases it leaves to Intl.
        expect(plainNumber(-1, 0, lang)).toBeNull();
        expect(plainNumber(1e21, 0, lang)).toBeNull();
        expect(formatCount(-1234)).toBe(count.format(-1234));
        expect(formatCount(1.5)).toBe(count.format(1.5));
      }
    } finally {
      applyLanguage('en');
    }
  });

  it('writes links as URL, Markdown and HTML, escaping what needs it', () => {
    expect(formatLink('url', 'https://x.example/a b.png', 'a.png')).toBe('https://x.example/a b.png');
    expect(formatLink('markdown', 'https://x.example/a.png', 'my [best].png', 'image/png')).toBe(
      '![my \\[best\\].png](https://x.example/a.png)',
    );
    expect(formatLink('markdown', 'https://x.example/v', 'clip.mp4', 'video/mp4')).toBe(
      '[clip.mp4](https://x.example/v)',
    );
    expect(formatLink('html', 'https://x.example/v?a=1&b=2', '<clip>', 'video/mp4')).toBe(
      '<a href="https://x.example/v?a=1&amp;b=2">&lt;clip&gt;</a>',
    );
  });
});
