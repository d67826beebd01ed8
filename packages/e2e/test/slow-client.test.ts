// A client that stops reading while the agent floods it must not grow any process without bound.
import { afterEach, expect, test } from 'vitest';
import { connectBrowser, connectRawAgent, registerClient, startStack, type Stack } from '@agent-bridge/testkit';
import { agentAndBrowser, resumePoint, texts } from './helpers.ts';

/**
 * Live JS memory of a service (heap in use + Buffers outside the heap), from its /metrics. RSS
 * is no use here: the allocator keeps freed pages, so RSS plateaus ~100 MB above baseline after
 * any large flood, held or not; heap + external grows only with what the process really holds.
 */
async function liveMiB(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)![1]);
  return (metric('agent_bridge_nodejs_heap_size_used_bytes') + metric('agent_bridge_nodejs_external_memory_bytes')) / 1048576;
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

test('a paused client while the agent sends tens of MB: bounded memory, 1013, honest resume', async () => {
  stack = await startStack({
    env: { MAILBOX_LIMIT: '50', SOCKET_BUFFER_BYTES: '262144', RESUME_BUFFER_BYTES: '2097152', SESSION_TTL_MS: '30000' },
  });
  const { agent, session, ws } = await agentAndBrowser(stack);
  // Stop reading: the kernel buffers fill, then the web server, then the broker's mailbox.
  (ws.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const before = { broker: await liveMiB(stack.brokerUrl), web: await liveMiB(stack.webUrl) };
  const chunk = 'x'.repeat(60_000);
  let peak = { broker: 0, web: 0 };
  for (let i = 0; i < 3400; i++) {
    // 3400 × 60 KB ≈ 200 MB of direct frames.
    agent.send({ type: 'send', to: session.clientId, data: { text: chunk, i } });
    if (i % 50 === 0) {
      await new Promise((r) => setTimeout(r, 20));
      peak = { broker: Math.max(peak.broker, await liveMiB(stack.brokerUrl)), web: Math.max(peak.web, await liveMiB(stack.webUrl)) };
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  peak = { broker: Math.max(peak.broker, await liveMiB(stack.brokerUrl)), web: Math.max(peak.web, await liveMiB(stack.webUrl)) };
  // Neither process held the 200 MB flood. Holding it would put ≥ 200 MiB in heap + external;
  // measured without holding: up to ~75 MiB of not-yet-collected garbage from parsing frames.
  const growth = { broker: peak.broker - before.broker, web: peak.web - before.web };
  expect(growth.broker, `live memory growth MiB ${JSON.stringify(growth)}`).toBeLessThan(120);
  expect(growth.web, `live memory growth MiB ${JSON.stringify(growth)}`).toBeLessThan(120);
  (ws.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const closed = await ws.waitClose(10000);
  expect(closed.code).toBe(1013);
  // Resume: either everything missing is replayed, or resumed:false says frames are gone.
  const point = resumePoint(ws);
  const again = await connectBrowser(stack.webUrl, session, point);
  const welcome = await again.next('welcome');
  if (welcome.resumed) {
    await expect.poll(() => texts(again.frames).length === welcome.replayed, { timeout: 10000, message: 'replay' }).toBe(true);
  } else {
    expect(welcome.replayed).toBe(0);
  }
  expect(welcome.resumed).toBe(false); // 200 MB cannot fit a 2 MiB resume buffer
});

test('broadcasts to a slow client are dropped first and reported with messages.dropped', async () => {
  stack = await startStack({ env: { MAILBOX_LIMIT: '20', SOCKET_BUFFER_BYTES: '65536' } });
  const agent = await connectRawAgent(stack.brokerUrl);
  await agent.next('welcome');
  const slowSession = await registerClient(stack.webUrl);
  const fastSession = await registerClient(stack.webUrl);
  const slow = await connectBrowser(stack.webUrl, slowSession);
  const fast = await connectBrowser(stack.webUrl, fastSession);
  await slow.next('welcome');
  await fast.next('welcome');
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  // 60 MB: loopback TCP buffers of a paused reader can absorb up to ~32 MB on this kernel
  // (tcp_rmem max), so a smaller flood would sometimes never back up into the broker at all.
  const N = 1500;
  const chunk = 'b'.repeat(40_000);
  // Paced at the speed of the fast client, which therefore loses nothing; the paused one falls behind.
  for (let i = 0; i < N; i += 50) {
    for (let j = i; j < i + 50; j++) agent.send({ type: 'broadcast', data: { text: chunk, i: j } });
    await expect.poll(() => fast.frames.filter((f) => f.type === 'message').length === i + 50, { timeout: 10000, message: 'fast client keeps up' }).toBe(true);
  }
  expect(fast.frames.some((f) => f.type === 'system' && f.event === 'messages.dropped')).toBe(false);
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  // Every broadcast is either delivered or named in a messages.dropped report (there may be
  // several: drops can start again after a report).
  const reports = () => slow.all((f) => f.type === 'system' && f.event === 'messages.dropped');
  const accounted = () => slow.all('message').length + reports().reduce((n, r) => n + Number(r.count), 0);
  await expect.poll(() => accounted() >= N, { timeout: 15000, message: 'slow client accounted' }).toBe(true);
  expect(accounted()).toBe(N);
  expect(reports().length).toBeGreaterThan(0);
  for (const r of reports()) expect(Number(r.toSeq) - Number(r.fromSeq) + 1).toBeGreaterThanOrEqual(Number(r.count));
  const ids = slow.frames.filter((f) => f.type === 'message').map((f) => (f.data as { i: number }).i);
  expect(ids).toEqual([...ids].sort((a, b) => a - b)); // what arrives keeps its order
  expect(slow.closed).toBeUndefined();
});
