/**
 * One chaos agent: a child process (forked by the chaos run, IPC channel to it) running the agent
 * SDK with its defaults (§8 acknowledgements on), given every broker URL.
 *
 * - Every client message is reported to the parent and answered with a reply whose id is derived
 *   from the message (`r.<clientId>.<n>`): if this process dies after replying but before its ack
 *   reached the broker, the next process gets the message again (`redelivered`) and its reply
 *   carries the same id, which the bridge de-duplicates (the SDK README's advice for handlers
 *   with effects). The report is written before the handler returns, so before the SDK acks.
 * - The parent's `push` orders become sends with ids `p.<clientId>.<n>` (the parent re-issues
 *   them through the other agent when this one dies; same id, so again no duplicate).
 *
 * Settings (env): CHAOS_BROKER_URLS (comma-separated), CHAOS_AGENT_NAME, AGENT_TOKEN.
 */
import { connectAgent, type ClientMessageEvent } from '@agent-bridge/agent-sdk';
import { createLogger } from '@agent-bridge/common';

export type ParentOrder = { op: 'push'; clientId: string; c: number; n: number } | { op: 'status'; q: number };

export type AgentReport =
  | { ev: 'welcome'; agentId: string }
  | { ev: 'msg'; clientId: string; c: number; n: number; id: string; redelivered: boolean; at: number }
  | { ev: 'error'; ref?: string; code: string; message: string }
  | { ev: 'send_failed'; ref: string; code: string; message: string }
  | { ev: 'status'; q: number; pending: number; connected: boolean }
  | { ev: 'closed'; code: number; willReconnect: boolean };

const now = (): number => performance.timeOrigin + performance.now();

function report(r: AgentReport): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(r, undefined, {}, () => resolve());
  });
}

const urls = (process.env.CHAOS_BROKER_URLS ?? 'ws://127.0.0.1:8080').split(',').filter(Boolean);
const agent = connectAgent({
  url: urls.length === 1 ? urls[0]! : urls.join(','),
  token: (process.env.AGENT_TOKEN ?? 'dev_token').split(',')[0]!,
  name: process.env.CHAOS_AGENT_NAME ?? 'chaos',
  heartbeatTimeoutMs: Number(process.env.CHAOS_HEARTBEAT_TIMEOUT_MS ?? 5000),
  backoff: { initialMs: 200, maxMs: 2000 },
  outboxLimit: 10_000,
  logger: createLogger('chaos-agent', { level: 'warn' }),
});

function sendOrReport(clientId: string, data: unknown, id: string): void {
  try {
    agent.send(clientId, data, { id });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    // Already held by this process (a re-issued push it still has): it goes out once anyway.
    if (e.code === 'invalid_frame' && /still waiting/.test(e.message ?? '')) return;
    void report({ ev: 'send_failed', ref: id, code: e.code ?? 'exception', message: String(e.message ?? err) });
  }
}

agent.on('welcome', (w) => void report({ ev: 'welcome', agentId: w.agentId }));
agent.on('message', async (msg: ClientMessageEvent) => {
  const d = msg.data as { c?: unknown; n?: unknown } | null;
  if (typeof d?.c !== 'number' || typeof d.n !== 'number') return;
  const at = now();
  sendOrReport(msg.clientId, { k: 'reply', c: d.c, n: d.n, text: `agent reply to client ${d.c} message ${d.n}` }, `r.${msg.clientId}.${d.n}`);
  await report({ ev: 'msg', clientId: msg.clientId, c: d.c, n: d.n, id: msg.id, redelivered: msg.redelivered === true, at });
});
agent.on('error', (e) => void report({ ev: 'error', ...(e.ref ? { ref: e.ref } : {}), code: e.code, message: e.message }));
agent.on('close', (c) => void report({ ev: 'closed', code: c.code, willReconnect: c.willReconnect }));

process.on('message', (o: ParentOrder) => {
  if (o.op === 'push') sendOrReport(o.clientId, { k: 'push', c: o.c, n: o.n, text: `agent message ${o.n} to client ${o.c}` }, `p.${o.clientId}.${o.n}`);
  else if (o.op === 'status') void report({ ev: 'status', q: o.q, pending: agent.pending, connected: agent.connected });
});
// The chaos run went away: so do we.
process.on('disconnect', () => process.exit(0));
