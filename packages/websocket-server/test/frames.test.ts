import { describe, expect, it } from 'vitest';
import { agent, broker, client, sleep } from './helpers.ts';

describe('bad frames get an error frame, the socket stays open, nobody else notices', () => {
  it('from a client', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    await a.event('client.connected');
    c.send('{not json');
    expect(await c.next('error')).toMatchObject({ code: 'invalid_json' });
    c.send('[1,2]');
    expect(await c.next('error')).toMatchObject({ code: 'invalid_json' });
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await c.next('error')).toMatchObject({ code: 'invalid_json' });
    c.send({ type: 'dance', id: 'd1' });
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message', ref: 'd1', message: expect.stringContaining('unknown frame type') });
    c.send({ type: 'message', id: 'm1' });
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message', ref: 'm1', message: expect.stringContaining('data') });
    c.send({ type: 'message', agent: 'bad name', data: 1 });
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message' });
    c.send({ type: 'ack', seq: 'x' });
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message' });
    c.send({ data: 1 });
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message' });
    // Still open and working.
    c.send({ type: 'message', id: 'ok', data: 1 });
    expect((await a.next('client.message')).ref).toBe('ok');
    expect(a.all((f) => f.type !== 'welcome' && f.type !== 'system')).toHaveLength(1);
    expect(c.closed).toBeUndefined();
  });

  it('from an agent', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    a.send('nope');
    expect(await a.next('error')).toMatchObject({ code: 'invalid_json' });
    a.ws.send(Buffer.from('{}'), { binary: true });
    expect(await a.next('error')).toMatchObject({ code: 'invalid_json' });
    a.send({ type: 'shout', id: 'z' });
    expect(await a.next('error')).toMatchObject({ code: 'invalid_message', ref: 'z' });
    a.send({ type: 'send', id: 's1', data: 1 });
    expect(await a.next('error')).toMatchObject({ code: 'invalid_message', ref: 's1' });
    a.send({ type: 'send', to: [], data: 1 });
    expect(await a.next('error')).toMatchObject({ code: 'invalid_message' });
    a.send({ type: 'broadcast', id: 'b1' });
    expect(await a.next('error')).toMatchObject({ code: 'invalid_message', ref: 'b1' });
    a.send({ type: 'send', to: 'c1', data: 'fine' });
    expect((await c.next('message')).data).toBe('fine');
    expect(c.all('error')).toHaveLength(0);
  });

  it('answers data nested too deeply invalid_message with its ref (MAX_JSON_DEPTH), and the broker goes on', async () => {
    const b = await broker({ MAX_MESSAGE_BYTES: '65536' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    const deep = (d: number) => '['.repeat(d) + ']'.repeat(d);
    c.send(`{"type":"message","id":"deep","data":${deep(30000)}}`);
    expect(await c.next('error')).toMatchObject({ code: 'invalid_message', type: 'error', ref: 'deep' });
    a.send(`{"type":"broadcast","id":"deep","data":${deep(30000)}}`);
    expect(await a.next('error')).toMatchObject({ code: 'invalid_message', ref: 'deep' });
    c.send({ type: 'message', id: 'after', data: 1 });
    expect((await a.next('client.message')).ref).toBe('after');
  });

  it('ignores unknown optional fields', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    c.send({ type: 'message', data: 1, extra: true });
    expect((await a.next('client.message')).data).toBe(1);
    a.send({ type: 'send', to: 'c1', data: 2, priority: 'high' });
    expect((await c.next('message')).data).toBe(2);
  });

  it('closes a connection that sends a frame over MAX_MESSAGE_BYTES with 1009', async () => {
    const b = await broker({ MAX_MESSAGE_BYTES: '1024' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    c.send({ type: 'message', data: 'x'.repeat(2000) });
    expect((await c.waitClose()).code).toBe(1009);
    a.send({ type: 'broadcast', data: 'y'.repeat(2000) });
    expect((await a.waitClose()).code).toBe(1009);
  });
});

describe('client rate limit', () => {
  it('answers rate_limited with ref beyond the burst and forwards nothing of the excess', async () => {
    const b = await broker({ CLIENT_RATE_PER_SEC: '1', CLIENT_RATE_BURST: '5' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    for (let i = 0; i < 8; i++) c.send({ type: 'message', id: `m${i}`, data: i });
    const errs = [await c.next('error'), await c.next('error'), await c.next('error')];
    expect(errs.map((e) => [e.code, e.ref])).toEqual([
      ['rate_limited', 'm5'],
      ['rate_limited', 'm6'],
      ['rate_limited', 'm7'],
    ]);
    await sleep(100);
    expect(a.all('client.message').map((m) => m.ref)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    // The bucket refills (1 per second).
    await sleep(1000);
    c.send({ type: 'message', id: 'later', data: 1 });
    expect((await a.next((f) => f.type === 'client.message' && f.ref === 'later')).ref).toBe('later');
  });

  it('closes a client that keeps flooding with 1008', async () => {
    const b = await broker({ CLIENT_RATE_PER_SEC: '1', CLIENT_RATE_BURST: '3' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    for (let i = 0; i < 60; i++) c.send({ type: 'message', data: i });
    expect((await c.waitClose()).code).toBe(1008);
    expect(c.all('error').length).toBeGreaterThanOrEqual(29);
    expect(await a.event('client.disconnected')).toMatchObject({ clientId: 'c1', resumable: true });
  });
});
