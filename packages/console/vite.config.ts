import { defineConfig } from 'vite';

// `npm run dev` here proxies the API to a collector on the default port; `npm run build` writes dist/,
// which the collector serves at its root.
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  server: { proxy: { '/api': 'http://127.0.0.1:4318' } },
});
