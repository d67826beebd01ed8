/** One headless Chromium per test file (never downloaded: the system's /usr/bin/chromium), and the fixture hooks. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { REPO_ROOT } from '@agent-bridge/common';
import { startStack, type Stack, type StackOptions } from '@agent-bridge/testkit';
import { ensureAppBuilt } from './build-once.ts';

export const SCREENSHOTS = path.join(REPO_ROOT, 'test-artifacts', 'screenshots');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh context and page that records every console error and page error. */
export async function openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return { context, page, problems };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** The terminal's visible rows as text (xterm's DOM renderer). */
export function terminalRows(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.xterm-rows > div')].map((d) => (d.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()),
  );
}

/** Wait until a terminal row reads exactly `text` (an agent reply on its own line). */
export async function waitForTerminalLine(page: Page, text: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('.xterm-rows > div')].some((d) => (d.textContent ?? '').replace(/\u00a0/g, ' ').trim() === t),
    text,
    { timeout, polling: 50 },
  );
}

export async function waitForChatReply(page: Page, text: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('.msg-in .msg-text')].some((d) => d.textContent === t),
    text,
    { timeout, polling: 50 },
  );
}

export async function waitConnected(page: Page, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid=connection]')?.textContent === 'connected' &&
      document.querySelector('[data-testid=agent-status]')?.textContent === 'agent online',
    undefined,
    { timeout, polling: 50 },
  );
}

/** Type a line into the terminal and press Enter. */
export async function typeInTerminal(page: Page, line: string): Promise<void> {
  await page.locator('.terminal-host .xterm').click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

/**
 * Give the page an EIP-1193 `window.ethereum` whose `personal_sign` is answered by `sign` in Node
 * (an ethers Wallet in the test process), as a wallet extension would: hex in, signature out.
 * Call before `page.goto`.
 */
export async function installWallet(page: Page, address: string, sign: (hex: string) => Promise<string>, chainId = '0x1'): Promise<void> {
  await page.exposeFunction('__nodeWalletSign', (hex: string) => sign(hex));
  await page.addInitScript(
    ({ address, chainId }) => {
      const signer = (window as unknown as { __nodeWalletSign: (h: string) => Promise<string> }).__nodeWalletSign;
      (window as unknown as { ethereum: unknown }).ethereum = {
        async request({ method, params }: { method: string; params?: unknown[] }) {
          if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [address.toLowerCase()];
          if (method === 'eth_chainId') return chainId;
          if (method === 'personal_sign') return signer(params![0] as string);
          throw Object.assign(new Error(`unsupported ${method}`), { code: 4200 });
        },
      };
    },
    { address, chainId },
  );
}

/**
 * The hooks every browser test file starts with: the real stack and one Chromium for the file,
 * a fresh context per `newPage()`, and after each test its context closed and every console or
 * page error it recorded asserted away (`allow` forgives the ones a test provokes on purpose).
 */
export function browserStackFixture(opts: StackOptions = {}, allow: (problem: string) => boolean = () => false) {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let problems: string[] = [];
  beforeAll(async () => {
    ensureAppBuilt();
    [stack, browser] = await Promise.all([startStack(opts), launchBrowser()]);
  }, 120_000);
  afterEach(async () => {
    const seen = problems.filter((p) => !allow(p));
    problems = [];
    await context?.close();
    context = undefined;
    expect(seen, 'console errors or page errors').toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });
  return {
    get stack(): Stack {
      if (!stack) throw new Error('the stack starts in beforeAll');
      return stack;
    },
    /** Console and page errors the current page recorded so far. */
    get problems(): readonly string[] {
      return problems;
    },
    /** Forgive recorded problems a test provoked on purpose (in place: the page keeps recording). */
    forgive(match: (problem: string) => boolean): void {
      for (let i = problems.length - 1; i >= 0; i--) if (match(problems[i]!)) problems.splice(i, 1);
    },
    /** A fresh context and page (the previous one of this test is closed first). */
    async newPage(): Promise<Page> {
      await context?.close();
      const opened = await openPage(browser!);
      context = opened.context;
      problems = opened.problems;
      return opened.page;
    },
  };
}
