// LOG_FORMAT=pretty in the built services (issue 15 item 6): the esbuild bundles used to crash with
// "unable to determine transport target" (pino-pretty as a worker transport); it is now a stream.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { REPO_ROOT } from '@agent-bridge/common';
import { BASE_TEST_ENV, connectRawAgent, ServiceProcess } from '@agent-bridge/testkit';

const built = existsSync(path.join(REPO_ROOT, 'dist/broker.mjs'));
const procs: ServiceProcess[] = [];
afterAll(async () => {
  for (const p of procs) await p.stop();
});

test.runIf(built || process.env.CI)('the built broker logs readable lines with LOG_FORMAT=pretty, one line per event', async () => {
  const broker = new ServiceProcess({
    name: 'broker',
    entry: 'dist/broker.mjs',
    env: { ...BASE_TEST_ENV, LOG_FORMAT: 'pretty', LOG_LEVEL: 'debug', WEBSOCKET_SERVER_ADDR: '127.0.0.1:0' },
  });
  procs.push(broker);
  await broker.start();
  const agent = await connectRawAgent(broker.url);
  await agent.next('welcome');
  agent.close();
  expect(await broker.stop('SIGTERM')).toBe(0);
  const logs = broker.logs();
  expect(logs).not.toMatch(/transport target/);
  const lines = logs.split('\n').filter(Boolean);
  expect(lines.length).toBeGreaterThanOrEqual(3);
  // pino-pretty's single-line form: every line starts an event with its time stamp, none is JSON
  for (const l of lines) expect(l).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] /);
  expect(logs).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
  expect(logs).toMatch(/agent connected/);
});
