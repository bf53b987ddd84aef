/**
 * The layering of main/ (docs/architecture.md) is kept by ESLint in `npm test`; these cases make sure
 * the rules stay in force: an upward import must fail, the allowed ones must not.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/ferryHarness.ts';

// The snippets are not files of tsconfig.main.json's program, so the type-aware rules (which need
// it) are switched off here; the import rules under test need no types.
const eslint = new ESLint({
  cwd: REPO_ROOT,
  overrideConfig: {
    languageOptions: { parserOptions: { project: null } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
});

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, file) });
  // A parse or configuration error would make every case pass "allowed": it fails the test instead.
  expect(result!.messages.filter((message) => message.fatal === true || message.ruleId === null)).toEqual([]);
  return result!.messages
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message);
}

describe('the layers of main/', () => {
  it.each([
    ['main/core/x.ts', "import { Queue } from '../engine/queue.ts';"],
    ['main/db/x.ts', "import { Queue } from '../engine/queue.ts';"],
    ['main/db/x.ts', "import type { ProviderAdapter } from '../providers/types.ts';"],
    ['main/secrets/x.ts', "import { Queue } from '../engine/queue.ts';"],
    ['main/providers/x/y.ts', "import { openFileSource } from '../../engine/fileSource.ts';"],
    ['main/providers/x/y.ts', "import { FileSecretStore } from '../../secrets/fileSecretStore.ts';"],
    ['main/engine/x.ts', "import { getAdapter } from '../providers/registry.ts';"],
    ['main/engine/x.ts', "import { selfCommunityAdapter } from '../providers/selfcommunity/selfcommunityAdapter.ts';"],
    ['main/engine/x.ts', "import { FerryApi } from '../api/ferryApi.ts';"],
    ['main/engine/x.ts', "import { openFerryHost } from '../host/ferryHost.ts';"],
    ['main/api/x.ts', "import { openFerryHost } from '../host/ferryHost.ts';"],
    ['main/sync/x.ts', "import { openFerryHost } from '../host/ferryHost.ts';"],
    ['main/host/x.ts', "import { startServe } from '../serve/serve.ts';"],
    ['main/api/x.ts', "import { selfCommunityAdapter } from '../providers/selfcommunity/selfcommunityAdapter.ts';"],
    ['main/api/x.ts', "import { FileSecretStore } from '../secrets/fileSecretStore.ts';"],
    ['main/api/x.ts', "import { main } from '../cli/main.ts';"],
    ['main/sync/x.ts', "import { SettingsStore } from '../api/settingsStore.ts';"],
    ['main/sync/x.ts', "import type { SyncTrashEntry } from '../api/contract.ts';"],
    ['main/sync/x.ts', "import { getAdapter } from '../providers/registry.ts';"],
    ['main/sync/x.ts', "import { redactSecrets } from '../secrets/redaction.ts';"],
    ['main/serve/x.ts', "import { main } from '../cli/main.ts';"],
    ['main/serve/x.ts', "import { IpcTransport } from '../ipc/ipcTransport.ts';"],
    ['main/cli/x.ts', "import { startDesktopCore } from '../app/desktopCore.ts';"],
    ['main/cli/x.ts', "import { IpcTransport } from '../ipc/ipcTransport.ts';"],
    ['main/ipc/x.ts', "import { openFerryHost } from '../host/ferryHost.ts';"],
    ['main/ipc/x.ts', "import { startServe } from '../serve/serve.ts';"],
    ['main/app/x.ts', "import { startServe } from '../serve/serve.ts';"],
    ['main/app/x.ts', "import { main } from '../cli/main.ts';"],
  ])('refuses in %s: %s', async (file, code) => {
    expect(await layerErrors(file, `${code}\nexport {};\n`)).toHaveLength(1);
  });

  it.each([
    ['main/providers/x/y.ts', "import { UploadError } from '../../core/errors.ts';"],
    ['main/providers/x/y.ts', "import { rememberSecret } from '../../secrets/knownSecrets.ts';"],
    ['main/engine/x.ts', "import type { ProviderAdapter } from '../providers/types.ts';"],
    ['main/db/x.ts', "import { FerryError } from '../core/errors.ts';"],
    ['main/api/x.ts', "import { getAdapter } from '../providers/registry.ts';"],
    ['main/host/x.ts', "import { FerryApi } from '../api/ferryApi.ts';"],
    ['main/host/x.ts', "import { SyncService } from '../sync/syncService.ts';"],
    ['main/serve/x.ts', "import { openFerryHost } from '../host/ferryHost.ts';"],
    ['main/app/x.ts', "import { openFerryHost } from '../host/ferryHost.ts';"],
    ['main/api/x.ts', "import { addSyncRule } from '../sync/syncRules.ts';"],
    ['main/api/x.ts', "import { redactSecrets } from '../secrets/redaction.ts';"],
    ['main/api/x.ts', "import type { SecretStore } from '../secrets/secretStore.ts';"],
    ['main/sync/x.ts', "import { Queue } from '../engine/queue.ts';"],
    ['main/sync/x.ts', "import { SyncRepository } from '../db/syncRepository.ts';"],
    ['main/cli/x.ts', "import { startServe } from '../serve/serve.ts';"],
    ['main/cli/x.ts', "import { FerryApi } from '../api/ferryApi.ts';"],
    ['main/ipc/x.ts', "import { APP_SCHEME } from '../app/appProtocol.ts';"],
    ['main/app/x.ts', "import type { IpcTransport } from '../ipc/ipcTransport.ts';"],
  ])('allows in %s: %s', async (file, code) => {
    expect(await layerErrors(file, `${code}\nexport {};\n`)).toEqual([]);
  });
});
