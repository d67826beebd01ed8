import { describe, expect, it } from 'vitest';
import { FRAME_OVERHEAD_BYTES, ResumeBudget } from '../src/resume-budget.ts';
import { ResumeBuffer } from '../src/resume-buffer.ts';
import { SeqMessageTemplate } from '../src/frames-out.ts';
import { agentWelcomeFrames } from '../src/client-list.ts';
import { AgentWaitQueues } from '../src/agent-wait-queue.ts';

const body = (text: string) => new SeqMessageTemplate({ id: 'i', from: 'a', data: { text }, ts: 't' });

describe('ResumeBudget', () => {
  it('charges a shared body once, however many buffers hold it, and releases it with the last', () => {
    const budget = new ResumeBudget(10_000_000);
    const bufs = Array.from({ length: 100 }, () => new ResumeBuffer(1000, 1_000_000, budget));
    const t = body('b'.repeat(10_000));
    bufs.forEach((b, i) => b.pushShared(i + 1, 'message', t));
    expect(budget.bytes).toBe(t.bodyBytes + 100 * FRAME_OVERHEAD_BYTES);
    expect(bufs[7]!.byteSize).toBe(t.frameBytes(8));
    expect(bufs[7]!.after(0).map((f) => f.body?.render(f.seq))).toEqual([t.render(8)]);
    for (const b of bufs.slice(0, 99)) b.dispose();
    expect(budget.bytes).toBe(t.bodyBytes + FRAME_OVERHEAD_BYTES);
    bufs[99]!.ack(100);
    expect(budget.bytes).toBe(0);
  });

  it('evicts from the biggest buffer first and levels equal ones evenly, to under 90 % of the budget', () => {
    const budget = new ResumeBudget(20_000);
    const big = new ResumeBuffer(1000, 1_000_000, budget);
    const small = new ResumeBuffer(1000, 1_000_000, budget);
    small.push(1, 'system', 's'.repeat(1000));
    for (let s = 1; s <= 30; s++) big.push(s, 'system', 'b'.repeat(1000));
    expect(budget.bytes).toBeLessThanOrEqual(20_000);
    expect(small.size).toBe(1);
    expect(big.canResumeAfter(0)).toBe(false);

    const budget2 = new ResumeBudget(50_000);
    const eq = Array.from({ length: 10 }, () => new ResumeBuffer(1000, 1_000_000, budget2));
    // 10 equal buffers of 5 × 1 KB, then one more frame each: ~55 KB, over the budget.
    for (let s = 1; s <= 6; s++) for (const b of eq) b.push(s, 'system', 'e'.repeat(1000));
    expect(budget2.bytes).toBeLessThanOrEqual(50_000);
    // Pushes after the eviction still land one by one, so sizes may differ by two, never more.
    const sizes = eq.map((b) => b.size);
    expect(Math.min(...sizes)).toBeGreaterThan(0);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(2);
  });
});

describe('agentWelcomeFrames', () => {
  const head = { agent: 'a', agentId: 'id', heartbeatMs: 5000 };
  it('pages a long list by bytes, every frame within the limit, every client once in order', () => {
    const clients = Array.from({ length: 2000 }, (_, i) => ({ clientId: `c-${i}-é`, address: i % 3 ? null : `0x${'a'.repeat(40)}`, connected: i % 2 === 0 }));
    const frames = agentWelcomeFrames(head, clients, 8192);
    const parsed = frames.map((f) => JSON.parse(f));
    expect(parsed[0]).toMatchObject({ type: 'welcome', more: true, heartbeatMs: 5000 });
    expect(parsed.slice(1).every((f) => f.type === 'clients')).toBe(true);
    expect(parsed.map((f) => f.more)).toEqual([...parsed.slice(0, -1).map(() => true), false]);
    for (const f of frames) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(8192);
    expect(parsed.flatMap((f) => f.clients)).toEqual(clients);
  });

  it('one frame, no `more`, when it fits (also when empty)', () => {
    expect(agentWelcomeFrames(head, [], 8192).map((f) => JSON.parse(f))).toEqual([{ type: 'welcome', agent: 'a', agentId: 'id', clients: [], heartbeatMs: 5000 }]);
  });
});

describe('AgentWaitQueues bytes', () => {
  it('counts bytes per client and in total, and gives them back when taken', () => {
    const q = new AgentWaitQueues(100, 60_000, () => undefined, { budget: 3000, perClient: 2000 });
    const e = (clientId: string, bytes: number) => ({ agent: 'x', clientId, ref: undefined, payload: '', bytes, sentAt: Date.now() });
    expect(q.offer(e('c1', 800))).toBe('ok');
    expect(q.offer(e('c1', 800))).toBe('ok');
    expect(q.offer(e('c1', 800))).toBe('full');
    expect(q.offer(e('c2', 800))).toBe('ok');
    expect(q.offer(e('c3', 800))).toBe('over_capacity');
    q.take('x');
    expect(q.bytes).toBe(0);
    expect(q.offer(e('c3', 800))).toBe('ok');
    q.clear();
  });
});
