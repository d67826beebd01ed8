import { defineConfig } from 'vitest/config';

// One run for every package: unit and integration tests beside each package, end-to-end tests
// (real processes) in packages/e2e, browser tests (*.browser.test.ts) in the SPA package.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // 2-core machines: real processes and browsers per file; more workers only thrash.
    maxWorkers: 2,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
