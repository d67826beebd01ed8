import { defineConfig } from 'vitest/config';

// One run for every package, split into projects so a part can run alone
// (`pnpm test --project unit` runs in seconds):
// - unit: pure logic, no sockets or processes;
// - integration: in-process servers on real sockets (127.0.0.1, port 0);
// - e2e: real processes through the testkit, the built bundles, the benchmark harness;
// - browser: headless Chromium against a real stack (*.browser.test.ts);
// - slow: attack scenarios at default settings and full scale, the cluster's process-kill tests
//   (*-full.test.ts), minutes of both cores: not in `pnpm test`, run by CI (`pnpm test --project slow`).
const UNIT = [
  'packages/common/test/**/*.test.ts',
  'packages/websocket-server/test/{ids,units,mailbox,budget-units,runs-units,contracts-memory,ws-privates,acks-units,snapshot-units,pending-id-records,ws-native,seq-gate}.test.ts',
  'packages/web-server/test/{siwe-unit,tokens,liveness,contracts-memory,broker-pool}.test.ts',
  'packages/demo-agent/test/commands.test.ts',
  'packages/agent-sdk/test/url-list.test.ts',
  'packages/browser-client/test/{frames-match-common,runs-model,parse-frame}.test.ts',
  'packages/sploots-app/test/**/!(*.browser).test.ts',
];
const BROWSER = ['packages/sploots-app/test/**/*.browser.test.ts'];
const SLOW = ['packages/*/test/**/*-full.test.ts'];
const E2E = ['packages/e2e/test/**/*.test.ts', 'packages/*/test/**/*process*.test.ts', 'packages/bench/test/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // 2-core machines: real processes and browsers per file; more workers only thrash.
    maxWorkers: 2,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'integration', include: ['packages/*/test/**/*.test.ts'], exclude: [...UNIT, ...BROWSER, ...E2E, ...SLOW] } },
      { extends: true, test: { name: 'e2e', include: E2E, exclude: [...BROWSER, ...SLOW] } },
      { extends: true, test: { name: 'browser', include: BROWSER } },
      { extends: true, test: { name: 'slow', include: SLOW, testTimeout: 600_000, env: { ATTACK_FULL: '1' } } },
    ],
  },
});
