// Builds the UI into crates/ui/dist, which the argus-ui crate embeds with include_bytes!.
// The output must be byte-for-byte reproducible: scripts/check-bundle.mjs rebuilds and
// compares it with the committed copy.
import { defineConfig } from 'vitest/config';

// `npm run dev` proxies the API to a running Argus (or a Prometheus + Alertmanager pair).
const prom = process.env.ARGUS_API ?? 'http://127.0.0.1:9090';
const am = process.env.ARGUS_AM_API ?? prom;

export default defineConfig({
  base: '/',
  build: {
    outDir: process.env.ARGUS_UI_OUT_DIR ?? '../../crates/ui/dist',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    // The query page (CodeMirror + PromQL grammar + uPlot) is one ~520 kB chunk, ~170 kB gzipped.
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api/v1': { target: prom, changeOrigin: true },
      '/api/v2': { target: am, changeOrigin: true },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
