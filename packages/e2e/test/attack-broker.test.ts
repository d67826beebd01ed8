// The two broker crashes of issue 9, bounded: a real broker process with small budgets, the
// attack at a scale that would have held >100 MB before the fix, and the assertions that the
// broker stays alive, answers a bystander, and holds no more than a stated bound.
// The same scenarios at default settings: attack-broker-full.test.ts (ATTACK_FULL=1).
import { afterEach, expect, test } from 'vitest';
import { startStack, type Stack } from '@agent-bridge/testkit';
import {
  awaySessions,
  broadcastBig,
  brokerMetric,
  bystanderRoundTrip,
  liveBytes,
  parkForAbsentAgents,
  peakWhile,
  upstream,
} from './attack-broker-scenarios.ts';

const MiB = 1024 * 1024;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

test('sessions parking 60 KB messages for absent agents: refused over_capacity at the budget, broker alive and bounded', { timeout: 60_000 }, async () => {
  stack = await startStack({
    web: false,
    env: { WAIT_QUEUE_BUDGET_BYTES: String(4 * MiB), WAIT_QUEUE_CLIENT_BYTES: String(512 * 1024), SESSION_TTL_MS: '60000' },
  });
  const before = await liveBytes(stack.brokerUrl);
  // 40 sessions × 50 × 60 KB = 120 MB offered; before the fix all of it stayed in the broker.
  const work = parkForAbsentAgents(stack, { sessions: 40, messagesPerSession: 50, textBytes: 60_000, ips: ['198.51.100.1', '198.51.100.2'], concurrency: 4 });
  const peak = await peakWhile(stack.brokerUrl, work);
  const r = await work;
  expect(r.sent).toBe(2000);
  // Each client may hold 512 KiB (8 messages); once the 4 MiB budget is full the rest is over_capacity.
  expect(r.overCapacity).toBeGreaterThan(0);
  expect(r.agentUnavailable).toBeGreaterThan(0);
  expect(await brokerMetric(stack.brokerUrl, 'agent_bridge_wait_queue_bytes')).toBeLessThanOrEqual(4 * MiB);
  // Stated bound: live memory (heap + external) at most 64 MiB above where it started, at any sample.
  expect(peak - before).toBeLessThan(64 * MiB);
  expect(await bystanderRoundTrip(stack)).toBeLessThan(2000);
  expect((await fetch(`${stack.brokerUrl}/healthz`)).status).toBe(200);
});

test('60 KB broadcasts to 300 resumable sessions: held once, every session resumes in full, broker alive and bounded', { timeout: 60_000 }, async () => {
  stack = await startStack({ web: false, env: { RESUME_BUDGET_BYTES: String(16 * MiB), SESSION_TTL_MS: '60000' } });
  const ids = await awaySessions(stack, { sessions: 300, concurrency: 8 });
  const live = await upstream(stack, 'watcher');
  const before = await liveBytes(stack.brokerUrl);
  // 60 × 60 KB to 300 sessions: 1 GB of copies before the fix; shared, ~3.6 MB.
  const work = broadcastBig(stack, { broadcasts: 60, textBytes: 60_000 });
  const peak = await peakWhile(stack.brokerUrl, work);
  await work;
  // The connected watcher got every broadcast live.
  for (let i = 0; i < 60; i++) await live.next((f) => f.type === 'message' && f.data?.i === i, 10_000);
  // The agent's socket was cut at the end: once the watcher sees its name go, every away session
  // holds agent.disconnected too (the count below includes it).
  await live.next((f) => f.type === 'system' && f.event === 'agent.disconnected' && f.agent === 'loud', 10_000);
  const held = await brokerMetric(stack.brokerUrl, 'agent_bridge_resume_buffer_bytes');
  expect(held).toBeLessThan(8 * MiB);
  expect(await brokerMetric(stack.brokerUrl, 'agent_bridge_resume_evicted_frames_total')).toBe(0);
  // Stated bound: live memory at most 64 MiB above where it started, at any sample.
  expect(peak - before).toBeLessThan(64 * MiB);
  // A session that was away gets all 60 broadcasts, with agent.connected / agent.disconnected of "loud" around them.
  const back = await upstream(stack, ids[123]!, undefined, '?lastSeq=0');
  expect(back.all('welcome')[0]).toMatchObject({ resumed: true, replayed: 62 });
  expect(await bystanderRoundTrip(stack)).toBeLessThan(2000);
  expect((await fetch(`${stack.brokerUrl}/healthz`)).status).toBe(200);
});
