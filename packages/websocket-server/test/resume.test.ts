import { describe, expect, it } from 'vitest';
import { agent, broker, client, sleep, type Frame } from './helpers.ts';

/** An agent and a client that already received `n` messages (seq 1..n). */
async function setup(env: Record<string, string> = {}, n = 5) {
  const b = await broker(env);
  const a = await agent(b);
  const c = await client(b, 'c1');
  for (let i = 1; i <= n; i++) a.send({ type: 'send', to: 'c1', data: i });
  const got: Frame[] = [];
  for (let i = 1; i <= n; i++) got.push(await c.next('message'));
  expect(got.map((m) => m.seq)).toEqual([...Array(n).keys()].map((i) => i + 1));
  return { b, a, c };
}

async function drop(c: { ws: { terminate(): void } }, a: { event(e: string): Promise<Frame> }) {
  c.ws.terminate();
  await a.event('client.disconnected');
}

describe('resume', () => {
  it('welcome carries epoch, lastSeq, heartbeatMs, agents, address; a new session starts at seq 1', async () => {
    const b = await broker();
    await agent(b, { name: 'x' });
    const c = await client(b, 'fresh', { lastSeq: 7, epoch: b.epoch });
    expect(c.welcome).toEqual({
      type: 'welcome',
      clientId: 'fresh',
      epoch: b.epoch,
      resumed: false,
      replayed: 0,
      lastSeq: 0,
      heartbeatMs: 1000,
      agents: ['x'],
      address: null,
      acks: true,
    });
  });

  it('replays every frame after lastSeq, in order, right after welcome and before anything new', async () => {
    const { b, a, c } = await setup();
    await drop(c, a);
    const back = await client(b, 'c1', { lastSeq: 2, epoch: b.epoch });
    a.send({ type: 'send', to: 'c1', data: 'new' });
    expect(back.welcome).toMatchObject({ resumed: true, replayed: 3, lastSeq: 5 });
    const after: Frame[] = [];
    for (let i = 0; i < 4; i++) after.push(await back.next());
    expect(after.map((f) => [f.seq, f.data])).toEqual([
      [3, 3],
      [4, 4],
      [5, 5],
      [6, 'new'],
    ]);
    expect(back.frames[0]!.type).toBe('welcome');
  });

  it('keeps frames sent while the session is away (messages and system events) and replays them', async () => {
    const { b, a, c } = await setup({}, 1);
    await drop(c, a);
    a.send({ type: 'send', to: 'c1', data: 'while away' });
    a.send({ type: 'broadcast', data: 'everyone' });
    const other = await agent(b, { name: 'other' });
    other.close();
    await sleep(100);
    c.send({ type: 'message', id: 'lost', data: 1 }); // on a dead socket: goes nowhere
    const back = await client(b, 'c1', { lastSeq: 1 });
    expect(back.welcome).toMatchObject({ resumed: true, replayed: 4, lastSeq: 5 });
    const replay = [await back.next(), await back.next(), await back.next(), await back.next()];
    expect(replay.map((f) => f.data ?? f.event)).toEqual(['while away', 'everyone', 'agent.connected', 'agent.disconnected']);
    expect(replay.map((f) => f.seq)).toEqual([2, 3, 4, 5]);
  });

  it('says resumed:false for another epoch, and the seq counter goes on', async () => {
    const { b, a, c } = await setup({}, 3);
    await drop(c, a);
    const back = await client(b, 'c1', { lastSeq: 1, epoch: 'some-older-epoch' });
    expect(back.welcome).toMatchObject({ resumed: false, replayed: 0, lastSeq: 3, epoch: b.epoch });
    a.send({ type: 'send', to: 'c1', data: 'next' });
    expect(await back.next('message')).toMatchObject({ seq: 4, data: 'next' });
    expect(back.all('message')).toHaveLength(1);
  });

  it('says resumed:false when frames it needs were evicted (count bound), never a partial replay', async () => {
    const { b, a, c } = await setup({ RESUME_BUFFER_FRAMES: '3' }, 6);
    await drop(c, a);
    const ok = await client(b, 'c1', { lastSeq: 3 });
    expect(ok.welcome).toMatchObject({ resumed: true, replayed: 3 });
    ok.ws.terminate();
    await a.event('client.disconnected');
    const gone = await client(b, 'c1', { lastSeq: 2 });
    expect(gone.welcome).toMatchObject({ resumed: false, replayed: 0, lastSeq: 6 });
    await sleep(50);
    expect(gone.all('message')).toHaveLength(0);
  });

  it('evicts by bytes too', async () => {
    const b = await broker({ RESUME_BUFFER_BYTES: '1024' });
    const a = await agent(b);
    const c = await client(b, 'c1');
    await drop(c, a);
    for (let i = 0; i < 6; i++) a.send({ type: 'send', to: 'c1', data: `${i}`.padEnd(300, '.') });
    await sleep(100);
    expect((await client(b, 'c1', { lastSeq: 0 })).welcome).toMatchObject({ resumed: false, lastSeq: 6 });
  });

  it('ack frees frames: a later resume from before the ack says resumed:false, from the ack resumes', async () => {
    const { b, a, c } = await setup({}, 5);
    c.send({ type: 'ack', seq: 4 });
    await sleep(50);
    await drop(c, a);
    const r1 = await client(b, 'c1', { lastSeq: 4 });
    expect(r1.welcome).toMatchObject({ resumed: true, replayed: 1 });
    expect((await r1.next('message')).seq).toBe(5);
    r1.ws.terminate();
    await a.event('client.disconnected');
    const r2 = await client(b, 'c1', { lastSeq: 3 });
    expect(r2.welcome).toMatchObject({ resumed: false, replayed: 0 });
  });

  it('says resumed:false for a lastSeq beyond the session\'s, and treats a malformed lastSeq or epoch as absent', async () => {
    const { b, a, c } = await setup({}, 2);
    await drop(c, a);
    expect((await client(b, 'c1', { lastSeq: 9 })).welcome).toMatchObject({ resumed: false, lastSeq: 2 });
    const r = await client(b, 'c1', { lastSeq: 'abc' });
    expect(r.welcome).toMatchObject({ resumed: false });
    const r2 = await client(b, 'c1', { lastSeq: 2, epoch: '' });
    expect(r2.welcome).toMatchObject({ resumed: true, replayed: 0 });
  });

  it('error frames carry no seq and are never replayed', async () => {
    const { b, a, c } = await setup({}, 1);
    c.send('oops');
    const err = await c.next('error');
    expect(err.seq).toBeUndefined();
    await drop(c, a);
    const back = await client(b, 'c1', { lastSeq: 0 });
    expect(back.welcome).toMatchObject({ resumed: true, replayed: 1 });
    await sleep(50);
    expect(back.frames.map((f) => f.type)).toEqual(['welcome', 'message']);
  });
});
