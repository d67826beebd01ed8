import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = path.dirname(fileURLToPath(import.meta.url));

// The web server serves the repository's `static/` folder; it is pure build output.
export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  build: {
    outDir: path.resolve(here, '../../static'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // three.js is ~130 KB gzipped on its own, and lives in the lazy scene chunk.
    chunkSizeWarningLimit: 800,
    rolldownOptions: {
      // The shared protocol modules only declare constants and zod schemas; the browser uses the
      // constants, so let unused schemas (and zod with them) fall out of the bundle.
      treeshake: {
        moduleSideEffects: (id: string) => !/[\\/]packages[\\/]common[\\/]src[\\/]protocol[\\/]/.test(id),
      },
    },
  },
});
