// Builds the dashboard's React app into dashboard/web/dist (served by dashboard/server).
// `node:net` is aliased so the browser runs the collector's own Lucene parser
// (collector/src/search/lucene.ts): the query bar underlines exactly where the server would fail.
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  resolve: {
    alias: { 'node:net': fileURLToPath(new URL('./src/lib/net-shim.ts', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline script anywhere: the server's Content-Security-Policy forbids it.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npx vite dashboard/web` during development: the API comes from a running dashboard.
    proxy: { '/api': 'http://127.0.0.1:23235', '/metrics': 'http://127.0.0.1:23235' },
  },
})
