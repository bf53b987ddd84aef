import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  // Type-aware rules for the main process: a promise nobody awaits or handles is how an upload error
  // turns into an unhandled rejection (see main/engine/lastResort.ts for the last line of defence).
  {
    files: ['main/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.main.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  // The layers of main/ (docs/architecture.md): an import that reaches up a layer fails `npm test`.
  ...layers({
    // The shared vocabulary: error kinds and classes, the job state table, the file-source interface,
    // result types. It imports nothing of Ferry's.
    'main/core/**': { only: 'core' },
    // Adapters know their protocol, the core and their shared helpers (http, multipart bodies); the
    // one exception is the registry of secret values that they feed with tokens they fetch.
    'main/providers/**': {
      forbid: ['engine', 'db', 'api', 'sync', 'host', 'serve', 'cli', 'app', 'ipc', 'secrets'],
      allow: ['**/secrets/knownSecrets.ts'],
    },
    'main/db/**': { forbid: ['engine', 'providers', 'api', 'sync', 'host', 'serve', 'cli', 'app', 'ipc', 'secrets'] },
    'main/secrets/**': { forbid: ['engine', 'providers', 'db', 'api', 'sync', 'host', 'serve', 'cli', 'app', 'ipc'] },
    // The engine receives the adapters from the composition root: only the port (providers/types.ts).
    'main/engine/**': {
      forbid: ['api', 'sync', 'host', 'serve', 'cli', 'app', 'ipc'],
      forbidFiles: ['**/providers/registry.ts', '**/providers/*/**'],
    },
    // The API names no adapter (a connection test is the adapter's own method) and no concrete secret
    // store; it calls sync/ for its sync.* commands.
    'main/api/**': {
      forbid: ['host', 'serve', 'cli', 'app', 'ipc'],
      forbidFiles: ['**/providers/*/**', '**/secrets/fileSecretStore.ts', '**/secrets/safeStorageSecretStore.ts'],
    },
    // Watched folders queue through the engine and keep their index in db/; the API calls them, never
    // the other way round (their two settings are read from the table: sync/syncSettings.ts).
    'main/sync/**': { forbid: ['api', 'providers', 'secrets', 'host', 'serve', 'cli', 'app', 'ipc'] },
    // The host composes everything below it (lock, database, API, engine, watched folders); the
    // transports and composition roots (serve/, cli/, app/, main/index.ts) put themselves around it.
    'main/host/**': { forbid: ['serve', 'cli', 'app', 'ipc'] },
    // The outside: transports and composition roots import the inner folders and each other only as
    // docs/architecture.md says (cli/ loads serve/ for `ferry serve`; ipc/ and app/ share a type each way).
    'main/serve/**': { forbid: ['cli', 'app', 'ipc'] },
    'main/cli/**': { forbid: ['app', 'ipc'] },
    'main/ipc/**': { forbid: ['host', 'serve', 'cli'] },
    'main/app/**': { forbid: ['serve', 'cli'] },
  }),
);

/** One `no-restricted-imports` rule per folder of main/ (see the table above). */
function layers(table) {
  const FOLDERS = ['core', 'engine', 'db', 'providers', 'secrets', 'api', 'sync', 'host', 'serve', 'cli', 'app', 'ipc'];
  return Object.entries(table).map(([files, rule]) => {
    const forbidden = rule.only ? FOLDERS.filter((folder) => folder !== rule.only) : rule.forbid;
    const group = [
      ...forbidden.map((folder) => `**/${folder}/**`),
      ...(rule.forbidFiles ?? []),
      ...(rule.allow ?? []).map((path) => `!${path}`),
    ];
    if (rule.only) group.push('**/index.ts');
    return {
      files: [`${files.replace(/\*\*$/, '')}**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          { patterns: [{ group, message: `${files} may not import this layer (see docs/architecture.md, "Layers")` }] },
        ],
      },
    };
  });
}
