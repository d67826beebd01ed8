import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { agent, broker, client, getJson, open, sleep, PROXY_TOKEN } from './helpers.ts';

describe('client lifecycle events to agents', () => {
  it('client.connected on arrival, client.disconnected {resumable:true} on a drop, client.expired SESSION_TTL_MS later', async () => {
    const b = await broker({ SESSION_TTL_MS: '300' });
    const a1 = await agent(b);
    const a2 = await agent(b, { name: 'other' });
    const c = await client(b, 'c1');
    for (const a of [a1, a2]) expect(await a.event('client.connected')).toMatchObject({ clientId: 'c1', address: null, resumed: false });
    c.ws.terminate();
    const t0 = Date.now();
    for (const a of [a1, a2]) expect(await a.event('client.disconnected')).toMatchObject({ clientId: 'c1', resumable: true });
    for (const a of [a1, a2]) expect(await a.event('client.expired')).toEqual({ type: 'system', event: 'client.expired', clientId: 'c1', ts: expect.any(String) });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect((await getJson(`${b.url}/healthz`)).body.sessions).toBe(0);
    // Unknown now: a send to it is unknown_client.
    a1.send({ type: 'send', id: 'late', to: 'c1', data: 1 });
    expect(await a1.next('error')).toMatchObject({ code: 'unknown_client', clientIds: ['c1'] });
  });

  it('a close with 1000 ends the session at once: resumable:false then client.expired', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    await a.event('client.connected');
    c.close(1000);
    expect(await a.event('client.disconnected')).toMatchObject({ clientId: 'c1', resumable: false });
    expect(await a.event('client.expired', 1000)).toMatchObject({ clientId: 'c1' });
    const again = await client(b, 'c1', { lastSeq: 0 });
    expect(again.welcome).toMatchObject({ resumed: false, lastSeq: 0 });
  });

  it('SESSION_TTL_MS=0 makes every disconnect final', async () => {
    const b = await broker({ SESSION_TTL_MS: '0' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    c.close(4000);
    expect(await a.event('client.disconnected')).toMatchObject({ resumable: false });
    await a.event('client.expired', 1000);
  });

  it('a reconnect within the TTL keeps the session: client.connected again, no client.expired', async () => {
    const b = await broker({ SESSION_TTL_MS: '400' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    a.send({ type: 'send', to: 'c1', data: 1 });
    const m = await c.next('message');
    c.close(4001);
    await a.event('client.disconnected');
    const back = await client(b, 'c1', { lastSeq: m.seq, epoch: b.epoch });
    expect(back.welcome).toMatchObject({ resumed: true, replayed: 0, lastSeq: m.seq });
    expect(await a.event('client.connected')).toMatchObject({ clientId: 'c1', resumed: true });
    await sleep(600);
    expect(a.all((f) => f.event === 'client.expired')).toHaveLength(0);
  });

  it('a second connection for a live clientId replaces the first with 4500 and fires neither event', async () => {
    const b = await broker();
    const a = await agent(b);
    const first = await client(b, 'c1');
    await a.event('client.connected');
    a.send({ type: 'send', to: 'c1', data: 'one' });
    const m1 = await first.next('message');
    const second = await client(b, 'c1', { lastSeq: m1.seq, epoch: b.epoch });
    expect(await first.waitClose()).toMatchObject({ code: 4500 });
    expect(second.welcome).toMatchObject({ resumed: true, replayed: 0, lastSeq: m1.seq });
    a.send({ type: 'send', to: 'c1', data: 'two' });
    expect(await second.next('message')).toMatchObject({ data: 'two', seq: m1.seq + 1 });
    await sleep(100);
    const lifecycle = a.all((f) => f.type === 'system').map((f) => f.event);
    expect(lifecycle).toEqual(['client.connected']);
    // Frames from the replaced socket are ignored; the new one works.
    second.send({ type: 'message', id: 'new', data: 1 });
    expect((await a.next('client.message')).ref).toBe('new');
  });

  it('a replacement with another X-Client-Address tells agents (client.authenticated / client.signed_out)', async () => {
    const b = await broker();
    const a = await agent(b);
    const addr = '0x52908400098527886E0F7030069857D2E4169EE7';
    await client(b, 'c1');
    await a.event('client.connected');
    const signedIn = await client(b, 'c1', { address: addr });
    expect(signedIn.welcome.address).toBe(addr);
    expect(await a.event('client.authenticated')).toMatchObject({ clientId: 'c1', address: addr });
    await client(b, 'c1');
    expect(await a.event('client.signed_out')).toMatchObject({ clientId: 'c1' });
    expect(a.all((f) => f.event === 'client.connected' || f.event === 'client.disconnected')).toHaveLength(1);
  });

  it('a replacement without lastSeq is a fresh stream that keeps the seq counter', async () => {
    const b = await broker();
    const a = await agent(b);
    const first = await client(b, 'c1');
    a.send({ type: 'send', to: 'c1', data: 1 });
    a.send({ type: 'send', to: 'c1', data: 2 });
    await first.next('message');
    await first.next('message');
    const second = await client(b, 'c1');
    expect(second.welcome).toMatchObject({ resumed: false, replayed: 0, lastSeq: 2 });
    a.send({ type: 'send', to: 'c1', data: 3 });
    expect((await second.next('message')).seq).toBe(3);
  });
});

describe('heartbeat', () => {
  it('pings, and terminates a silent client (no pongs): client.disconnected fires', async () => {
    const b = await broker({ HEARTBEAT_INTERVAL_MS: '50', HEARTBEAT_TIMEOUT_MS: '300' });
    const a = await agent(b);
    const silent = await client(b, 'mute', { autoPong: false });
    const alive = await client(b, 'alive');
    let pings = 0;
    alive.ws.on('ping', () => pings++);
    expect(silent.welcome.heartbeatMs).toBe(50);
    const closed = await silent.waitClose(3000);
    expect(closed.code).toBe(1006);
    expect(await a.event('client.disconnected')).toMatchObject({ clientId: 'mute', resumable: true });
    expect(pings).toBeGreaterThan(2);
    expect(alive.closed).toBeUndefined();
  });

  it('counts any frame as life', async () => {
    const b = await broker({ HEARTBEAT_INTERVAL_MS: '50', HEARTBEAT_TIMEOUT_MS: '400' });
    const chatty = await client(b, 'chatty', { autoPong: false });
    const stop = Date.now() + 1000;
    while (Date.now() < stop) {
      chatty.send({ type: 'ack', seq: 0 });
      await sleep(40);
    }
    expect(chatty.closed).toBeUndefined();
  });

  it('terminates a silent agent and tells clients its name is gone', async () => {
    const b = await broker({ HEARTBEAT_INTERVAL_MS: '50', HEARTBEAT_TIMEOUT_MS: '300' });
    const c = await client(b, 'c1');
    const a = await agent(b, { name: 'mute', autoPong: false });
    await c.event('agent.connected');
    expect((await a.waitClose(3000)).code).toBe(1006);
    expect(await c.event('agent.disconnected')).toMatchObject({ agent: 'mute' });
  });
});

describe('upgrade races', () => {
  it('a raw socket with the proxy token but a broken handshake does not crash the broker', async () => {
    const b = await broker();
    // No Sec-WebSocket-Key: ws refuses the handshake itself.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${b.url}/ws/client/c1`, { headers: { Authorization: `Bearer ${PROXY_TOKEN}`, Connection: 'Upgrade', Upgrade: 'websocket' } });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
    });
    expect(status).toBe(400);
    const c = await open(`${b.wsUrl}/ws/client/c2`, { headers: { Authorization: `Bearer ${PROXY_TOKEN}` } });
    expect((await c.next('welcome')).clientId).toBe('c2');
  });
});
