/**
 * Rules docs/protocol.md states for the web server that no other test pinned down. Absences are
 * proven with a marker frame that must arrive after them, never by sleeping and counting.
 */
import { connectBrowser, connectRawAgent, registerClient, type Frame } from '@agent-bridge/testkit';
import { describe, expect, it } from 'vitest';
import { pipeFixture, rawRequest } from './helpers.ts';

const { broker, web, track, linked } = pipeFixture({ backoff: { initialMs: 100, maxMs: 200 } });

const isEvent = (event: string, clientId: string) => (f: Frame) => f.type === 'system' && f.event === event && f.clientId === clientId;

describe('documented web-server rules', () => {
  it('held frames are dropped when the browser leaves during an outage', async () => {
    const { proxy, w, agent, session, browser, welcome } = await linked();

    proxy.block();
    proxy.cut();
    await browser.event('bridge.reconnecting');
    browser.send({ type: 'message', id: 'held-1', data: 1 });
    browser.send({ type: 'message', id: 'held-2', data: 2 });
    browser.ws.terminate();
    // Let the web server see the browser go before the broker is reachable again.
    await new Promise<void>((resolve) => (browser.closed ? resolve() : browser.ws.once('close', () => resolve())));
    await agent.next(isEvent('client.disconnected', session.clientId));
    proxy.unblock();

    // The same session comes back on a new socket and sends a marker: it must be the first (and
    // only) message the agent gets from this client.
    const again = track(await connectBrowser(w.url, session, { lastSeq: welcome.lastSeq as number, epoch: welcome.epoch as string }));
    await again.next('welcome', 5000);
    again.send({ type: 'message', id: 'marker', data: 'm' });
    const first = await agent.next((f) => f.type === 'client.message' && f.clientId === session.clientId, 5000);
    expect(first.ref).toBe('marker');
  });

  it('a browser closing during an outage ends its session by SESSION_TTL_MS, not at once', async () => {
    const ttl = 1500;
    const { proxy, agent, session, browser } = await linked({ broker: { SESSION_TTL_MS: String(ttl) } });

    proxy.block();
    proxy.cut();
    await browser.event('bridge.reconnecting');
    // The broker saw a drop (resumable), not the browser's normal close, which cannot be passed on.
    const gone = await agent.next(isEvent('client.disconnected', session.clientId));
    expect(gone.resumable).toBe(true);
    const t0 = Date.now();
    browser.close(1000);
    await browser.waitClose();
    proxy.unblock();
    await agent.next(isEvent('client.expired', session.clientId), ttl + 5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(ttl - 200);
  });

  it('bodies under 1 KiB are not compressed; larger ones are', async () => {
    const b = await broker();
    const w = await web(b.wsUrl);
    // /api/me's 401 body is well under 1 KiB; the SPA's app bundle is over it.
    const small = await rawRequest(w.url, '/api/me', { headers: { 'Accept-Encoding': 'br, gzip' } });
    expect(small.status).toBe(401);
    expect(small.body.length).toBeLessThan(1024);
    expect(small.headers['content-encoding']).toBeUndefined();
    const large = await rawRequest(w.url, '/assets/app-abc123.js', { headers: { 'Accept-Encoding': 'br, gzip' } });
    expect(large.status).toBe(200);
    expect(large.headers['content-encoding']).toBe('br');
  });

  it('a client reconnecting through a different running web server resumes its session', async () => {
    const b = await broker();
    const w1 = await web(b.wsUrl);
    const w2 = await web(b.wsUrl);
    const agent = track(await connectRawAgent(b.url));
    await agent.next('welcome');
    const session = await registerClient(w1.url);
    const browser = track(await connectBrowser(w1.url, session));
    const welcome = await browser.next('welcome');
    agent.send({ type: 'send', to: session.clientId, data: 'seen' });
    const seen = await browser.next('message');
    browser.ws.terminate();
    await agent.next(isEvent('client.disconnected', session.clientId));
    agent.send({ type: 'send', to: session.clientId, data: 'missed-1' });
    agent.send({ type: 'send', to: session.clientId, data: 'missed-2' });

    const other = track(await connectBrowser(w2.url, session, { lastSeq: seen.seq as number, epoch: welcome.epoch as string }));
    expect(await other.next('welcome')).toMatchObject({ clientId: session.clientId, epoch: b.epoch, resumed: true, replayed: 2 });
    expect([(await other.next('message')).data, (await other.next('message')).data]).toEqual(['missed-1', 'missed-2']);
    expect(await agent.next(isEvent('client.connected', session.clientId))).toMatchObject({ resumed: true });
  });
});
