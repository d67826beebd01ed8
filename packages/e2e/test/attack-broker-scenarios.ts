/**
 * The two ways anonymous clients took the broker down (issue 9), as drivers against a real broker
 * process, shared by the bounded test (attack-broker.test.ts, small budgets) and the full run at
 * default settings (attack-broker-full.test.ts, ATTACK_FULL=1):
 *
 * - park: many sessions each park messages of ~64 KiB for agent names nobody serves. Before the
 *   fix the broker kept all of them (AGENT_QUEUE_LIMIT per client, no byte bound) and died of
 *   heap OOM at ~500 sessions.
 * - broadcast: an agent broadcasts ~60 KB texts to thousands of resumable sessions. Before the fix
 *   each session kept its own rendered copy (up to RESUME_BUFFER_BYTES each).
 *
 * Clients dial the broker as the web server would (PROXY_TOKEN, X-Client-Ip): the attack is on
 * the broker's memory, and the web server in between would only slow it down.
 */
import { expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { TestSocket, connectRawAgent, type Stack } from '@agent-bridge/testkit';

export const PROXY_TOKEN = 'dev_proxy_token';

/** Heap in use + Buffers outside the heap, from the broker's /metrics (what it really holds). */
export async function liveBytes(brokerUrl: string): Promise<number> {
  const text = await (await fetch(`${brokerUrl}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)![1]);
  return metric('agent_bridge_nodejs_heap_size_used_bytes') + metric('agent_bridge_nodejs_external_memory_bytes');
}

/** One sample of the broker's /metrics; `labels` as printed, e.g. `{code="over_capacity"}`. */
export async function brokerMetric(brokerUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${brokerUrl}/metrics`)).text();
  return Number(new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

/** Current and peak RSS of a process (Linux /proc; VmHWM is the high-water mark). */
export function rss(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** A client socket as the web server opens it. */
export async function upstream(stack: Stack, clientId: string, ip?: string, query = ''): Promise<TestSocket> {
  const headers: Record<string, string> = { Authorization: `Bearer ${PROXY_TOKEN}` };
  if (ip) headers['X-Client-Ip'] = ip;
  const ws = await TestSocket.open(`${stack.brokerWsUrl}/ws/client/${clientId}${query}`, { headers });
  await ws.next('welcome', 15_000);
  return ws;
}

/** Sample live memory while `work` runs; resolves with the peak seen. */
export async function peakWhile(brokerUrl: string, work: Promise<unknown>, everyMs = 100): Promise<number> {
  let peak = await liveBytes(brokerUrl);
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, await liveBytes(brokerUrl).catch(() => peak));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  try {
    await work;
  } finally {
    done = true;
    await sampler;
  }
  return peak;
}

/**
 * A bystander round trip: an echo agent and a session of its own. Resolves with the round-trip
 * time in ms; throws if the broker does not answer within `timeoutMs`.
 */
export async function bystanderRoundTrip(stack: Stack, timeoutMs = 10_000): Promise<number> {
  const agent = await connectRawAgent(stack.brokerUrl, { name: 'bystander' });
  try {
    await agent.next('welcome', timeoutMs);
    const me = await upstream(stack, `bystander-${Date.now()}`);
    try {
      const t0 = Date.now();
      me.send({ type: 'message', id: 'ping', agent: 'bystander', data: { text: 'ping' } });
      const m = await agent.next('client.message', timeoutMs);
      agent.send({ type: 'send', to: m.clientId, data: { text: 'pong' } });
      await me.next((f) => f.type === 'message' && f.data?.text === 'pong', timeoutMs);
      return Date.now() - t0;
    } finally {
      me.ws.terminate();
    }
  } finally {
    agent.ws.terminate();
  }
}

export interface ParkOptions {
  sessions: number;
  messagesPerSession: number;
  textBytes: number;
  /** X-Client-Ip values to spread the sessions over (the finding used a dozen addresses). */
  ips: string[];
  /** Sessions connected at once (each sends its burst, then goes away resumable). */
  concurrency: number;
}

export interface ParkResult {
  sent: number;
  overCapacity: number;
  agentUnavailable: number;
}

/** Scenario (a): sessions park messages for absent agent names. */
export async function parkForAbsentAgents(stack: Stack, o: ParkOptions): Promise<ParkResult> {
  const text = 'p'.repeat(o.textBytes);
  const result: ParkResult = { sent: 0, overCapacity: 0, agentUnavailable: 0 };
  let next = 0;
  const worker = async () => {
    for (let s = next++; s < o.sessions; s = next++) {
      const ws = await upstream(stack, `park-${s}-${Date.now()}`, o.ips[s % o.ips.length]);
      for (let i = 0; i < o.messagesPerSession; i++) {
        // Names nobody serves, a few per session (as the finding did: many absent names).
        ws.send({ type: 'message', id: `m${i}`, agent: `absent-${s}-${i % 5}`, data: { text, i } });
        result.sent++;
      }
      // Every message is answered (error) or held: wait for the socket to drain, then count.
      await expect.poll(() => ws.ws.bufferedAmount === 0, { timeout: 30_000, message: 'the burst to leave' }).toBe(true);
      // Until the broker has answered all it will answer (nothing new for 100 ms).
      while ((await ws.collectFor(100)).length > 0);
      result.overCapacity += ws.all((f) => f.type === 'error' && f.code === 'over_capacity').length;
      result.agentUnavailable += ws.all((f) => f.type === 'error' && f.code === 'agent_unavailable').length;
      ws.ws.terminate();
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return result;
}

export interface BroadcastOptions {
  sessions: number;
  broadcasts: number;
  textBytes: number;
  /** Sessions opened at once while setting up. */
  concurrency: number;
}

/** Scenario (b), setup: resumable sessions (connected once, then gone). Returns their ids. */
export async function awaySessions(stack: Stack, o: Pick<BroadcastOptions, 'sessions' | 'concurrency'>): Promise<string[]> {
  const ids = Array.from({ length: o.sessions }, (_, i) => `away-${i}-${Date.now()}`);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      const ws = await upstream(stack, ids[i]!);
      ws.ws.terminate();
      await ws.waitClose(10_000);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return ids;
}

/** Scenario (b): an agent broadcasts big texts to every session, paced by its socket's buffer. */
export async function broadcastBig(stack: Stack, o: Pick<BroadcastOptions, 'broadcasts' | 'textBytes'>): Promise<void> {
  const agent = await connectRawAgent(stack.brokerUrl, { name: 'loud' });
  try {
    await agent.next('welcome', 30_000);
    const text = 'b'.repeat(o.textBytes);
    for (let i = 0; i < o.broadcasts; i++) {
      agent.send({ type: 'broadcast', id: `b${i}`, data: { text, i } });
      if (agent.ws.bufferedAmount > 1 << 20) await expect.poll(() => agent.ws.bufferedAmount < 1 << 18, { timeout: 60_000, message: 'the agent socket to drain' }).toBe(true);
    }
    // The last broadcast stored (§8 accepted) before the agent goes: cutting it earlier could
    // reset the connection with broadcasts still unread by the broker.
    await agent.next((f) => f.type === 'accepted' && f.ref === `b${o.broadcasts - 1}`, 120_000);
  } finally {
    agent.ws.terminate();
  }
}
