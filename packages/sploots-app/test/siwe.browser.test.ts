/**
 * Sign-In With Ethereum in headless Chromium against the real stack (broker, web server, demo
 * agent). The page gets an EIP-1193 provider whose `personal_sign` is answered by an ethers
 * Wallet in Node (the test process), exactly as a wallet extension would: hex in, signature out.
 */
import { describe, expect, it } from 'vitest';
import { getBytes, toUtf8String, Wallet, type HDNodeWallet } from 'ethers';
import type { Page } from 'playwright-core';
import { screenshot, typeInTerminal, waitConnected, waitForTerminalLine, browserStackFixture } from './browser.ts';

const app = browserStackFixture({ agent: true, env: { HEARTBEAT_INTERVAL_MS: '500', HEARTBEAT_TIMEOUT_MS: '3000' } });
let page: Page;

interface WalletLog {
  signed: string[];
}

/** A page whose `window.ethereum` is backed by `wallet` (or rejects signing, like a user would). */
async function openWithWallet(wallet: HDNodeWallet | undefined, opts: { reject?: boolean; chainId?: string } = {}): Promise<WalletLog> {
  page = await app.newPage();
  const log: WalletLog = { signed: [] };
  if (wallet) {
    await page.exposeFunction('__nodeWalletSign', async (hex: string, address: string) => {
      if (address.toLowerCase() !== wallet.address.toLowerCase()) throw new Error(`asked to sign for ${address}`);
      const bytes = getBytes(hex); // personal_sign: the message arrives as 0x-hex of its bytes
      log.signed.push(toUtf8String(bytes));
      return wallet.signMessage(bytes);
    });
    await page.addInitScript(
      ({ address, reject, chainId }) => {
        const sign = (window as unknown as { __nodeWalletSign: (h: string, a: string) => Promise<string> }).__nodeWalletSign;
        (window as unknown as { ethereum: unknown }).ethereum = {
          isTestWallet: true,
          async request({ method, params }: { method: string; params?: unknown[] }) {
            switch (method) {
              case 'eth_requestAccounts':
              case 'eth_accounts':
                return [address.toLowerCase()]; // wallets often answer in lower case
              case 'eth_chainId':
                return chainId;
              case 'personal_sign':
                if (reject) throw Object.assign(new Error('User rejected the request.'), { code: 4001 });
                return sign(params![0] as string, params![1] as string);
              default:
                throw Object.assign(new Error(`unsupported ${method}`), { code: 4200 });
            }
          },
        };
      },
      { address: wallet.address, reject: opts.reject ?? false, chainId: opts.chainId ?? '0x1' },
    );
  }
  await page.goto(app.stack.webUrl + '/');
  await waitConnected(page);
  return log;
}

const short = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;
const signInButton = () => page.getByRole('button', { name: 'Sign in with Ethereum' });

describe('Sign in with Ethereum', () => {
  it('signs in with the injected wallet: the status bar and the agent both see the address, sign-out undoes it', async () => {
    const wallet = Wallet.createRandom();
    const log = await openWithWallet(wallet);
    const clientId = await page.evaluate(
      () => (window as never as { sploots: { client: { session: { clientId: string } } } }).sploots.client.session.clientId,
    );

    await typeInTerminal(page, 'whoami');
    await waitForTerminalLine(page, 'anonymous — sign in with Ethereum to link a wallet');

    await signInButton().click();
    const shown = page.locator('[data-testid=siwe-address]');
    await shown.waitFor({ timeout: 10_000 });
    expect(await shown.textContent()).toBe(short(wallet.address));
    expect(await shown.getAttribute('title')).toBe(wallet.address);
    // The wallet was shown the EIP-4361 text for this origin.
    expect(log.signed).toHaveLength(1);
    expect(log.signed[0]).toContain(`${new URL(app.stack.webUrl).host} wants you to sign in with your Ethereum account:\n${wallet.address}`);
    expect(log.signed[0]).toContain('Sign in to Sploots (Agent Bridge)');
    await screenshot(page, 'siwe-signed-in');

    // Same session, upgraded in place; the demo agent sees the address on the next message.
    await typeInTerminal(page, 'whoami');
    await waitForTerminalLine(page, `address: ${wallet.address}`);
    const after = await page.evaluate(
      () => (window as never as { sploots: { client: { session: { clientId: string } } } }).sploots.client.session.clientId,
    );
    expect(after).toBe(clientId);

    // A reload keeps the signed-in state (the token carries addr).
    await page.reload();
    await waitConnected(page);
    await page.locator('[data-testid=siwe-address]').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInButton().waitFor();
    expect(await page.locator('[data-testid=siwe-address]').count()).toBe(0);
    await typeInTerminal(page, 'whoami');
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('.xterm-rows > div')].filter((d) =>
          (d.textContent ?? '').includes('anonymous — sign in with Ethereum to link a wallet'),
        ).length >= 2,
      undefined,
      { timeout: 10_000, polling: 50 },
    );
  }, 45_000);

  it('a wallet on a chain the bridge does not list still signs in (for the default chain)', async () => {
    const wallet = Wallet.createRandom();
    const log = await openWithWallet(wallet, { chainId: '0x89' });
    await signInButton().click();
    await page.locator('[data-testid=siwe-address]').waitFor({ timeout: 10_000 });
    expect(log.signed[0]).toContain('Chain ID: 1\n');
    // The first challenge (for chain 137) was refused with 400 siwe_chain_not_allowed, which
    // Chromium logs as a failed resource load: expected here, and only that one.
    const refused = app.problems.filter((p) => /status of 400/.test(p));
    expect(refused).toHaveLength(1);
    app.forgive((p) => refused.includes(p));
  }, 30_000);

  it('no wallet installed: a clear message, nothing else happens', async () => {
    await openWithWallet(undefined);
    await signInButton().click();
    const note = page.locator('[data-testid=siwe-note]');
    await note.waitFor();
    expect(await note.textContent()).toContain('No Ethereum wallet found');
    expect(await page.locator('[data-testid=siwe-address]').count()).toBe(0);
    await screenshot(page, 'siwe-no-wallet');
  }, 30_000);

  it('the user rejects the signature: told so, still anonymous, and can try again', async () => {
    const wallet = Wallet.createRandom();
    await openWithWallet(wallet, { reject: true });
    await signInButton().click();
    const note = page.locator('[data-testid=siwe-note]');
    await note.waitFor();
    expect(await note.textContent()).toContain('rejected');
    expect(await signInButton().isEnabled()).toBe(true);
    expect(await page.locator('[data-testid=siwe-address]').count()).toBe(0);
  }, 30_000);
});
