/**
 * The Sploots app in headless Chromium against the real broker, web server and demo agent.
 * One browser for the file, a new context (fresh sessionStorage) per test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, type Stack } from '@agent-bridge/testkit';
import { ensureAppBuilt } from './build-once.ts';
import {
  launchBrowser,
  openPage,
  screenshot,
  terminalRows,
  typeInTerminal,
  waitConnected,
  waitForChatReply,
  waitForTerminalLine,
} from './browser.ts';

let stack: Stack;
let browser: Browser;
let context: BrowserContext | undefined;
let page: Page;
let problems: string[] = [];

const token = () => `t${Math.random().toString(36).slice(2, 10)}`;

async function open(path: string, opts: { noWebGL?: boolean } = {}): Promise<void> {
  ({ context, page, problems } = await openPage(browser));
  if (opts.noWebGL) {
    // As on a machine without a GPU or software GL: every WebGL context request fails.
    await page.addInitScript(() => {
      const original = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, type: string, ...rest: unknown[]) {
        if (/webgl/i.test(type)) return null;
        return (original as (...a: unknown[]) => unknown).call(this, type, ...rest);
      } as typeof original;
    });
  }
  await page.goto(stack.webUrl + path);
}

beforeAll(async () => {
  ensureAppBuilt();
  [stack, browser] = await Promise.all([
    startStack({ agent: true, env: { HEARTBEAT_INTERVAL_MS: '500', HEARTBEAT_TIMEOUT_MS: '3000' } }),
    launchBrowser(),
  ]);
}, 120_000);

afterEach(async () => {
  const seen = problems;
  problems = [];
  await context?.close();
  context = undefined;
  expect(seen, 'console errors or page errors').toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('Sploots app', () => {
  it('terminal: echo round trip, line editing, history and Ctrl+C', async () => {
    await open('/');
    await waitConnected(page);
    const t = token();
    await typeInTerminal(page, `echo ${t}`);
    await waitForTerminalLine(page, t);

    // ← moves the cursor and typing inserts there; ↑ recalls; Ctrl+C drops the line.
    const term = page.locator('.terminal-host .xterm');
    await term.click();
    await page.keyboard.type(`echo ${t}ac`);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type('b');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('B');
    await page.keyboard.press('Enter');
    await waitForTerminalLine(page, `${t}aBc`);
    await page.keyboard.type('echo never sent');
    await page.keyboard.press('Control+C');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter'); // the second-to-last… then back down: `echo <t>aBc` again
    await page.waitForFunction(
      (x) => [...document.querySelectorAll('.xterm-rows > div')].filter((d) => d.textContent?.replace(/\u00a0/g, ' ').trim() === x).length === 2,
      `${t}aBc`,
      { timeout: 10_000, polling: 50 },
    );
    const rows = await terminalRows(page);
    expect(rows.some((r) => r.includes('echo never sent^C'))).toBe(true);
    expect(rows.filter((r) => r.trim() === 'never sent')).toEqual([]);
    // The chat shows the same conversation.
    await waitForChatReply(page, `${t}aBc`);
    // Colours from the agent are rendered, not shown as escape codes.
    await typeInTerminal(page, 'help');
    await waitForTerminalLine(page, 'commands:');
    expect((await terminalRows(page)).join('\n')).not.toContain('[1m');
    // The lazy scene arrives (WebGL or the static fallback) without errors.
    await page.waitForSelector('[data-testid=scene][data-renderer]');
    await screenshot(page, 'home');
  }, 30_000);

  it('chat: Enter sends and the reply appears as plain text', async () => {
    await open('/chat');
    await waitConnected(page);
    expect(await page.locator('.terminal-host').count()).toBe(0);
    const t = token();
    await page.locator('[data-testid=chat-input]').fill(`echo ${t}`);
    await page.locator('[data-testid=chat-input]').press('Enter');
    await waitForChatReply(page, t);
    expect(await page.locator('[data-testid=chat-input]').inputValue()).toBe('');
    expect(await page.locator('.msg-out .msg-text').last().textContent()).toBe(`echo ${t}`);
    await page.locator('[data-testid=chat-input]').fill('help');
    await page.locator('[data-testid=chat-input]').press('Enter');
    await page.waitForFunction(() => [...document.querySelectorAll('.msg-in .msg-text')].some((d) => d.textContent?.startsWith('commands:')));
    const help = await page.locator('.msg-in .msg-text').last().textContent();
    expect(help).not.toContain('\x1b');
    expect(await page.locator('.msg-in time').count()).toBeGreaterThan(0);
    await screenshot(page, 'chat');
  }, 30_000);

  it('deep links: /terminal works on its own and an unknown path shows not-found', async () => {
    await open('/terminal');
    await waitConnected(page);
    expect(await page.locator('[data-testid=chat-list]').count()).toBe(0);
    const t = token();
    await typeInTerminal(page, `echo ${t}`);
    await waitForTerminalLine(page, t);
    await screenshot(page, 'terminal');

    await page.goto(stack.webUrl + '/no/such/view');
    await page.waitForSelector('[data-testid=not-found]');
    expect(await page.locator('[data-testid=not-found]').textContent()).toContain('/no/such/view');
    await screenshot(page, 'not-found');
    // In-app navigation from the not-found view.
    await page.getByRole('link', { name: 'Back to Sploots' }).click();
    await page.waitForSelector('.terminal-host .xterm');
    expect(new URL(page.url()).pathname).toBe('/');
  }, 30_000);

  it('reload keeps the conversation and the session', async () => {
    await open('/');
    await waitConnected(page);
    const before = token();
    await typeInTerminal(page, `echo ${before}`);
    await waitForTerminalLine(page, before);
    const clientId = await page.evaluate(() => (window as never as { sploots: { client: { session: { clientId: string } } } }).sploots.client.session.clientId);

    await page.reload();
    await waitConnected(page);
    await waitForTerminalLine(page, before); // the reply from before the reload is still there
    await waitForChatReply(page, before);
    const after = token();
    await typeInTerminal(page, `echo ${after}`);
    await waitForTerminalLine(page, after);
    const again = await page.evaluate(() => (window as never as { sploots: { client: { session: { clientId: string } } } }).sploots.client.session.clientId);
    expect(again).toBe(clientId);
    // resumed: no "messages may be missing" banner
    expect(await page.getByText('some messages may be missing').count()).toBe(0);
  }, 30_000);

  it('without WebGL the scene is a static creature, and nothing throws', async () => {
    await open('/', { noWebGL: true });
    await waitConnected(page);
    await page.waitForSelector('[data-testid=scene][data-renderer=static] svg');
    expect(await page.locator('canvas').count()).toBe(0);
    const t = token();
    await typeInTerminal(page, `echo ${t}`);
    await waitForTerminalLine(page, t);
    await screenshot(page, 'home-no-webgl');
  }, 30_000);

  it('the status bar shows the agent going offline and coming back', async () => {
    await open('/chat');
    await waitConnected(page);
    await stack.agent.stop();
    await page.waitForFunction(() => document.querySelector('[data-testid=agent-status]')?.textContent === 'agent offline', undefined, {
      timeout: 10_000,
      polling: 50,
    });
    await screenshot(page, 'agent-offline');
    await stack.agent.start();
    await waitConnected(page, 15_000);
    const t = token();
    await page.locator('[data-testid=chat-input]').fill(`echo ${t}`);
    await page.locator('[data-testid=chat-input]').press('Enter');
    await waitForChatReply(page, t);
  }, 30_000);

  // Last: it restarts the broker under everyone.
  it('a broker restart shows reconnecting and recovers', async () => {
    await open('/');
    await waitConnected(page);
    const sawReconnecting = page.waitForFunction(() => /reconnecting/.test(document.querySelector('[data-testid=connection]')?.textContent ?? ''), undefined, {
      timeout: 20_000,
      polling: 20,
    });
    const restart = stack.broker.restart();
    await sawReconnecting;
    await screenshot(page, 'reconnecting');
    await restart;
    await waitConnected(page, 20_000);
    const t = token();
    await typeInTerminal(page, `echo ${t}`);
    await waitForTerminalLine(page, t, 20_000);
  }, 45_000);
});
