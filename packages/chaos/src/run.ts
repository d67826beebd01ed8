/**
 * One chaos run (issue 12 item 3): the real processes, 2 SDK agents of one name, K browser-client
 * sessions exchanging numbered messages both ways, a seeded killer, then a drain and the verdict.
 *
 * Modes:
 * - `cluster`: 2 brokers + 2 web servers on Redis (own CLUSTER_PREFIX, keys deleted after), a TCP
 *   balancer in front of the web servers; kills are SIGKILL + restart of a broker, a web server or
 *   an agent.
 * - `single`: 1 broker (STATE_SNAPSHOT_PATH in a temp dir) + 1 web server; kills are a web server
 *   SIGKILL, an agent SIGKILL, or a broker SIGTERM + restart (the embedded mode promises a
 *   resume only across a SIGTERM: its state is in memory and in the snapshot written then).
 *
 * Everything listens on 127.0.0.1. One kill at a time: the killed process is restarted before the
 * next kill.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createBridgeClient, type BridgeClient, type WebSocketConstructor } from '@agent-bridge/browser-client';
import { clusterStack, pingRedis, SHARED_REDIS_URL, type ClusterStack, type ServiceProcess } from '@agent-bridge/testkit';
import type { AgentReport } from './agent-process.ts';
import { ChaosAgent } from './agents.ts';
import { Ledger, type Anomaly, type Stream, type Verdict } from './ledger.ts';
import { Random } from './random.ts';

export type Mode = 'cluster' | 'single';
export type KillKind = 'broker' | 'web' | 'agent';
export const KILL_KINDS: readonly KillKind[] = ['broker', 'web', 'agent'];

export interface ChaosOptions {
  mode: Mode;
  /** How long traffic and kills go on (ms). */
  durationMs: number;
  /** Browser-client sessions. */
  clients: number;
  /** Mean time between kills (each wait is uniform in 0.5×–1.5× of it). */
  killEveryMs: number;
  seed: number;
  /** At most this many kills (default: as many as fit in the duration). */
  maxKills?: number;
  /** What may be killed (default all three kinds). */
  kinds?: KillKind[];
  /** Each client sends, and the agent side pushes to each client, one message per this (ms; default 250). */
  messageEveryMs?: number;
  /**
   * How long the drain may take before what is missing counts as lost (ms; default 90 000: longer
   * than the longest redial wait of §5, 60 s + 20 %, so what is missing then is not just waiting
   * for a redial).
   */
  drainTimeoutMs?: number;
  /**
   * Single mode: how the broker is stopped (default SIGTERM, which the embedded mode survives
   * through its snapshot; SIGKILL shows what the checker reports when state is lost).
   */
  brokerSignal?: 'SIGTERM' | 'SIGKILL';
  /** Cluster mode's Redis (default the shared one; the run uses its own CLUSTER_PREFIX). */
  redisUrl?: string;
  /** Write every process's output there at the end (`broker-1.log`, `agent-1.log` …). */
  logsDir?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface KillRecord {
  /** ms since traffic started. */
  at: number;
  kind: KillKind;
  target: string;
  signal: 'SIGKILL' | 'SIGTERM';
  downMs: number;
  /** ms since traffic started, when the process was ready again. */
  restartedAt?: number;
  error?: string;
}

/** A lost, duplicated, reordered … message with the kills around it. */
export interface Finding extends Anomaly {
  clientId: string;
  /** ms since traffic started. */
  sentAtMs?: number;
  killBefore?: KillRecord;
  killAfter?: KillRecord;
}

export interface ChaosReport {
  mode: Mode;
  seed: number;
  clients: number;
  killEveryMs: number;
  messageEveryMs: number;
  /** Traffic and kills (ms). */
  durationMs: number;
  /** Drain until every sender's outbox was empty and every message accounted for (ms). */
  drainMs: number;
  drained: boolean;
  totalMs: number;
  kills: KillRecord[];
  killsByKind: Record<KillKind, number>;
  verdict: Verdict;
  findings: Finding[];
  /** Messages that arrived at the wrong client. */
  misrouted: number;
  /** Clients' `gap` events (resumed:false, new session, dropped broadcasts) by reason. */
  gaps: Record<string, number>;
  /** Clients' `error` events that named no message of theirs, by code. */
  clientErrors: Record<string, number>;
  /** Connection changes (agents' welcomes and closes, clients' status), ms since traffic started. */
  timeline: { at: number; who: string; what: string }[];
  /** Things that went wrong outside the message accounting (a client offline for good, an agent stopped …). */
  problems: string[];
  ok: boolean;
}

const AGENT_NAME = 'chaos';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface ClientState {
  index: number;
  client: BridgeClient;
  clientId: string;
  idToN: Map<string, number>;
  sentN: number;
  pushN: number;
  /** Which agent (index) the agent side's own messages to this client go through. */
  route: number;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? (() => undefined);
  const rng = new Random(opts.seed);
  const messageEveryMs = opts.messageEveryMs ?? 250;
  const kinds = opts.kinds ?? [...KILL_KINDS];
  const maxKills = opts.maxKills ?? Math.max(1, Math.floor(opts.durationMs / opts.killEveryMs));
  const t0 = Date.now();
  log(`chaos ${opts.mode}: seed ${opts.seed}, ${opts.clients} clients, ${opts.durationMs} ms, a kill every ~${opts.killEveryMs} ms (${kinds.join(', ')}), at most ${maxKills}`);

  const ledger = new Ledger();
  const problems: string[] = [];
  const gaps: Record<string, number> = {};
  const clientErrors: Record<string, number> = {};
  let misrouted = 0;
  const kills: KillRecord[] = [];
  const timeline: { at: number; who: string; what: string }[] = [];
  const note = (who: string, what: string) => {
    if (trafficStart > 0 && timeline.length < 100_000) timeline.push({ at: rel(performance.timeOrigin + performance.now()), who, what });
  };
  const clients: ClientState[] = [];
  const byClientId = new Map<string, ClientState>();
  let trafficStart = 0;
  /** The verdict is in: what the clean-up does is not a problem of the run. */
  let finished = false;
  const rel = (at: number) => Math.round(at - trafficStart);

  if (opts.mode === 'cluster') {
    const url = opts.redisUrl ?? SHARED_REDIS_URL;
    await pingRedis(url).catch((err: unknown) => {
      throw new Error(`cluster mode needs Redis at ${url}: ${String((err as Error)?.message ?? err)}`);
    });
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ab-chaos-'));
  const env: Record<string, string> = { HEARTBEAT_INTERVAL_MS: '500', HEARTBEAT_TIMEOUT_MS: '3000', RATE_LIMIT_HTTP_PER_MIN: '100000' };
  let stack: ClusterStack | undefined;
  const agents: ChaosAgent[] = [];
  try {
    stack =
      opts.mode === 'cluster'
        ? await clusterStack({ brokers: 2, webServers: 2, redisUrl: opts.redisUrl ?? SHARED_REDIS_URL, env })
        : await clusterStack({ redisUrl: null, brokers: 1, webServers: 1, env: { ...env, STATE_SNAPSHOT_PATH: path.join(tmp, 'broker-state.json') } });
    log(`stack up in ${Date.now() - t0} ms: brokers ${stack.brokerWsUrls.join(' ')}, web ${stack.webUrls.join(' ')}, front ${stack.frontUrl}${stack.redisUrl ? `, prefix ${stack.prefix}` : ''}`);

    // ---- agents
    const onReport = (label: string, r: AgentReport): void => {
      switch (r.ev) {
        case 'msg': {
          const st = byClientId.get(r.clientId);
          if (!st) {
            problems.push(`${label} got a message from an unknown client ${r.clientId}`);
            return;
          }
          if (r.c !== st.index) misrouted++;
          const first = !ledger.isDelivered('c2a', st.index, r.n);
          ledger.delivered('c2a', st.index, { n: r.n, at: r.at, id: r.id, redelivered: r.redelivered, via: label });
          if (first) ledger.sent('reply', st.index, r.n, r.at);
          return;
        }
        case 'error':
        case 'send_failed': {
          const m = r.ref ? /^([rp])\.(.+)\.(\d+)$/.exec(r.ref) : null;
          const st = m ? byClientId.get(m[2]!) : undefined;
          if (m && st) ledger.refused(m[1] === 'r' ? 'reply' : 'push', st.index, Number(m[3]), r.code);
          else problems.push(`${label}: ${r.ev} ${r.code} ${r.message}`);
          return;
        }
        case 'closed':
          note(label, `closed ${r.code}`);
          if (!r.willReconnect && !finished) problems.push(`${label} stopped for good (close ${r.code})`);
          return;
        case 'welcome':
          note(label, `welcome ${r.agentId}`);
          return;
        case 'status':
          return;
      }
    };
    const agentEnv = { AGENT_TOKEN: 'dev_token', CHAOS_HEARTBEAT_TIMEOUT_MS: env.HEARTBEAT_TIMEOUT_MS! };
    for (let i = 0; i < 2; i++) agents.push(new ChaosAgent({ index: i, brokerUrls: stack.brokerWsUrls, name: AGENT_NAME, env: agentEnv, onReport }));
    await Promise.all(agents.map((a) => a.start()));
    log(`agents up (${Date.now() - t0} ms)`);

    // ---- clients
    const frontUrl = stack.frontUrl;
    for (let i = 0; i < opts.clients; i++) {
      const client = createBridgeClient({
        baseUrl: frontUrl,
        WebSocketImpl: WebSocket as unknown as WebSocketConstructor,
        storage: null,
        backoff: { initialMs: 200, maxMs: 2000, jitter: 0.2 },
      });
      const st: ClientState = { index: i, client, clientId: '', idToN: new Map(), sentN: 0, pushN: 0, route: i % agents.length };
      clients.push(st);
      client.on('sent', (s) => {
        const n = (s.data as { n?: unknown } | null)?.n;
        if (typeof n === 'number') st.idToN.set(s.id, n);
      });
      client.on('message', (m) => {
        const d = m.data as { k?: unknown; c?: unknown; n?: unknown } | null;
        if ((d?.k !== 'reply' && d?.k !== 'push') || typeof d.n !== 'number') return;
        if (d.c !== i) misrouted++;
        ledger.delivered(d.k as Stream, i, { n: d.n, at: performance.timeOrigin + performance.now() });
      });
      client.on('accepted', (a) => {
        const n = st.idToN.get(a.ref);
        if (n !== undefined) ledger.accepted('c2a', i, n);
      });
      client.on('error', (e) => {
        const n = e.ref !== undefined ? st.idToN.get(e.ref) : undefined;
        if (n !== undefined) ledger.refused('c2a', i, n, e.code);
        else {
          // Not about a message (e.g. rate_limited for an `ack` frame): counted, not a failure.
          clientErrors[e.code] = (clientErrors[e.code] ?? 0) + 1;
          note(`client ${i}`, `error ${e.code}: ${e.message}`);
        }
      });
      client.on('gap', (g) => {
        note(`client ${i}`, `gap ${g.reason}`);
        gaps[g.reason] = (gaps[g.reason] ?? 0) + 1;
        log(`client ${i}: gap (${g.reason})`);
      });
      client.on('status', (s) => {
        note(`client ${i}`, s.state === 'reconnecting' ? `reconnecting (${s.cause})` : s.state);
        if (s.state === 'offline' && !finished) problems.push(`client ${i} went offline: ${s.reason}`);
      });
    }
    await Promise.all(
      clients.map(
        (st) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`client ${st.index} got no welcome in 20 s`)), 20_000);
            const off = st.client.on('welcome', () => {
              clearTimeout(timer);
              off();
              st.clientId = st.client.session!.clientId;
              byClientId.set(st.clientId, st);
              resolve();
            });
          }),
      ),
    );
    log(`clients up (${Date.now() - t0} ms)`);

    // ---- the agent side's own messages: through one agent per client; when it dies, the
    // other takes over and re-issues, with the same ids, every push not yet delivered.
    const issuePush = (st: ClientState, n: number): void => {
      for (let tries = 0; tries < agents.length; tries++) {
        if (agents[st.route]!.push({ op: 'push', clientId: st.clientId, c: st.index, n })) return;
        st.route = (st.route + 1) % agents.length;
      }
      // No agent process at all right now: re-issued at the next switch (and counted lost if never).
    };
    const moveRoutesOff = (dying: number): void => {
      const other = (dying + 1) % agents.length;
      for (const st of clients) {
        if (st.route !== dying) continue;
        st.route = other;
        for (const n of ledger.outstanding('push', st.index).sort((a, b) => a - b)) issuePush(st, n);
      }
    };

    // ---- traffic
    trafficStart = performance.timeOrigin + performance.now();
    const endAt = Date.now() + opts.durationMs;
    let trafficOn = true;
    const tick = setInterval(() => {
      if (!trafficOn) return;
      for (const st of clients) {
        const n = ++st.sentN;
        ledger.sent('c2a', st.index, n, performance.timeOrigin + performance.now());
        st.client.send({ c: st.index, n, text: `client ${st.index} message ${n}` }, { agent: AGENT_NAME });
        const p = ++st.pushN;
        ledger.sent('push', st.index, p, performance.timeOrigin + performance.now());
        issuePush(st, p);
      }
    }, messageEveryMs);

    // ---- the killer
    const procs = stack;
    const killOne = async (): Promise<void> => {
      const kind = rng.pick(kinds);
      const downMs = rng.int(100, 1000);
      const rec: KillRecord = { at: 0, kind, target: '', signal: 'SIGKILL', downMs };
      let restart: () => Promise<void>;
      if (kind === 'agent') {
        const idx = rng.int(0, agents.length - 1);
        const a = agents[idx]!;
        rec.target = a.label;
        rec.at = rel(performance.timeOrigin + performance.now());
        moveRoutesOff(idx);
        await a.kill();
        restart = () => a.start();
      } else {
        const pool: ServiceProcess[] = kind === 'broker' ? procs.brokers : procs.webServers;
        const p = rng.pick(pool);
        rec.target = p.spec.name;
        if (kind === 'broker' && opts.mode === 'single') rec.signal = opts.brokerSignal ?? 'SIGTERM';
        rec.at = rel(performance.timeOrigin + performance.now());
        await p.stop(rec.signal);
        restart = () => p.start();
      }
      kills.push(rec);
      log(`+${(rec.at / 1000).toFixed(1)} s kill #${kills.length}: ${rec.target} ${rec.signal}, back in ${downMs} ms`);
      await sleep(downMs);
      for (let attempt = 1; ; attempt++) {
        try {
          await restart();
          rec.restartedAt = rel(performance.timeOrigin + performance.now());
          return;
        } catch (err) {
          if (attempt >= 3) {
            rec.error = String(err).slice(0, 500);
            problems.push(`${rec.target} did not restart: ${rec.error}`);
            return;
          }
          await sleep(500);
        }
      }
    };
    while (kills.length < maxKills) {
      const wait = rng.int(Math.round(opts.killEveryMs * 0.5), Math.round(opts.killEveryMs * 1.5));
      if (Date.now() + wait >= endAt) break;
      await sleep(wait);
      await killOne();
    }
    await sleep(Math.max(0, endAt - Date.now()));
    trafficOn = false;
    clearInterval(tick);
    const durationMs = Math.round(performance.timeOrigin + performance.now() - trafficStart);
    log(`traffic stopped after ${durationMs} ms and ${kills.length} kills; draining`);

    // ---- drain: every sender's outbox empty, every message accounted for
    const drainStart = Date.now();
    const drainTimeoutMs = opts.drainTimeoutMs ?? 90_000;
    let drained = false;
    for (const p of stack.processes) if (!p.running) await p.start().catch((err) => problems.push(`${p.spec.name} not running for the drain: ${String(err).slice(0, 300)}`));
    for (const a of agents) if (!a.running) await a.start().catch((err) => problems.push(`${a.label} not running for the drain: ${String(err).slice(0, 300)}`));
    let lastState = '';
    while (Date.now() - drainStart < drainTimeoutMs) {
      const statuses = await Promise.all(agents.map((a) => a.status()));
      const clientPending = clients.reduce((s, c) => s + c.client.pending, 0);
      const agentPending = statuses.reduce((s, x) => s + (x?.pending ?? 1), 0);
      const outstanding = ledger.totalOutstanding();
      lastState = `client outboxes ${clientPending}, agent outboxes ${agentPending}, unaccounted messages ${outstanding}`;
      if (clientPending === 0 && agentPending === 0 && outstanding === 0 && statuses.every((x) => x?.connected)) {
        drained = true;
        break;
      }
      await sleep(250);
    }
    if (!drained) problems.push(`not drained after ${drainTimeoutMs} ms: ${lastState}`);
    // A quiet moment more, so a late duplicate still counts.
    await sleep(1500);
    const drainMs = Date.now() - drainStart;

    const verdict = ledger.verdict();
    const findings = verdict.anomalies.map((a): Finding => {
      const sentAtMs = a.sentAt !== undefined ? rel(a.sentAt) : undefined;
      const f: Finding = { ...a, clientId: clients[a.client]?.clientId ?? '', ...(sentAtMs !== undefined ? { sentAtMs } : {}) };
      if (sentAtMs !== undefined) {
        const before = kills.filter((k) => k.at <= sentAtMs).at(-1);
        const after = kills.find((k) => k.at > sentAtMs);
        if (before) f.killBefore = before;
        if (after) f.killAfter = after;
      }
      return f;
    });
    const killsByKind = { broker: 0, web: 0, agent: 0 } as Record<KillKind, number>;
    for (const k of kills) killsByKind[k.kind]++;
    const report: ChaosReport = {
      mode: opts.mode,
      seed: opts.seed,
      clients: opts.clients,
      killEveryMs: opts.killEveryMs,
      messageEveryMs,
      durationMs,
      drainMs,
      drained,
      totalMs: Date.now() - t0,
      kills,
      killsByKind,
      verdict,
      findings,
      misrouted,
      gaps,
      clientErrors,
      timeline,
      problems,
      ok: verdict.ok && misrouted === 0 && drained,
    };
    return report;
  } finally {
    finished = true;
    if (opts.logsDir) {
      mkdirSync(opts.logsDir, { recursive: true });
      for (const p of stack?.processes ?? []) writeFileSync(path.join(opts.logsDir, `${p.spec.name}.log`), p.logs());
      for (const a of agents) writeFileSync(path.join(opts.logsDir, `agent-${a.spec.index + 1}.log`), a.logs());
    }
    for (const st of clients) st.client.close();
    await Promise.all(agents.map((a) => a.kill().catch(() => undefined)));
    await stack?.close().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}
