/**
 * The broker over stores that answer with Promises, as a shared store (Redis) will: every store
 * method of the memory implementations wrapped to resolve a microtask later. The broker must
 * behave the same: welcome, routing through pins and the wait queue, send / broadcast with seqs,
 * unknown clients, resume with replay, identity, expiry — the async seams are not only typed
 * async, they work async.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@agent-bridge/common';
import { memoryStores, type BrokerStores } from '../src/store/stores.ts';
import { AGENT_TOKEN, BASE_ENV, PROXY_TOKEN, agent, broker, client, type Frame } from './helpers.ts';

/** Registration calls stay synchronous; every other method answers through a resolved Promise. */
const SYNC = new Set(['subscribe', 'onRejected']);

function asyncly<T extends object>(target: T, calls: string[]): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const v = Reflect.get(t, key, receiver);
      if (typeof v !== 'function' || typeof key !== 'string' || SYNC.has(key)) return v;
      return (...args: unknown[]) => {
        calls.push(key);
        const r = (v as (...a: unknown[]) => unknown).apply(t, args);
        return Promise.resolve().then(() => r);
      };
    },
  });
}

function asyncStores(env: Record<string, string>, calls: string[]): BrokerStores {
  const mem = memoryStores(loadConfig({ ...BASE_ENV, AGENT_TOKEN, PROXY_TOKEN, ...env }));
  return Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, asyncly(v as object, calls)])) as unknown as BrokerStores;
}

const texts = (frames: Frame[]) => frames.filter((f) => f.type === 'message').map((f) => f.data.text);

describe('the broker over async stores', () => {
  it('routes, delivers with seqs, answers unknown clients and resumes, like over the memory stores', async () => {
    const calls: string[] = [];
    const env = { SESSION_TTL_MS: '5000' };
    const b = await broker(env, { stores: asyncStores(env, calls) });
    const alice = await client(b, 'alice');
    expect(alice.welcome).toMatchObject({ resumed: false, lastSeq: 0, agents: [] });

    // No agent yet: the message waits in the (async) wait queue, then goes to the first connection.
    alice.send({ type: 'message', id: 'c-1', data: { text: 'early' } });
    const echo = await agent(b);
    expect(echo.welcome.clients).toEqual([{ clientId: 'alice', address: null, connected: true }]);
    expect(await echo.next('client.message')).toMatchObject({ ref: 'c-1', clientId: 'alice', data: { text: 'early' } });
    expect(await alice.next((f) => f.type === 'system' && f.event === 'agent.connected')).toMatchObject({ seq: 1 });

    for (let i = 0; i < 5; i++) alice.send({ type: 'message', id: `m-${i}`, data: { text: `q${i}` } });
    for (let i = 0; i < 5; i++) expect(await echo.next('client.message')).toMatchObject({ ref: `m-${i}` });

    echo.send({ type: 'send', id: 'a-1', to: ['alice', 'ghost'], data: { text: 'one' } });
    expect(await echo.next('error')).toMatchObject({ code: 'unknown_client', clientIds: ['ghost'], ref: 'a-1' });
    echo.send({ type: 'broadcast', data: { text: 'two' } });
    echo.send({ type: 'broadcast', data: { text: 'three' } });
    expect(await alice.next('message')).toMatchObject({ seq: 2, data: { text: 'one' } });
    expect(await alice.next('message')).toMatchObject({ seq: 3, data: { text: 'two' } });
    expect(await alice.next('message')).toMatchObject({ seq: 4, data: { text: 'three' } });

    // Away, then back from seq 2: the rest is replayed in order.
    alice.ws.close(1001);
    expect(await echo.event('client.disconnected')).toMatchObject({ clientId: 'alice', resumable: true });
    echo.send({ type: 'send', to: 'alice', data: { text: 'while away' } });
    const back = await client(b, 'alice', { lastSeq: 2, epoch: b.epoch, address: '0x00000000000000000000000000000000000000aa' });
    expect(back.welcome).toMatchObject({ resumed: true, replayed: 3, lastSeq: 5 });
    expect(await echo.event('client.connected')).toMatchObject({ clientId: 'alice', resumed: true });
    expect(texts([await back.next('message'), await back.next('message'), await back.next('message')])).toEqual(['two', 'three', 'while away']);

    // Identity through the HTTP hop, then a normal close ends the session: expired once.
    const res = await fetch(`${b.url}/internal/clients/alice/identity`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${PROXY_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ address: null }),
    });
    expect(res.status).toBe(204);
    expect(await echo.event('client.signed_out')).toMatchObject({ clientId: 'alice' });
    back.ws.close(1000);
    expect(await echo.event('client.disconnected')).toMatchObject({ clientId: 'alice', resumable: false });
    expect(await echo.event('client.expired')).toMatchObject({ clientId: 'alice' });

    // Every seam was really called through its Promise-returning face.
    for (const m of ['getOrCreate', 'append', 'after', 'pick', 'offer', 'take', 'add', 'expire', 'current']) expect(calls).toContain(m);
  });
});
