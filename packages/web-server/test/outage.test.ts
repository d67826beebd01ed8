/**
 * Broker outages (PROTOCOL §5, INTERNAL-HOP.md): the browser socket stays open, gets
 * bridge.reconnecting, its frames are held and delivered in order, then bridge.reconnected.
 */
import { connectBrowser, connectRawAgent, registerClient, type TestSocket, type Frame } from '@agent-bridge/testkit';
import { describe, expect, it } from 'vitest';
import { pipeFixture } from './helpers.ts';

const { broker, web, proxyTo, track, linked } = pipeFixture();

const messagesFrom = (agent: TestSocket, clientId: string) =>
  agent.frames.filter((f) => f.type === 'client.message' && f.clientId === clientId).map((f) => f.ref);

describe('broker restart', () => {
  it('keeps the browser open, holds its frames and delivers them in order to the new broker', async () => {
    const first = await broker();
    const w = await web(first.wsUrl, { OUTAGE_BUFFER_FRAMES: '10' });
    const agent1 = track(await connectRawAgent(first.url));
    await agent1.next('welcome');
    const session = await registerClient(w.url);
    const browser = track(await connectBrowser(w.url, session));
    await browser.next('welcome');
    agent1.send({ type: 'send', to: session.clientId, data: 'before' });
    expect(await browser.next('message')).toMatchObject({ seq: 1 });

    await first.close();
    const reconnecting = await browser.event('bridge.reconnecting');
    expect(reconnecting).toMatchObject({ retryInMs: expect.any(Number), ts: expect.any(String) });
    expect(reconnecting.seq).toBeUndefined();
    for (const ref of ['o-1', 'o-2', 'o-3']) browser.send({ type: 'message', id: ref, data: ref });

    const second = await broker({ WEBSOCKET_SERVER_ADDR: `127.0.0.1:${first.port}` });
    expect(second.epoch).not.toBe(first.epoch);
    const agent2 = track(await connectRawAgent(second.url));
    await agent2.next('welcome');

    const back = await browser.event('bridge.reconnected', 10_000);
    expect(back).toEqual({
      type: 'system', event: 'bridge.reconnected', epoch: second.epoch, resumed: false, lastSeq: expect.any(Number), ts: expect.any(String),
    });
    await expect.poll(() => messagesFrom(agent2, session.clientId).length, { timeout: 5000 }).toBe(3);
    expect(messagesFrom(agent2, session.clientId)).toEqual(['o-1', 'o-2', 'o-3']);
    expect(browser.closed).toBeUndefined();
    expect(browser.frames.filter((f) => f.type === 'welcome')).toHaveLength(1);

    // New frames from the new broker continue after the reconnected lastSeq.
    agent2.send({ type: 'send', to: session.clientId, data: 'after' });
    const after = await browser.next('message');
    expect(after).toMatchObject({ data: 'after' });
    expect(after.seq as number).toBeGreaterThan(back.lastSeq as number);
  });
});

describe('upstream drop with the broker still up', () => {
  it('resumes the session: bridge.reconnected resumed:true, missed frames replayed, held frames delivered', async () => {
    const { b, proxy, agent, session, browser } = await linked();
    agent.send({ type: 'send', to: session.clientId, data: 'one' });
    await browser.next('message');

    proxy.block();
    proxy.cut();
    await browser.event('bridge.reconnecting');
    await agent.next((f: Frame) => f.type === 'system' && f.event === 'client.disconnected');
    agent.send({ type: 'send', to: session.clientId, data: 'missed' });
    browser.send({ type: 'message', id: 'held', data: 'held' });
    // Redials keep failing while blocked; each wait is announced.
    await browser.event('bridge.reconnecting');
    proxy.unblock();

    const back = await browser.event('bridge.reconnected', 5000);
    expect(back).toMatchObject({ epoch: b.epoch, resumed: true, lastSeq: expect.any(Number) });
    expect(await browser.next('message')).toMatchObject({ seq: 2, data: 'missed' });
    await expect.poll(() => messagesFrom(agent, session.clientId), { timeout: 5000 }).toContain('held');
    expect(browser.closed).toBeUndefined();
  });

  it('refuses frames beyond OUTAGE_BUFFER_FRAMES with agent_unavailable (ref = the frame id) and delivers the rest', async () => {
    const { proxy, agent, session, browser } = await linked({ web: { OUTAGE_BUFFER_FRAMES: '2' } });

    proxy.block();
    proxy.cut();
    await browser.event('bridge.reconnecting');
    for (const ref of ['h-1', 'h-2', 'h-3', 'h-4']) browser.send({ type: 'message', id: ref, data: ref });
    expect(await browser.next('error')).toMatchObject({ code: 'agent_unavailable', ref: 'h-3' });
    expect(await browser.next('error')).toMatchObject({ code: 'agent_unavailable', ref: 'h-4' });
    proxy.unblock();
    await browser.event('bridge.reconnected', 5000);
    // A marker sent after the reconnect reaches the agent after anything held: once it is there,
    // a refused frame that had slipped through would be there too.
    browser.send({ type: 'message', id: 'marker', data: 'marker' });
    await expect.poll(() => messagesFrom(agent, session.clientId), { timeout: 5000 }).toContain('marker');
    expect(messagesFrom(agent, session.clientId)).toEqual(['h-1', 'h-2', 'marker']);
  });

  it('accepts a browser while the broker is unreachable and gives it its welcome once the broker answers', async () => {
    const b = await broker();
    const proxy = await proxyTo(b.port);
    proxy.block();
    const w = await web(`ws://127.0.0.1:${proxy.port}`);
    const agent = track(await connectRawAgent(b.url));
    await agent.next('welcome');
    const session = await registerClient(w.url);
    const browser = track(await connectBrowser(w.url, session));
    expect(browser.frames.length === 0 || browser.frames[0]!.type === 'system').toBe(true);
    await browser.event('bridge.reconnecting');
    browser.send({ type: 'message', id: 'early', data: 1 });
    proxy.unblock();
    expect(await browser.next('welcome', 5000)).toMatchObject({ clientId: session.clientId, epoch: b.epoch });
    expect(browser.frames.some((f) => f.type === 'system' && f.event === 'bridge.reconnected')).toBe(false);
    await expect.poll(() => messagesFrom(agent, session.clientId), { timeout: 5000 }).toContain('early');
  });
});
