// PROTOCOL §1: a service logs one line containing `listening` and its URL once it accepts
// connections — also when LOG_LEVEL silences everything else, since supervisors wait for it.
import { afterAll, expect, test } from 'vitest';
import { BASE_TEST_ENV, ServiceProcess } from '@agent-bridge/testkit';

const procs: ServiceProcess[] = [];
afterAll(async () => {
  for (const p of procs) await p.stop();
});

test.each([
  ['broker', 'packages/websocket-server/src/main.ts', 'WEBSOCKET_SERVER_ADDR'],
  ['web-server', 'packages/web-server/src/main.ts', 'WEB_SERVER_ADDR'],
])('%s prints its listening line with LOG_LEVEL=silent, and nothing else', async (name, entry, addrVar) => {
  const p = new ServiceProcess({ name, entry, env: { ...BASE_TEST_ENV, LOG_LEVEL: 'silent', [addrVar]: '127.0.0.1:0' } });
  procs.push(p);
  await p.start();
  expect(p.port).toBeGreaterThan(0);
  const res = await fetch(`${p.url}/healthz`);
  expect(res.status).toBe(200);
  const lines = p.logs().trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ name, url: p.url, msg: expect.stringContaining('listening') });
  expect(await p.stop()).toBe(0);
});
