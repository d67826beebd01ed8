/**
 * The Sploots app in Chromium, opened at an address the web server does not accept (a page
 * origin that is not PUBLIC_ORIGIN): it says why it cannot connect and what to do, and stops
 * trying, instead of "reconnecting" for ever.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO_ROOT } from '@agent-bridge/common';
import { startStack, TcpProxy, type Stack } from '@agent-bridge/testkit';

let stack: Stack;
let proxy: TcpProxy;

beforeAll(async () => {
  const { ensureAppBuilt } = await import(path.join(REPO_ROOT, 'packages/sploots-app/test/build-once.ts'));
  ensureAppBuilt();
  stack = await startStack();
  // The same web server under another origin (another port), as a mistyped address would be.
  proxy = new TcpProxy(Number(new URL(stack.webUrl).port));
  await proxy.listen();
}, 180_000);
afterAll(async () => {
  await proxy?.close();
  await stack?.close();
});

test('the app shows the refusal (403) with what to do, and stops retrying', async () => {
  const { launchBrowser, screenshot } = await import(path.join(REPO_ROOT, 'packages/sploots-app/test/browser.ts'));
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    let attempts = 0;
    page.on('request', (r: { url(): string }) => {
      if (/\/api\/clients|\/ws\//.test(r.url())) attempts++;
    });
    await page.goto(`http://127.0.0.1:${proxy.port}/`);
    const banner = page.getByTestId('refusal');
    await banner.waitFor({ timeout: 15_000 });
    const text = await banner.textContent();
    expect(text).toMatch(/refused this page \(403/);
    expect(text).toMatch(/PUBLIC_ORIGIN|ALLOWED_ORIGINS/);
    expect(await page.getByTestId('connection').textContent()).toBe('refused');
    await screenshot(page, 'refusal-403');
    const seen = attempts;
    await page.waitForTimeout(2500); // longer than the first backoff steps
    expect(attempts).toBe(seen);
  } finally {
    await browser.close();
  }
});
