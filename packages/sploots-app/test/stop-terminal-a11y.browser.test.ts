/**
 * Stop and the terminal's streaming in headless Chromium against the real broker and web
 * server, with a scripted raw agent (PROTOCOL §9): Stop in the chat and Ctrl+C in the terminal
 * send `cancel`, the agent gets `client.cancel` and ends the run cancelled; the terminal streams a
 * reply as it arrives; an axe-core check of chat (with tool and approval cards), terminal and the
 * agent picker; the empty state and a narrow screen.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { TestSocket } from '@agent-bridge/testkit';
import { screenshot, terminalRows, typeInTerminal, browserStackFixture } from './browser.ts';
import { ScriptedRun, scriptedAgent, sleep } from './scripted-agent.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const app = browserStackFixture({ env: { HEARTBEAT_INTERVAL_MS: '500', HEARTBEAT_TIMEOUT_MS: '3000' } });
let page: Page;
const agents: TestSocket[] = [];

afterEach(() => {
  for (const a of agents.splice(0)) a.close();
});

async function agent(name: string): Promise<TestSocket> {
  const a = await scriptedAgent(app.stack.brokerUrl, name);
  agents.push(a);
  return a;
}

async function open(path: string, viewport?: { width: number; height: number }): Promise<void> {
  page = await app.newPage();
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(app.stack.webUrl + path);
  await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected', undefined, { timeout: 10_000 });
}

async function say(a: TestSocket, text: string): Promise<string> {
  await page.locator('[data-testid=chat-input]').fill(text);
  await page.locator('[data-testid=chat-input]').press('Enter');
  const msg = await a.next((f) => f.type === 'client.message' && (f.data as { text?: string })?.text === text, 10_000);
  return msg.clientId as string;
}

/** Stream words until the agent gets `client.cancel` for the run, then end it cancelled. */
async function streamUntilCancelled(a: TestSocket, run: ScriptedRun): Promise<{ cancel: Record<string, unknown>; sent: number }> {
  let sent = 0;
  const cancelled = a.next((f) => f.type === 'client.cancel' && f.runId === run.runId, 15_000);
  let got: Record<string, unknown> | undefined;
  void cancelled.then((f) => (got = f)).catch(() => undefined);
  while (!got && sent < 400) {
    run.text('m1', `word${sent} `);
    sent++;
    await sleep(30);
  }
  const cancel = await cancelled;
  run.finish({ type: 'cancelled' });
  return { cancel, sent };
}

/** axe-core in the page (evaluated over DevTools, so the page's CSP stays as it is). */
async function axeViolations(p: Page, include?: string): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  await p.evaluate(AXE);
  return p.evaluate(async (sel) => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(sel ? { include: [sel] } : document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  }, include);
}
const serious = (v: { impact: string }[]) => v.filter((x) => x.impact === 'serious' || x.impact === 'critical');

describe('Stop, terminal streaming, accessibility', () => {
  it('Stop in the chat: the agent gets client.cancel and the run ends cancelled', async () => {
    const a = await agent('stopper');
    await open('/chat/stopper');
    const clientId = await say(a, 'go on and on');
    const run = new ScriptedRun(a, clientId).start();
    const stop = page.locator('[data-testid=chat-stop]');
    const streaming = streamUntilCancelled(a, run);
    await stop.waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-testid=run-text]')?.textContent ?? '').includes('word3 '));
    await stop.click();
    const { cancel, sent } = await streaming;
    expect(cancel).toMatchObject({ type: 'client.cancel', clientId, runId: run.runId });
    await page.waitForSelector('[data-testid=run][data-status=cancelled]');
    expect(sent).toBeLessThan(400);
    expect(await page.getByText('Stopped.').count()).toBe(1);
    await stop.waitFor({ state: 'detached' });
    await screenshot(page, 'chat-stopped');
  }, 30_000);

  it('the terminal streams a reply as it arrives and Ctrl+C stops it', async () => {
    const a = await agent('default');
    await open('/terminal');
    await typeInTerminal(page, 'story');
    const msg = await a.next((f) => f.type === 'client.message' && (f.data as { text?: string })?.text === 'story', 10_000);
    const run = new ScriptedRun(a, msg.clientId as string).start();
    run.text('m1', 'Once upon a time ');
    await page.waitForFunction(() => [...document.querySelectorAll('.xterm-rows > div')].some((d) => (d.textContent ?? '').includes('Once upon a time')));
    run.text('m1', 'there was a bridge');
    await page.waitForFunction(() => [...document.querySelectorAll('.xterm-rows > div')].some((d) => (d.textContent ?? '').replace(/\u00a0/g, ' ').includes('Once upon a time there was a bridge')));
    // The streamed text continues one line; the prompt stays under it.
    const rows = await terminalRows(page);
    const at = rows.findIndex((r) => r.includes('Once upon a time there was a bridge'));
    expect(rows[at + 1]).toMatch(/^sploots> ?$/);
    const streaming = streamUntilCancelled(a, run);
    await page.locator('.terminal-host .xterm').click();
    await page.keyboard.press('Control+C');
    const { cancel } = await streaming;
    expect(cancel).toMatchObject({ type: 'client.cancel', runId: run.runId });
    await page.waitForFunction(() => [...document.querySelectorAll('.xterm-rows > div')].some((d) => (d.textContent ?? '').includes('(stopped)')));
    await screenshot(page, 'terminal-stopped');
  }, 30_000);

  it('axe: no serious or critical violations on the chat (cards, picker), the terminal and the empty state', async () => {
    const a = await agent('bank');
    await open('/chat/bank');
    const clientId = await say(a, 'transfer 5');
    const run = new ScriptedRun(a, clientId).start();
    run.text('m1', 'I would send **5** coins.');
    run.emit({ type: 'TOOL_CALL_START', toolCallId: 'tx', toolCallName: 'transfer' });
    run.emit({ type: 'TOOL_CALL_ARGS', toolCallId: 'tx', delta: '{"amount":5}', offset: 0 });
    run.emit({ type: 'TOOL_CALL_END', toolCallId: 'tx' });
    run.finish({ type: 'interrupt', interrupts: [{ id: 'ask', reason: 'approval', message: 'Send 5 coins?', toolCallId: 'tx' }] });
    await page.locator('[data-testid=approval-card] button').first().waitFor();
    // A second run, still streaming (aria-busy, the Stop button).
    const run2 = new ScriptedRun(a, clientId).start();
    run2.text('m2', 'Still typing');
    await page.locator('[data-testid=chat-stop]').waitFor();
    const chat = serious(await axeViolations(page));
    expect(chat, JSON.stringify(chat)).toEqual([]);
    await screenshot(page, 'axe-chat');
    run2.finish();

    await page.goto(`${app.stack.webUrl}/terminal`);
    await page.waitForSelector('.terminal-host .xterm-rows');
    const term = serious(await axeViolations(page));
    expect(term, JSON.stringify(term)).toEqual([]);

    await page.goto(`${app.stack.webUrl}/`);
    await page.waitForSelector('[data-testid=agent-picker]');
    const home = serious(await axeViolations(page));
    expect(home, JSON.stringify(home)).toEqual([]);
  }, 30_000);

  it('empty state offers words the demo agent answers; a narrow screen keeps the tabs and the sign-in note fits', async () => {
    await open('/chat', { width: 375, height: 700 });
    const suggestions = await page.locator('.chat-empty .suggestion').allTextContents();
    expect(suggestions).toEqual(['help', 'story', 'weather Oslo', 'transfer 5']);
    expect(await page.locator('.chat-empty').textContent()).not.toMatch(/hello/i);
    // The tabs are there and usable.
    const tabs = page.getByRole('navigation', { name: 'Views' }).getByRole('link');
    expect(await tabs.count()).toBe(3);
    for (const box of await Promise.all((await tabs.all()).map((t) => t.boundingBox()))) {
      expect(box && box.width > 0 && box.x >= 0 && box.x + box.width <= 375).toBe(true);
    }
    // No wallet: the sign-in note appears and stays on the screen.
    await page.getByRole('button', { name: 'Sign in with Ethereum' }).click();
    const note = page.locator('[data-testid=siwe-note]');
    await note.waitFor();
    const box = (await note.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(375);
    expect(await note.evaluate((el) => el.scrollWidth <= el.clientWidth + 1), 'the note is not cut off').toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(page, 'narrow-chat');
    await tabs.filter({ hasText: 'Terminal' }).click();
    await page.waitForURL(/\/terminal$/);
  }, 30_000);
});
