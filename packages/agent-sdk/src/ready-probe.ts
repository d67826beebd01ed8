/**
 * While the agent waits for its next redial step, the broker's `/readyz` (same host and port as
 * `/ws/agent`) is asked every second; a `200` — the broker is back, e.g. after a restart — brings
 * the redial forward to within `jitterMs` (docs/protocol.md, "Redial"). Without it an agent on its
 * 4-s or 8-s step after a broker restart stays away for up to that long while every client's
 * messages wait for it. A dial that still fails goes on with its next step (PROTOCOL §5); a
 * broker whose `/readyz` cannot be reached (a proxy that only routes `/ws/agent`) changes nothing.
 */
import { BrokerPath } from '@agent-bridge/common/protocol';

export const READY_PROBE_MS = 1000;
const READY_JITTER_MS = 250;

export class ReadyProbe {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: AbortController | undefined;

  constructor(private readonly opts: { intervalMs?: number; jitterMs?: number; timeoutMs: number }) {}

  /** Probe `endpoint`'s broker until stop(); `onReady(delayMs)` once, with when to redial. */
  start(endpoint: string, onReady: (delayMs: number) => void): void {
    this.stop();
    const url = readyzUrl(endpoint);
    if (!url) return;
    const tick = () => {
      this.timer = undefined;
      const ctl = new AbortController();
      this.inFlight = ctl;
      const timeout = setTimeout(() => ctl.abort(), this.opts.timeoutMs);
      void fetch(url, { signal: ctl.signal })
        .then(async (res) => {
          await res.arrayBuffer().catch(() => undefined);
          return res.status === 200;
        })
        .catch(() => false)
        .then((ok) => {
          clearTimeout(timeout);
          if (this.inFlight !== ctl) return;
          this.inFlight = undefined;
          if (ok) onReady(Math.floor(Math.random() * (this.opts.jitterMs ?? READY_JITTER_MS)));
          else this.schedule(tick);
        });
    };
    this.schedule(tick);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private schedule(tick: () => void): void {
    this.timer = setTimeout(tick, this.opts.intervalMs ?? READY_PROBE_MS);
    this.timer.unref();
  }
}

/** `ws(s)://host:port/…/ws/agent?…` → `http(s)://host:port/…/readyz` (no credentials, no query). */
export function readyzUrl(endpoint: string): string | undefined {
  try {
    const u = new URL(endpoint);
    u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    const path = u.pathname.replace(/\/+$/, '');
    u.pathname = (path.endsWith(BrokerPath.agent) ? path.slice(0, -BrokerPath.agent.length) : path) + BrokerPath.readyz;
    return u.toString();
  } catch {
    return undefined;
  }
}
