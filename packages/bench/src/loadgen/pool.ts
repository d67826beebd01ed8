/**
 * The load generator's population of clients and what it counts: echoes (with latency),
 * broadcasts (with delivery latency), reconnects, drops and errors. One instance per process.
 */
import { Histogram, nowUs, type LatencySummary } from '../histogram.ts';
import type { BenchClient, ClientFactory, ClientHooks } from './client.ts';
import { StreamTracker } from './streams.ts';

export interface WindowCounters {
  echoes: number;
  broadcasts: number;
  errors: Record<string, number>;
  dropped: number;
  latency: LatencySummary;
}

interface PerClient {
  inFlight: number;
  broadcasts: number;
  reconnectedAtUs: number;
  resumed: boolean | undefined;
  probeEchoedAtUs: number;
}

/** Where a reconnect storm stands, as the load generator sees it (times since t0, in ms). */
export interface StormStatus {
  clients: number;
  reconnected: number;
  resumed: number;
  open: number;
  probesEchoed: number;
  lastReconnectMs: number;
  lastResumeMs: number | null;
  lastEchoMs: number;
  /** When the clients were back, ms after t0: the 10th, 50th and 90th percentile (the timeline's shape). */
  reconnectPctMs: { p10: number; p50: number; p90: number } | null;
}

export class Pool implements ClientHooks {
  clients: BenchClient[] = [];
  private per: PerClient[] = [];
  private hist = new Histogram();
  private win = { echoes: 0, broadcasts: 0, dropped: 0, errors: {} as Record<string, number> };
  totals = { echoSent: 0, echoReceived: 0, broadcasts: 0, dropped: 0, errors: {} as Record<string, number> };
  /** When the latest broadcast arrived (µs, CLOCK_MONOTONIC). */
  private lastBroadcastUs = 0;
  /** While true, every echo triggers the next send on that client. */
  private echoing = false;
  private echoPayload = '';
  private echoWaiters: (() => void)[] = [];
  /** The stream scenario's replies (AG-UI run events). */
  readonly streams = new StreamTracker();

  constructor(private factory: ClientFactory) {}

  /** Connect `n` more clients, at most `concurrency` at a time. */
  async connect(n: number, concurrency: number, deadlineMs: number): Promise<{ connected: number; failed: number; ms: number; firstError?: string }> {
    const t0 = performance.now();
    const start = this.clients.length;
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const worker = async () => {
      while (next < n && performance.now() - t0 < deadlineMs) {
        const i = start + next++;
        const c = this.factory(i, this);
        this.per[i] = { inFlight: 0, broadcasts: 0, reconnectedAtUs: 0, resumed: undefined, probeEchoedAtUs: 0 };
        try {
          await c.connect();
          this.clients[i] = c;
        } catch (err) {
          failed++;
          firstError ??= err instanceof Error ? err.message : String(err);
          void c.close();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
    this.clients = this.clients.filter(Boolean);
    this.per = this.clients.map((c) => this.per[c.index]!);
    this.clients.forEach((c, i) => ((c as { index: number }).index = i));
    return { connected: this.clients.length - start, failed, ms: performance.now() - t0, firstError };
  }

  async closeAll(): Promise<void> {
    const all = this.clients.splice(0);
    this.per = [];
    for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((c) => c.close()));
  }

  // ---------------------------------------------------------------- hooks

  onData(client: BenchClient, data: any, bytes: number): void {
    const t = nowUs();
    const p = this.per[client.index];
    if (!p || !data || typeof data !== 'object') return;
    if (typeof data.type === 'string') {
      this.streams.onEvent(client, data, bytes);
    } else if (data.e === 1) {
      this.hist.record(t - data.t);
      this.win.echoes++;
      this.totals.echoReceived++;
      p.inFlight--;
      if (this.echoing) this.sendEcho(client);
      else if (this.totals.echoReceived >= this.totals.echoSent) for (const w of this.echoWaiters.splice(0)) w();
    } else if (typeof data.b === 'number') {
      this.hist.record(t - data.t);
      this.win.broadcasts++;
      this.totals.broadcasts++;
      p.broadcasts++;
      this.lastBroadcastUs = t;
    } else if (data.probe === 1) {
      if (!p.probeEchoedAtUs) p.probeEchoedAtUs = t;
    }
  }

  onReconnected(client: BenchClient, resumed: boolean): void {
    const p = this.per[client.index];
    if (!p) return;
    p.reconnectedAtUs = nowUs();
    p.resumed = resumed;
    this.streams.onReconnected(client, resumed);
  }

  onDropped(_client: BenchClient, count: number): void {
    this.win.dropped += count;
    this.totals.dropped += count;
  }

  onError(_client: BenchClient, code: string): void {
    this.win.errors[code] = (this.win.errors[code] ?? 0) + 1;
    this.totals.errors[code] = (this.totals.errors[code] ?? 0) + 1;
  }

  // ---------------------------------------------------------------- windows

  /** Counters since the previous mark; starts a new window. */
  mark(): WindowCounters {
    const out = { ...this.win, latency: this.hist.summary() };
    this.hist = new Histogram();
    this.win = { echoes: 0, broadcasts: 0, dropped: 0, errors: {} };
    return out;
  }

  // ---------------------------------------------------------------- echo

  private sendEcho(c: BenchClient): void {
    this.per[c.index]!.inFlight++;
    this.totals.echoSent++;
    c.send({ e: 1, t: nowUs(), p: this.echoPayload });
  }

  /** `clients` clients each keep `window` echoes in flight until echoStop(). */
  echoStart(clients: number, window: number, padding: number): number {
    this.echoPayload = 'x'.repeat(padding);
    this.totals.echoSent = 0;
    this.totals.echoReceived = 0;
    this.totals.errors = {};
    this.echoing = true;
    const used = this.clients.slice(0, clients);
    for (const c of used) for (let w = 0; w < window; w++) this.sendEcho(c);
    return used.length;
  }

  /** Stop sending; wait (bounded) for the echoes still in flight. */
  async echoStop(drainMs: number): Promise<{ sent: number; received: number; lost: number; errors: Record<string, number> }> {
    this.echoing = false;
    if (this.totals.echoReceived < this.totals.echoSent) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, drainMs);
        this.echoWaiters.push(() => (clearTimeout(t), resolve()));
      });
    }
    const { echoSent: sent, echoReceived: received } = this.totals;
    return { sent, received, lost: sent - received, errors: { ...this.totals.errors } };
  }

  // ---------------------------------------------------------------- broadcast

  /** Total broadcasts received by all clients, and by the slowest one. */
  broadcastCounts(): { total: number; min: number; dropped: number; lastAtUs: number } {
    let min = Infinity;
    for (const p of this.per) min = Math.min(min, p.broadcasts);
    return { total: this.totals.broadcasts, min: min === Infinity ? 0 : min, dropped: this.totals.dropped, lastAtUs: this.lastBroadcastUs };
  }

  // ---------------------------------------------------------------- storm

  /** Forget earlier reconnects; from now on record when each client is usable again. */
  stormArm(): void {
    for (const p of this.per) {
      p.reconnectedAtUs = 0;
      p.resumed = undefined;
      p.probeEchoedAtUs = 0;
    }
  }

  /** Each client sends one probe now (queued by the client while its path is down). */
  stormProbe(): void {
    for (const c of this.clients) c.send({ probe: 1, t: nowUs() });
  }

  stormStatus(t0Us: number): StormStatus {
    let reconnected = 0;
    let resumed = 0;
    let open = 0;
    let echoed = 0;
    let lastRe = 0;
    let lastResume = 0;
    let lastEcho = 0;
    const back: number[] = [];
    this.clients.forEach((c, i) => {
      const p = this.per[i]!;
      if (c.open) open++;
      if (p.reconnectedAtUs) {
        reconnected++;
        back.push(p.reconnectedAtUs - t0Us);
        lastRe = Math.max(lastRe, p.reconnectedAtUs - t0Us);
        if (p.resumed) {
          resumed++;
          lastResume = Math.max(lastResume, p.reconnectedAtUs - t0Us);
        }
      }
      if (p.probeEchoedAtUs) {
        echoed++;
        lastEcho = Math.max(lastEcho, p.probeEchoedAtUs - t0Us);
      }
    });
    const n = this.clients.length;
    return {
      clients: n,
      reconnected,
      resumed,
      open,
      probesEchoed: echoed,
      lastReconnectMs: lastRe / 1000,
      lastResumeMs: resumed === n && n > 0 ? lastResume / 1000 : null,
      lastEchoMs: lastEcho / 1000,
      reconnectPctMs: percentiles(back),
    };
  }
}

function percentiles(us: number[]): StormStatus['reconnectPctMs'] {
  if (us.length === 0) return null;
  us.sort((a, b) => a - b);
  const at = (q: number) => Math.round(us[Math.min(us.length - 1, Math.floor(q * us.length))]! / 1000);
  return { p10: at(0.1), p50: at(0.5), p90: at(0.9) };
}
