import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The renderer is built to dist/renderer with relative asset paths, so the same files load from
// file:// in Electron and from `ferry serve` at any address.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome128',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
});
