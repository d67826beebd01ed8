// `pnpm start` runs the esbuild bundles in dist/, not the sources: prove they start and serve.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { REPO_ROOT } from '@agent-bridge/common';
import { BASE_TEST_ENV, connectBrowser, connectRawAgent, registerClient, ServiceProcess } from '@agent-bridge/testkit';

const built = existsSync(path.join(REPO_ROOT, 'dist/broker.mjs')) && existsSync(path.join(REPO_ROOT, 'dist/web-server.mjs'));
const procs: ServiceProcess[] = [];
afterAll(async () => {
  for (const p of procs) await p.stop();
});

// CI builds before it tests; a developer who has not run `pnpm build` sees this as skipped.
test.runIf(built || process.env.CI)('the built services start, serve the SPA and carry a message', async () => {
  const broker = new ServiceProcess({ name: 'broker', entry: 'dist/broker.mjs', env: { ...BASE_TEST_ENV, WEBSOCKET_SERVER_ADDR: '127.0.0.1:0' } });
  procs.push(broker);
  await broker.start();
  const web = new ServiceProcess({
    name: 'web',
    entry: 'dist/web-server.mjs',
    env: { ...BASE_TEST_ENV, STATIC_ASSETS_PATH: './static', WEB_SERVER_ADDR: '127.0.0.1:0', BROKER_URL: `ws://127.0.0.1:${broker.port}` },
  });
  procs.push(web);
  await web.start();
  const page = await fetch(`${web.url}/chat`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  expect(await page.text()).toContain('<div id="root">');
  const agent = await connectRawAgent(broker.url);
  await agent.next('welcome');
  const session = await registerClient(web.url);
  const ws = await connectBrowser(web.url, session);
  await ws.next('welcome');
  ws.send({ type: 'message', id: 'b-1', data: 'from the bundle' });
  expect(await agent.next('client.message')).toMatchObject({ clientId: session.clientId, data: 'from the bundle', ref: 'b-1' });
  ws.close(1000);
  agent.close();
});
