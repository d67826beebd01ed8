/**
 * The state snapshot through a real broker in this process (main.ts's path without the process):
 * the stores main.ts builds, persistOnClose writing them after close(), loadSnapshot building the
 * next broker's stores. Clients resume, waiting messages are delivered, and a restored session that
 * never comes back expires SESSION_TTL_MS after the start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, loadConfig } from '@agent-bridge/common';
import { loadSnapshot, persistOnClose } from '../src/snapshot.ts';
import { memoryStores } from '../src/store/stores.ts';
import { agent, BASE_ENV, broker, client, type Frame } from './helpers.ts';

const logger = createLogger('broker', { level: 'silent' });
const texts = (frames: Frame[]) => frames.filter((f) => f.type === 'message').map((f) => f.data.text);

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('a broker restarted from its state snapshot', () => {
  it('resumes a detached client with every frame, delivers a waiting message, and expires a session that never returns', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'snapshot-broker-'));
    const file = path.join(dir, 'state.json');
    const env = { SESSION_TTL_MS: '60000' };
    const stores = memoryStores(loadConfig({ ...BASE_ENV, ...env }));
    const first = persistOnClose(await broker(env, { stores }), stores, file, logger);

    const a = await agent(first);
    const alice = await client(first, 'alice');
    const carol = await client(first, 'carol');
    const bob = await client(first, 'bob');
    a.send({ type: 'send', id: 's-1', to: 'alice', data: { text: 'one' } });
    await alice.next('message');
    alice.close(4000);
    carol.close(4000);
    await a.next((f) => f.event === 'client.disconnected' && f.clientId === 'alice');
    a.send({ type: 'send', id: 's-2', to: 'alice', data: { text: 'two' } });
    a.send({ type: 'broadcast', id: 'b-1', data: { text: 'three' } });
    await a.next((f) => f.type === 'accepted' && f.ref === 'b-1');
    bob.send({ type: 'message', id: 'w-1', agent: 'absent', data: { text: 'waiting' } });
    await bob.next((f) => f.type === 'accepted' && f.ref === 'w-1');
    const lastSeq = Math.max(...alice.frames.filter((f) => typeof f.seq === 'number').map((f) => f.seq as number));
    const epoch = first.epoch;
    await first.close();

    // The next start: a short TTL, so that carol's restored session is seen to expire.
    const next = { SESSION_TTL_MS: '1500' };
    const restored = await loadSnapshot(file, loadConfig({ ...BASE_ENV, ...next }), logger);
    expect(restored).toBeDefined();
    const second = await broker(next, { stores: restored! });
    expect(second.epoch).toBe(epoch);

    const watcher = await agent(second);
    // The agent's welcome lists the restored sessions, none of them connected.
    expect(watcher.welcome.clients).toEqual(
      expect.arrayContaining(['alice', 'bob', 'carol'].map((clientId) => expect.objectContaining({ clientId, connected: false }))),
    );
    const back = await client(second, 'alice', { lastSeq, epoch });
    // Replayed: the two frames sent while she was away, and the watcher's agent.connected.
    expect(back.welcome).toMatchObject({ resumed: true, epoch, replayed: 3 });
    await back.next((f) => f.type === 'message' && f.data.text === 'three');
    expect(texts(back.frames)).toEqual(['two', 'three']);

    const absent = await agent(second, { name: 'absent' });
    expect(await absent.next('client.message')).toMatchObject({ clientId: 'bob', ref: 'w-1', data: { text: 'waiting' } });

    // Carol never comes back: her session expires SESSION_TTL_MS after the start (the sweeper).
    expect(await watcher.next((f) => f.event === 'client.expired' && f.clientId === 'carol', 5000)).toBeDefined();
    expect(watcher.all((f) => f.event === 'client.expired' && f.clientId === 'alice')).toEqual([]);
  });

  it('keeps the §8 records: a resend after the restart is accepted again and delivered to nobody a second time', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'snapshot-broker-'));
    const file = path.join(dir, 'state.json');
    const stores = memoryStores(loadConfig({ ...BASE_ENV }));
    const first = persistOnClose(await broker({}, { stores }), stores, file, logger);
    const a = await agent(first);
    const alice = await client(first, 'alice');
    a.send({ type: 'send', id: 's-1', to: 'alice', data: { text: 'once' } });
    await a.next((f) => f.type === 'accepted' && f.ref === 's-1');
    const lastSeq = (await alice.next('message')).seq as number;
    alice.send({ type: 'message', id: 'c-1', data: { text: 'hi' } });
    await alice.next((f) => f.type === 'accepted' && f.ref === 'c-1');
    await a.next('client.message');
    await first.close();

    const restored = await loadSnapshot(file, loadConfig({ ...BASE_ENV }), logger);
    const second = await broker({}, { stores: restored! });
    const b = await agent(second);
    const again = await client(second, 'alice', { lastSeq, epoch: first.epoch });
    expect(again.welcome).toMatchObject({ resumed: true });
    // Both resends (their accepted never arrived, say) are recognised: accepted, routed nowhere.
    b.send({ type: 'send', id: 's-1', to: 'alice', data: { text: 'once' } });
    expect(await b.next('accepted')).toMatchObject({ ref: 's-1' });
    again.send({ type: 'message', id: 'c-1', data: { text: 'hi' } });
    expect(await again.next('accepted')).toMatchObject({ ref: 'c-1' });
    b.send({ type: 'send', id: 's-2', to: 'alice', data: { text: 'next' } });
    expect(await again.next('message')).toMatchObject({ data: { text: 'next' } });
    expect(b.all('client.message')).toHaveLength(0);
  });
});
