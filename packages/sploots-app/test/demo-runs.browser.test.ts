/**
 * The demo agent's run commands in the app (issue 14 "done when"), in headless Chromium against
 * the real broker, web server and demo agent: `story` streams in and Stop ends it, `weather`
 * shows a tool card, and `transfer` asks for approval — with a signed-in wallet the agent's
 * result names the address that approved.
 */
import { describe, expect, it } from 'vitest';
import { getBytes, Wallet } from 'ethers';
import type { Page } from 'playwright-core';
import { installWallet, screenshot, waitConnected, browserStackFixture } from './browser.ts';

const app = browserStackFixture({ agent: true, env: { HEARTBEAT_INTERVAL_MS: '500', HEARTBEAT_TIMEOUT_MS: '3000' } });
let page: Page;

async function chat(text: string): Promise<void> {
  await page.locator('[data-testid=chat-input]').fill(text);
  await page.locator('[data-testid=chat-input]').press('Enter');
}

const lastRun = () => page.locator('[data-testid=run]').last();

describe('demo agent runs in the app', () => {
  it('story streams in, Stop ends it; weather shows a tool card with its result', async () => {
    page = await app.newPage();
    await page.goto(`${app.stack.webUrl}/chat`);
    await waitConnected(page);
    await page.locator('.chat-empty .suggestion', { hasText: 'story' }).click();
    await page.waitForFunction(() => (document.querySelector('[data-testid=run-text]')?.textContent ?? '').length > 40, undefined, { timeout: 10_000 });
    const before = (await lastRun().locator('[data-testid=run-text]').textContent())!.length;
    await page.locator('[data-testid=chat-stop]').click();
    await page.waitForSelector('[data-testid=run][data-status=cancelled]', { timeout: 10_000 });
    const stopped = (await lastRun().locator('[data-testid=run-text]').textContent())!;
    expect(stopped.length).toBeGreaterThanOrEqual(before);
    expect(stopped).not.toContain('The end.');
    await screenshot(page, 'demo-story-stopped');

    await chat('weather Oslo');
    const card = page.locator('[data-testid=tool-card][data-tool=get_weather]');
    await card.waitFor({ timeout: 10_000 });
    await page.waitForSelector('[data-testid=tool-card][data-status=done]', { timeout: 10_000 });
    expect(await card.locator('[data-testid=tool-args]').textContent()).toContain('"city": "Oslo"');
    expect(await card.locator('[data-testid=tool-result]').textContent()).toContain('"city": "Oslo"');
    await page.waitForSelector('[data-testid=run][data-status=finished]:last-of-type', { timeout: 10_000 });
    await screenshot(page, 'demo-weather');
  }, 30_000);

  it('transfer asks for approval; signed in, the agent names the address that approved', async () => {
    const wallet = Wallet.createRandom();
    page = await app.newPage();
    await installWallet(page, wallet.address, (hex) => wallet.signMessage(getBytes(hex)));
    await page.goto(`${app.stack.webUrl}/chat`);
    await waitConnected(page);
    await page.getByRole('button', { name: 'Sign in with Ethereum' }).click();
    await page.locator('[data-testid=siwe-address]').waitFor({ timeout: 10_000 });

    await chat('transfer 5');
    const card = page.locator('[data-testid=approval-card]');
    await card.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 10_000 });
    expect(await card.textContent()).toContain('5');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.waitForSelector('[data-testid=approval-card][data-state=approved]');
    const result = page.locator('[data-testid=tool-card][data-tool=transfer] [data-testid=tool-result]');
    await result.waitFor({ timeout: 10_000 });
    expect((await result.textContent())!.toLowerCase()).toContain(wallet.address.toLowerCase());
    await page.waitForFunction(
      (addr) => [...document.querySelectorAll('[data-testid=run-text]')].some((d) => (d.textContent ?? '').toLowerCase().includes(`approved by ${addr}`)),
      wallet.address.toLowerCase(),
      { timeout: 10_000 },
    );
    // The continuation run finishes: nothing is left to stop.
    await page.locator('[data-testid=chat-stop]').waitFor({ state: 'detached', timeout: 10_000 });
    await screenshot(page, 'demo-transfer-approved');
  }, 30_000);
});
