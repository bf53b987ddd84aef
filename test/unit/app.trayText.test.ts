/**
 * The tray's words (main/app/trayText.ts, locales/*.json): both languages have every key, the
 * language follows the setting or the system, and the English tray state of overallProgress.ts comes
 * out in German — menu, tooltip and notifications.
 */
import { describe, expect, it } from 'vitest';
import de from '../../main/app/locales/de.json' with { type: 'json' };
import en from '../../main/app/locales/en.json' with { type: 'json' };
import { describeBatch } from '../../main/app/notificationBatcher.ts';
import { trayMenu, trayView, NO_SYNC, type TrayMenuItem } from '../../main/app/overallProgress.ts';
import { TrayText, trayLanguage } from '../../main/app/trayText.ts';

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([key, child]) => keys(child, prefix ? `${prefix}.${key}` : key));
}

const snapshot = { running: 3, finished: 7, total: 10, paused: 1, fraction: 0.456, failed: 2 };

describe('the tray in two languages', () => {
  it('has the same keys in English and German, none empty', () => {
    expect(keys(de).sort()).toEqual(keys(en).sort());
    for (const file of [en, de]) {
      for (const key of keys(file)) {
        const text = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], file);
        expect(typeof text === 'string' && text.trim() !== '', key).toBe(true);
      }
    }
  });

  it('follows the language setting, else the system locale, else English', () => {
    expect(trayLanguage('de', 'en-US')).toBe('de');
    expect(trayLanguage('system', 'de-AT')).toBe('de');
    expect(trayLanguage('system', 'fr-FR')).toBe('en');
    expect(trayLanguage('en', 'de-DE')).toBe('en');
  });

  it('shows every menu item, the tooltip and the notifications in German', () => {
    const text = new TrayText('de');
    const view = trayView(snapshot, { ...NO_SYNC, rules: 2, paused: 0 }, [
      { jobId: 1, name: 'hafen.png', url: 'https://x.example/hafen.png' },
      { jobId: 2, name: 'mole.png', url: null },
    ]);
    const labels = (items: TrayMenuItem[]): string[] =>
      items.flatMap((item) =>
        item.kind === 'separator' ? [] : [text.menuLabel(item), ...(item.kind === 'submenu' ? labels(item.items) : [])],
      );
    expect(labels(trayMenu(view))).toEqual([
      'Ferry öffnen',
      'Alle pausieren',
      'Alle fortsetzen',
      'Synchronisierung pausieren',
      'Letzte Uploads',
      'hafen.png — Link kopieren',
      'mole.png (kein Link)',
      'Ferry beenden',
    ]);
    expect(view.tooltip).toBe('Ferry: uploading 45% · 7 of 10 uploads done · 2 failed · 1 paused');
    expect(text.tooltip(view.tooltip)).toBe(
      'Ferry: lädt hoch: 45 % · 7 von 10 Uploads fertig · 2 fehlgeschlagen · 1 pausiert',
    );
    expect(text.tooltip('Ferry: idle · watching 1 folder')).toBe('Ferry: bereit · überwacht 1 Ordner');
    // A part it does not know (a folder's own message) stays as it is.
    expect(text.tooltip('Ferry: /mnt/x is gone · 1 upload failed')).toBe(
      'Ferry: /mnt/x is gone · 1 Upload fehlgeschlagen',
    );
    expect(text.describeBatch([{ id: 1, name: 'a.png', state: 'completed' }])).toEqual({
      title: 'Upload abgeschlossen',
      body: 'a.png wurde hochgeladen',
    });
    const mixed = [
      { id: 1, name: 'a', state: 'completed' as const },
      { id: 2, name: 'b', state: 'completed' as const },
      { id: 3, name: 'c', state: 'failed' as const },
    ];
    expect(text.describeBatch(mixed).body).toBe('2 Uploads abgeschlossen, 1 fehlgeschlagen');
  });

  it('says in English exactly what overallProgress.ts and describeBatch say', () => {
    const text = new TrayText('en');
    const view = trayView(snapshot, { ...NO_SYNC, rules: 2, paused: 2 }, [
      { jobId: 1, name: 'harbour.png', url: 'https://x.example/h.png' },
    ]);
    const walk = (items: TrayMenuItem[]): void => {
      for (const item of items) {
        if (item.kind === 'separator') continue;
        expect(text.menuLabel(item)).toBe(item.label);
        if (item.kind === 'submenu') walk(item.items);
      }
    };
    walk(trayMenu(view));
    for (const tooltip of [
      view.tooltip,
      trayView({ ...snapshot, fraction: null, running: 0 }).tooltip,
      trayView({ running: 0, finished: 0, total: 0, paused: 3, fraction: null, failed: 0 }).tooltip,
      trayView({ running: 0, finished: 0, total: 0, paused: 0, fraction: null, failed: 0 }).tooltip,
    ])
      expect(text.tooltip(tooltip)).toBe(tooltip);
    const batches = [
      [{ id: 1, name: 'a', state: 'failed' as const }],
      [
        { id: 1, name: 'a', state: 'completed' as const },
        { id: 2, name: 'b', state: 'completed' as const },
      ],
      [
        { id: 1, name: 'a', state: 'failed' as const },
        { id: 2, name: 'b', state: 'failed' as const },
      ],
    ];
    for (const batch of batches) expect(text.describeBatch(batch)).toEqual(describeBatch(batch));
  });

  it('says in both languages that uploads wait for the network, for one host and for several', () => {
    const one = trayView(snapshot, NO_SYNC, [], ['uploads.example:443']).tooltip;
    const two = trayView(snapshot, NO_SYNC, [], ['uploads.example:443', '127.0.0.1:8080']).tooltip;
    expect(one).toBe(
      'Ferry: Waiting for network (uploads.example:443) · uploading 45% · 7 of 10 uploads done · 2 failed · 1 paused',
    );
    expect(two.startsWith('Ferry: Waiting for network (2 hosts) · uploading 45%')).toBe(true);
    const de = new TrayText('de');
    expect(de.tooltip(one)).toBe(
      'Ferry: wartet auf Netzwerk (uploads.example:443) · lädt hoch: 45 % · 7 von 10 Uploads fertig · 2 fehlgeschlagen · 1 pausiert',
    );
    expect(de.tooltip(two).startsWith('Ferry: wartet auf Netzwerk (2 Hosts) · lädt hoch: 45 %')).toBe(true);
    // A host whose name is a number is still a host, not a count.
    expect(de.tooltip('Ferry: Waiting for network (8080) · idle')).toBe('Ferry: wartet auf Netzwerk (8080) · bereit');
    const en = new TrayText('en');
    expect(en.tooltip(one)).toBe(one);
    expect(en.tooltip(two)).toBe(two);
  });

  it('changes language when the setting does', () => {
    const text = new TrayText('en');
    expect(text.t('menu.quit')).toBe('Quit Ferry');
    text.setLanguage('de');
    expect(text.t('menu.quit')).toBe('Ferry beenden');
  });
});
