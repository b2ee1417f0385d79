/**
 * The console and GraphiQL, built into `dist/console/` and served by Gatehouse under
 * `/console/` (see src/http/console.ts). Everything the pages load comes from that folder:
 * no CDN, no inline script, nothing inlined as a `data:` URL, so the pages run under a
 * `default-src 'self'` policy and offline.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  publicDir: false,
  // The console is written for Preact; GraphiQL (its own entry) imports React itself.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    // A `data:` URL would need `img-src data:` or `font-src data:` in the policy: emit files.
    assetsInlineLimit: 0,
    // The polyfill is for browsers without modulepreload, all of them long outdated.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 5_000,
    rollupOptions: {
      input: { console: here('index.html'), graphiql: here('graphiql.html') },
      // GraphiQL's React libraries mark themselves "use client", which means nothing here.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  worker: { format: 'es' },
  // `npm run console:dev`: the console with hot reload, against a Gatehouse on its usual port.
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } } },
});
