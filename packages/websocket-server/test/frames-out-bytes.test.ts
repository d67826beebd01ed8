// What the broker writes, as its metrics count it and as the peers receive it, on real sockets:
// bytes out are the caller's own counts (templates, queued entries; issue 15 item 7), and the §8
// `accepted` that waits for the client's next frame (mailbox.ts, lazy) keeps its place before it.
import { describe, expect, it } from 'vitest';
import type { BrokerHandle } from '../src/server.ts';
import { AGENT_TOKEN, agent, broker, client, open, until } from './helpers.ts';

async function bytesOut(b: BrokerHandle, kind: 'agent' | 'client'): Promise<number> {
  const text = await (await fetch(`${b.url}/metrics`)).text();
  const m = new RegExp(`^agent_bridge_bytes_out_total\\{kind="${kind}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function received(ws: { on(e: 'message', f: (d: Buffer) => void): unknown }) {
  const got = { bytes: 0, texts: [] as string[] };
  ws.on('message', (d: Buffer) => {
    got.bytes += d.length;
    got.texts.push(d.toString());
  });
  return got;
}

describe('bytes out', () => {
  it('count exactly the UTF-8 bytes each peer received (messages rendered from templates, client.messages, accepted)', async () => {
    const b = await broker({ METRICS: 'on' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    const [agentBefore, clientBefore] = [await bytesOut(b, 'agent'), await bytesOut(b, 'client')];
    const atAgent = received(a.ws);
    const atClient = received(c.ws);
    for (let i = 0; i < 5; i++) c.send({ type: 'message', id: `c-${i}`, data: { text: `héllo ✓ ${'ü'.repeat(i * 100)}` } });
    await until(() => a.all('client.message').length === 5, 5000, 'five client.messages');
    for (let i = 0; i < 5; i++) a.send({ type: 'send', to: 'c1', data: { text: `→ ${'€'.repeat(i * 50)}` } });
    a.send({ type: 'broadcast', id: 'b-1', data: '📣' });
    await until(() => c.all('message').length === 6 && c.all('accepted').length === 5, 5000, 'six messages and five accepted');
    await until(() => a.all('accepted').length === 1, 5000, 'the broadcast accepted');
    expect(atClient.texts.some((t) => /[^\x00-\x7f]/.test(t))).toBe(true);
    expect((await bytesOut(b, 'agent')) - agentBefore).toBe(atAgent.bytes);
    expect((await bytesOut(b, 'client')) - clientBefore).toBe(atClient.bytes);
  });

  it('with accepted=inline too: a frame carrying accepteds (non-ASCII ids) is counted as it went', async () => {
    const b = await broker({ METRICS: 'on' });
    const a = await agent(b);
    const c = await client(b, 'c-inline', { acceptedInline: true });
    const before = await bytesOut(b, 'client');
    const atClient = received(c.ws);
    for (let i = 0; i < 6; i++) {
      c.send({ type: 'message', id: `é-${i}-✓`, data: i });
      const m = await a.next((f) => f.type === 'client.message' && f.data === i);
      a.send({ type: 'send', to: m.clientId, data: { text: `→ ${'€'.repeat(i * 30)}` } });
      await c.next((f) => f.type === 'message' && JSON.stringify(f.data).length > i * 30);
    }
    await until(() => atClient.texts.filter((t) => t.includes('"accepted":["é-')).length + c.all('accepted').length >= 6, 5000, 'six accepted');
    expect(atClient.texts.some((t) => t.endsWith('"]}') && t.includes(',"accepted":["'))).toBe(true);
    expect((await bytesOut(b, 'client')) - before).toBe(atClient.bytes);
  });
});

describe('bytes out to an agent socket with accepted=inline', () => {
  it('a client.message carrying the accepteds of its sends (non-ASCII ids) is counted as it went', async () => {
    const b = await broker({ METRICS: 'on' });
    const a = await open(`${b.wsUrl}/ws/agent?accepted=inline`, { headers: { Authorization: `Bearer ${AGENT_TOKEN}` } });
    await a.next('welcome');
    const c = await client(b, 'c1');
    const before = await bytesOut(b, 'agent');
    const atAgent = received(a.ws);
    c.send({ type: 'message', id: 'c-0', data: 0 });
    await a.next((f) => f.type === 'client.message' && f.data === 0);
    for (let i = 1; i <= 6; i++) {
      a.send({ type: 'send', id: `ä-${i}-✓`, to: 'c1', data: i });
      await c.next((f) => f.type === 'message' && f.data === i);
      c.send({ type: 'message', id: `c-${i}`, data: { text: `${'ö'.repeat(i * 20)}` } });
      await a.next((f) => f.type === 'client.message' && f.ref === `c-${i}`);
    }
    await until(() => atAgent.texts.filter((t) => t.includes('"accepted":["ä-')).length + a.all('accepted').length >= 6, 5000, 'six accepted');
    expect(atAgent.texts.some((t) => t.startsWith('{"type":"client.message"') && t.endsWith('"]}'))).toBe(true);
    expect((await bytesOut(b, 'agent')) - before).toBe(atAgent.bytes);
  });
});

describe('the client accepted, held for the next frame', () => {
  it('arrives before the answer that follows it, and on its own when nothing follows', async () => {
    const b = await broker();
    const a = await agent(b);
    const c = await client(b, 'c1');
    const order = received(c.ws);
    c.send({ type: 'message', id: 'c-1', data: 'echo me' });
    const m = await a.next('client.message');
    a.send({ type: 'send', to: m.clientId, data: 'echo' });
    await c.next('message');
    expect(order.texts.map((t) => JSON.parse(t).type)).toEqual(['accepted', 'message']);
    // Nothing follows this one: it still comes, on its own, without waiting for anything.
    c.send({ type: 'message', id: 'c-2', data: 'no answer' });
    expect(await c.next('accepted')).toEqual({ type: 'accepted', ref: 'c-2' });
  });
});
