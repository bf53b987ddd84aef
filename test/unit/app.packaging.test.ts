/**
 * electron-builder.yml and build/: the Electron fuses, the update targets, the ferry:// protocol,
 * "Open With" / "Send to" and the `ferry` command of the installed app. No YAML parser is a direct
 * dependency, so the file is read as indented text: `block` returns the lines under a key.
 */
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const config = readFileSync(new URL('electron-builder.yml', root), 'utf8');

/** The lines indented under `key:` (at `indent` spaces), comments dropped. */
function block(text: string, key: string, indent = 0): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line === `${' '.repeat(indent)}${key}:`);
  if (start === -1) throw new Error(`electron-builder.yml has no ${key}: at indent ${indent}`);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (line.length - line.trimStart().length <= indent) break;
    body.push(line);
  }
  return body;
}

/** `key: value` pairs directly under a block (one level deeper than `indent`). */
function pairs(lines: string[], indent: number): Record<string, string> {
  const found: Record<string, string> = {};
  const pattern = new RegExp(`^ {${indent + 2}}([A-Za-z]+): (.+)$`);
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) found[match[1]!] = match[2]!.trim();
  }
  return found;
}

describe('electron-builder.yml', () => {
  it('flips the Electron fuses that close other ways to run code in the signed app', () => {
    expect(pairs(block(config, 'electronFuses'), 0)).toEqual({
      runAsNode: 'false',
      enableNodeOptionsEnvironmentVariable: 'false',
      enableNodeCliInspectArguments: 'false',
      enableEmbeddedAsarIntegrityValidation: 'true',
      onlyLoadAppFromAsar: 'true',
      enableCookieEncryption: 'true',
      grantFileProtocolExtraPrivileges: 'false',
    });
    // The asar the fuses check exists.
    expect(config).toMatch(/^asar: true$/m);
  });

  it('builds what electron-updater needs: a generic publish block and a macOS zip beside the dmg', () => {
    expect(pairs(block(config, 'publish'), 0)).toMatchObject({ provider: 'generic' });
    expect(block(config, 'target', 2).length).toBeGreaterThan(0);
    const mac = block(config, 'mac');
    const macTargets = mac.filter((line) => /^ {4}- /.test(line)).map((line) => line.trim().slice(2));
    expect(macTargets).toEqual(['dmg', 'zip']);
  });

  it('registers ferry:// and offers Ferry for files on Linux (MimeType; %U carries files and links)', () => {
    expect(block(config, 'protocols').map((line) => line.trim())).toContain('- ferry');
    const linux = block(config, 'linux');
    const mimeTypes = block(linux.join('\n'), 'mimeTypes', 2).map((line) => line.trim());
    expect(mimeTypes).toContain('- application/octet-stream');
    // No executableArgs: electron-builder then ends Exec with %U, which a ferry:// link needs.
    expect(linux.some((line) => line.includes('executableArgs'))).toBe(false);
  });

  it('adds "Send to" on Windows through an NSIS include that also removes it', () => {
    expect(pairs(block(config, 'nsis'), 0)).toMatchObject({ include: 'build/installer.nsh' });
    const nsh = readFileSync(new URL('build/installer.nsh', root), 'utf8');
    expect(nsh).toMatch(/!macro customInstall\s+CreateShortCut "\$SENDTO\\\$\{PRODUCT_NAME\}\.lnk"/);
    expect(nsh).toMatch(/!macro customUnInstall\s+Delete "\$SENDTO\\\$\{PRODUCT_NAME\}\.lnk"/);
  });

  it('puts the `ferry` command of the installed app on PATH (Linux), run by the app with --cli', () => {
    expect(pairs(block(config, 'deb'), 0)).toMatchObject({
      afterInstall: 'build/linux/after-install.tpl',
      afterRemove: 'build/linux/after-remove.tpl',
    });
    const launcher = new URL('build/linux/ferry', root);
    expect(statSync(launcher).mode & 0o111).not.toBe(0);
    expect(readFileSync(launcher, 'utf8')).toMatch(/exec "\$here\/ferry-desktop" --cli "\$@"/);
    expect(config).toMatch(/extraFiles:\n\s+- from: build\/linux\/ferry\n\s+to: ferry/);
    expect(readFileSync(new URL('build/linux/after-install.tpl', root), 'utf8')).toContain(
      "ln -sf '/opt/${sanitizedProductName}/ferry' '/usr/bin/ferry'",
    );
    // electron-builder's own steps are kept (the app's link, the sandbox helper's permissions).
    expect(readFileSync(new URL('build/linux/after-install.tpl', root), 'utf8')).toContain('chrome-sandbox');
    expect(readFileSync(new URL('build/linux/after-remove.tpl', root), 'utf8')).toContain('rm -f /usr/bin/ferry');
  });
});
