/**
 * The ops view (issue 15 item 4) in headless Chromium against the real broker and web server with
 * OPS_TOKEN set: behind its token it shows the agents, the sessions and the graphs, with numbers
 * from real traffic; a wrong token is refused with a clear message and no data.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { connectBrowser, connectRawAgent, registerClient, startStack, type Stack, type TestSocket } from '@agent-bridge/testkit';
import { ensureAppBuilt } from './build-once.ts';
import { launchBrowser, openPage, screenshot } from './browser.ts';

const OPS_TOKEN = 'ops-token-for-the-browser-test-0123';
let stack: Stack;
let browser: Browser;
let context: BrowserContext | undefined;
let page: Page;
let problems: string[] = [];
const sockets: TestSocket[] = [];
let traffic: NodeJS.Timeout | undefined;

beforeAll(async () => {
  ensureAppBuilt();
  [stack, browser] = await Promise.all([startStack({ env: { OPS_TOKEN, HEARTBEAT_INTERVAL_MS: '500', HEARTBEAT_TIMEOUT_MS: '3000' } }), launchBrowser()]);
  // Real traffic: an echo agent and two browsers that keep talking to it (plus one to an absent
  // name, which waits in its queue), so the rates and the history have something to show.
  const agent = await connectRawAgent(stack.brokerUrl, { name: 'echo' });
  sockets.push(agent);
  agent.ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString()) as { type: string; clientId?: string };
    if (f.type === 'client.message') agent.send({ type: 'send', to: f.clientId, data: { text: 'pong' } });
  });
  const browsers: TestSocket[] = [];
  for (let i = 0; i < 2; i++) {
    const b = await connectBrowser(stack.webUrl, await registerClient(stack.webUrl));
    await b.next('welcome');
    browsers.push(b);
  }
  sockets.push(...browsers);
  browsers[0]!.send({ type: 'message', id: 'w-1', agent: 'absent', data: { text: 'anyone?' } });
  browsers[0]!.send({ type: 'message', id: 'bad' }); // an error for the recent-errors table
  let n = 0;
  traffic = setInterval(() => {
    for (const b of browsers) b.send({ type: 'message', id: `c-${++n}`, agent: 'echo', data: { text: 'ping' } });
  }, 100);
}, 120_000);

afterEach(async () => {
  const seen = problems;
  problems = [];
  await context?.close();
  context = undefined;
  expect(seen.filter((p) => !p.includes('401')), 'console errors or page errors').toEqual([]);
});

afterAll(async () => {
  clearInterval(traffic);
  for (const s of sockets) s.close();
  await browser?.close();
  await stack?.close();
});

async function signIn(token: string): Promise<void> {
  ({ context, page, problems } = await openPage(browser));
  await page.goto(`${stack.webUrl}/ops`);
  // The app shell (status bar) connects on every route, /ops too: the page is a browser itself.
  await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected', undefined, { timeout: 10_000 });
  await page.getByLabel('Ops token').fill(token);
  await page.getByRole('button', { name: 'Open' }).click();
}

/** The numbers of a summary card by its label. */
const card = (label: string) =>
  page.evaluate(
    (l) => [...document.querySelectorAll('.ops-card')].find((c) => c.querySelector('.ops-muted')?.textContent === l)?.querySelector('.ops-card-value')?.textContent,
    label,
  );

describe('/ops in Chromium', () => {
  it('behind its token: agents, sessions and the graphs, with numbers from real traffic', async () => {
    await signIn(OPS_TOKEN);
    await page.waitForSelector('[data-testid=ops-page] .ops-cards', { timeout: 10_000 });
    expect(await card('nodes ready')).toBe('2 / 2');
    // the two test browsers and this page's own socket
    expect(await card('browser sockets')).toBe('3');
    expect(await card('agent connections')).toBe('1');
    expect(await card('sessions connected')).toBe('3');
    // The agents table: echo with its connection, and the absent name's waiting message.
    const rows = await page.locator('.ops-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent?.trim()).join(' ')));
    expect(rows).toContain('echo 1 0');
    expect(rows).toContain('absent 0 1');
    await expect.poll(() => page.locator('.ops-table code', { hasText: 'invalid_message' }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    // The history is sampled every 5 s; the page polls every 5 s: wait for two points of real
    // traffic (a line, not a dot) in the frames graph.
    await page.waitForFunction(
      // two samples of the web node's own series (the table's first column; '–' where it has none)
      () => [...(document.querySelector('.ops-graph')?.querySelectorAll('tbody tr td:first-of-type') ?? [])].filter((td) => td.textContent !== '–').length >= 2,
      undefined,
      { timeout: 25_000, polling: 250 },
    );
    const framesPerSec = Number.parseFloat((await card('frames/s in')) ?? '0');
    expect(framesPerSec).toBeGreaterThan(5); // 2 browsers × 10/s in, and the agent's answers
    const graphLabel = await page.locator('.ops-graph svg').first().getAttribute('aria-label');
    expect(graphLabel).toMatch(/Frames received per second/);
    await screenshot(page, 'ops-view');
  }, 40_000);

  it('a wrong token is refused: a clear message, the token form again, no data', async () => {
    await signIn('not-the-ops-token-0000000000');
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toBe('that token was not accepted');
    expect(await page.locator('[data-testid=ops-login]').count()).toBe(1);
    expect(await page.locator('[data-testid=ops-page], .ops-cards, .ops-graph, .ops-table').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('agent-bridge.ops-token'))).toBeNull(); // the refused token is forgotten
    await screenshot(page, 'ops-refused');
    // and the API itself gives nothing away without the token
    const res = await fetch(`${stack.webUrl}/api/ops`);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toMatch(/echo|absent|nodes/);
  });
});
