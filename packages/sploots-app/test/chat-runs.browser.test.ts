/**
 * Agent runs in the chat, in headless Chromium against the real broker and web server, with a
 * scripted raw agent streaming AG-UI events (PROTOCOL §9): a reply grows as it streams and is
 * rendered as markdown, tool cards, an approval round trip (the agent sees the answer and who
 * gave it), the agent picker (a thread per agent, presence), and a reload mid-reply that
 * continues the same reply exactly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { TestSocket } from '@agent-bridge/testkit';
import { screenshot, browserStackFixture } from './browser.ts';
import { ScriptedRun, scriptedAgent, sleep } from './scripted-agent.ts';

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

async function open(path: string): Promise<void> {
  page = await app.newPage();
  await page.goto(app.stack.webUrl + path);
  await page.waitForFunction(() => document.querySelector('[data-testid=connection]')?.textContent === 'connected', undefined, { timeout: 10_000 });
}

/** Type in the chat box and wait for the agent to get it; returns the client id. */
async function say(a: TestSocket, text: string): Promise<string> {
  await page.locator('[data-testid=chat-input]').fill(text);
  await page.locator('[data-testid=chat-input]').press('Enter');
  const msg = await a.next((f) => f.type === 'client.message' && (f.data as { text?: string })?.text === text, 10_000);
  return msg.clientId as string;
}

const runText = (p: Page) => p.evaluate(() => document.querySelector('[data-testid=run] [data-testid=run-text]')?.textContent ?? '');

describe('chat: agent runs', () => {
  it('a streamed reply grows as it arrives, is rendered as markdown, and is busy until it ends', async () => {
    const a = await agent('writer');
    await open('/chat/writer');
    const clientId = await say(a, 'write');
    const run = new ScriptedRun(a, clientId).start();
    const md = '# Streaming\n\nThis is **bold** and `code`.\n\n- one\n- two\n\n<img src=x onerror="window.__xss=1">[link](javascript:alert(1)) end.';
    // Sample the rendered text while it streams: it must grow in steps, not appear at once.
    const lengths: number[] = [];
    const sampling = (async () => {
      for (let i = 0; i < 60; i++) {
        lengths.push((await runText(page)).length);
        await sleep(40);
      }
    })();
    await run.type('m1', md, 6, 60);
    const busy = await page.locator('[data-testid=run]').getAttribute('aria-busy');
    run.endText('m1');
    run.finish();
    await sampling;
    expect(busy).toBe('true');
    await page.waitForSelector('[data-testid=run][data-status=finished][aria-busy=false]');
    const distinct = new Set(lengths.filter((n) => n > 0));
    expect(distinct.size, `text lengths seen: ${lengths.join(',')}`).toBeGreaterThanOrEqual(4);
    // Markdown rendered, never raw HTML, no javascript: link.
    const row = page.locator('[data-testid=run] .md');
    expect(await row.locator('h1').textContent()).toBe('Streaming');
    expect(await row.locator('strong').textContent()).toBe('bold');
    expect(await row.locator('code').first().textContent()).toBe('code');
    expect(await row.locator('li').count()).toBe(2);
    expect(await row.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    expect(await row.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await runText(page)).not.toContain('**');
    // The thread is a log; the finished row is no longer busy.
    expect(await page.locator('[role=log][data-testid=chat-list]').count()).toBe(1);
    await screenshot(page, 'chat-markdown');
  }, 30_000);

  it('a tool call card shows its name, arguments as they stream, then the result', async () => {
    const a = await agent('tools');
    await open('/chat/tools');
    const clientId = await say(a, 'weather');
    const run = new ScriptedRun(a, clientId).start();
    run.text('m1', 'Looking it up. ');
    run.emit({ type: 'TOOL_CALL_START', toolCallId: 't1', toolCallName: 'get_weather' });
    const args = JSON.stringify({ city: 'Oslo', units: 'metric' });
    run.emit({ type: 'TOOL_CALL_ARGS', toolCallId: 't1', delta: args.slice(0, 10), offset: 0 });
    const card = page.locator('[data-testid=tool-card][data-tool=get_weather]');
    await card.waitFor();
    await page.waitForFunction((s) => document.querySelector('[data-testid=tool-args]')?.textContent === s, args.slice(0, 10));
    expect(await card.locator('[data-testid=tool-status]').textContent()).toBe('preparing…');
    run.emit({ type: 'TOOL_CALL_ARGS', toolCallId: 't1', delta: args.slice(10), offset: 10 });
    run.emit({ type: 'TOOL_CALL_END', toolCallId: 't1' });
    await page.waitForSelector('[data-testid=tool-card][data-status=called]');
    expect(await card.locator('[data-testid=tool-args]').textContent()).toContain('"city": "Oslo"');
    expect(await card.locator('[data-testid=tool-status]').textContent()).toBe('running…');
    run.emit({ type: 'TOOL_CALL_RESULT', messageId: 'r1', toolCallId: 't1', content: JSON.stringify({ tempC: 12, sky: 'rainy' }) });
    run.text('m2', 'It is **12 °C** and rainy.');
    run.finish();
    await page.waitForSelector('[data-testid=tool-card][data-status=done]');
    expect(await card.locator('[data-testid=tool-result]').textContent()).toContain('"sky": "rainy"');
    expect(await card.locator('[data-testid=tool-status]').textContent()).toBe('done');
    await page.waitForSelector('[data-testid=run][data-status=finished]');
    await screenshot(page, 'chat-tool-card');
  }, 30_000);

  it('an approval card: Approve answers the interrupt, the agent sees the answer, the reply continues', async () => {
    const a = await agent('bank');
    await open('/chat/bank');
    const clientId = await say(a, 'transfer 5');
    const run = new ScriptedRun(a, clientId).start();
    run.text('m1', 'I would send 5 coins. ');
    run.emit({ type: 'TOOL_CALL_START', toolCallId: 'tx', toolCallName: 'transfer' });
    run.emit({ type: 'TOOL_CALL_ARGS', toolCallId: 'tx', delta: '{"amount":5}', offset: 0 });
    run.emit({ type: 'TOOL_CALL_END', toolCallId: 'tx' });
    run.finish({ type: 'interrupt', interrupts: [{ id: 'ask-1', reason: 'approval', message: 'Send 5 coins to the treasury?', toolCallId: 'tx' }] });
    const cardLoc = page.locator('[data-testid=approval-card]');
    await cardLoc.waitFor();
    expect(await cardLoc.textContent()).toContain('Send 5 coins to the treasury?');
    await screenshot(page, 'chat-approval');
    await cardLoc.getByRole('button', { name: 'Approve' }).click();
    const answer = await a.next((f) => f.type === 'client.message' && Array.isArray((f.data as { resume?: unknown })?.resume), 10_000);
    const data = answer.data as { runId: string; parentRunId: string; threadId: string; resume: { interruptId: string; status: string; payload: unknown }[] };
    expect(data.parentRunId).toBe(run.runId);
    expect(data.threadId).toBe(run.threadId);
    expect(data.resume).toEqual([{ interruptId: 'ask-1', status: 'resolved', payload: { approved: true } }]);
    expect(answer.clientId).toBe(clientId);
    await page.waitForSelector('[data-testid=approval-card][data-state=approved]');
    expect(await cardLoc.getByRole('button').count()).toBe(0);
    // The continuation run (the client chose its id) completes the tool card of the run that asked.
    const cont = Object.assign(new ScriptedRun(a, clientId, run.threadId), { runId: data.runId }) as ScriptedRun;
    cont.start({ parentRunId: run.runId });
    cont.emit({ type: 'TOOL_CALL_RESULT', messageId: 'r', toolCallId: 'tx', content: `approved by ${answer.address ?? `client ${clientId}`}` });
    cont.text('m2', 'Done: 5 coins sent.');
    cont.finish();
    await page.waitForSelector('[data-testid=tool-card][data-status=done]');
    expect(await page.locator('[data-testid=tool-result]').textContent()).toBe(`approved by client ${clientId}`);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=run-text]')].some((d) => d.textContent === 'Done: 5 coins sent.'));
    await screenshot(page, 'chat-approved');
  }, 30_000);

  it('the agent picker: a thread per agent, presence from the welcome and agent.connected/disconnected', async () => {
    const alpha = await agent('alpha');
    await open('/chat/alpha');
    const picker = page.locator('[data-testid=agent-picker]');
    await picker.locator('[data-agent=alpha][data-online=true]').waitFor();
    expect(await picker.locator('[data-agent=alpha]').getAttribute('aria-current')).toBe('page');
    const clientId = await say(alpha, 'hello alpha');
    alpha.send({ type: 'send', to: clientId, data: { text: 'alpha here' } });
    await page.waitForFunction(() => [...document.querySelectorAll('.msg-in .msg-text')].some((d) => d.textContent === 'alpha here'));

    // A second agent connects: it shows up online, without a reload.
    const beta = await agent('beta');
    await picker.locator('[data-agent=beta][data-online=true]').waitFor();
    await picker.locator('[data-agent=beta]').click();
    await page.waitForURL(/\/chat\/beta$/);
    expect(await page.locator('[data-testid=chat-list]').getAttribute('data-agent')).toBe('beta');
    expect(await page.getByText('alpha here').count()).toBe(0); // beta's thread is its own
    await say(beta, 'hello beta');
    beta.send({ type: 'send', to: clientId, data: { text: 'beta here' } });
    await page.waitForFunction(() => [...document.querySelectorAll('.msg-in .msg-text')].some((d) => d.textContent === 'beta here'));
    // alpha goes away: its presence turns off in the picker.
    alpha.close();
    await picker.locator('[data-agent=alpha][data-online=false]').waitFor({ timeout: 10_000 });
    await screenshot(page, 'chat-picker');
    // Back to alpha's thread: its messages are there, beta's are not.
    await picker.locator('[data-agent=alpha]').click();
    await page.waitForURL(/\/chat\/alpha$/);
    await page.getByText('alpha here').waitFor();
    expect(await page.getByText('beta here').count()).toBe(0);
    expect(await page.locator('[data-testid=agent-status]').textContent()).toBe('agent offline');
  }, 30_000);

  it('reload mid-reply continues the same reply, exactly', async () => {
    const a = await agent('teller');
    await open('/chat/teller');
    const clientId = await say(a, 'tell');
    const run = new ScriptedRun(a, clientId).start();
    const words = Array.from({ length: 120 }, (_, i) => `w${i}`).join(' ');
    const half = words.length >> 1;
    await run.type('m1', words.slice(0, half), 7, 15);
    await page.waitForFunction((n) => (document.querySelector('[data-testid=run-text]')?.textContent ?? '').length >= n, half);
    // A frame between the halves, so the bridge cannot fold the whole reply into one replayed
    // delta from offset 0: the first half must come from what the page kept.
    run.emit({ type: 'CUSTOM', name: 'tick', value: 1 });
    await sleep(150);
    const reloading = page.reload();
    // Keep streaming while the page is away: these frames wait in the session's resume buffer.
    await run.type('m1', words.slice(half), 7, 15);
    run.endText('m1');
    run.finish();
    await reloading;
    await page.waitForSelector('[data-testid=run][data-status=finished]', { timeout: 10_000 });
    expect(await page.locator('[data-testid=run]').count()).toBe(1); // the same reply, not a second one
    expect(await runText(page)).toBe(words);
    expect(await page.getByText('some messages may be missing').count()).toBe(0);
    await screenshot(page, 'chat-reload-continued');
  }, 30_000);
});
