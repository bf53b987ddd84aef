/**
 * Bundles the preload into one CommonJS file, dist/preload/index.cjs: a sandboxed preload cannot
 * load ES modules or other files, only `require('electron')` (kept external) and a few Node
 * built-ins. `npm run build:preload` runs it.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = resolve(import.meta.dirname, '..');

export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: resolve(root, 'dist/preload'),
    emptyOutDir: true,
    // Electron 45's Chromium; no syntax is lowered.
    target: 'esnext',
    minify: false,
    sourcemap: false,
    lib: {
      entry: resolve(root, 'preload/index.ts'),
      formats: ['cjs'],
      fileName: () => 'index.cjs',
    },
    rolldownOptions: {
      external: ['electron'],
    },
  },
});
