import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web app (web/) builds to web/dist, which `lanes serve` serves at `/` with an
 * SPA fallback. In development, `npx vite` proxies the API to a running `lanes serve`
 * (LANES_DEV_API, default http://localhost:5263).
 */
export default defineConfig({
  root: 'web',
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../web/dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': process.env['LANES_DEV_API'] ?? 'http://localhost:5263',
      '/healthz': process.env['LANES_DEV_API'] ?? 'http://localhost:5263',
    },
  },
});
