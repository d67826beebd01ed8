/**
 * A browser-like client of Agent Bridge: `POST /api/clients`, then `/ws/:clientId?token=…`
 * through the web server; redials with lastSeq/epoch if its own socket drops.
 */
import WebSocket from 'ws';
import { ACCEPTED_INLINE, ACCEPTED_QUERY, Backoff } from '@agent-bridge/common/protocol';
import type { BenchClient, ClientHooks } from './client.ts';

const NO_REDIAL = new Set([1000, 1008, 1009]);

/**
 * BENCH_CLIENT_META=1: every message carries a trace of the client's own, so the bridge starts
 * none and both sides of an on/off comparison carry the same `_meta` bytes on every hop: what is
 * left of the difference is the instrumentation code alone (docs/performance.md).
 */
const CLIENT_META = process.env.BENCH_CLIENT_META === '1' ? { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } : undefined;

export class ProjectClient implements BenchClient {
  private ws: WebSocket | undefined;
  private session: { clientId: string; token: string } | undefined;
  private queue: string[] = [];
  private ready = false;
  private closed = false;
  private redialing = false;
  /** Dropped on purpose (drop()): the close handler must not schedule its own redial. */
  private dropping = false;
  private lastSeq = 0;
  private epoch: string | undefined;
  private backoff = new Backoff();

  private nextId = 0;

  /** `ids`: every message carries an id (`c-<n>`, as the browser client sends it), so the bridge answers `accepted` (§8). */
  constructor(readonly index: number, private hooks: ClientHooks, private webUrl: string, private readonly ids = true) {}

  get open(): boolean {
    return this.ready;
  }

  async connect(): Promise<void> {
    const res = await fetch(`${this.webUrl}/api/clients`, { method: 'POST' });
    if (res.status !== 201) throw new Error(`POST /api/clients → ${res.status} ${await res.text()}`);
    this.session = (await res.json()) as { clientId: string; token: string };
    await this.dial();
  }

  private dial(): Promise<void> {
    const u = new URL(`/ws/${this.session!.clientId}`, this.webUrl.replace(/^http/, 'ws'));
    u.searchParams.set('token', this.session!.token);
    // As the browser client does with its ids (§8): the `accepted`s ride on the next frame.
    if (this.ids) u.searchParams.set(ACCEPTED_QUERY, ACCEPTED_INLINE);
    if (this.epoch !== undefined) {
      u.searchParams.set('lastSeq', String(this.lastSeq));
      u.searchParams.set('epoch', this.epoch);
    }
    const ws = new WebSocket(u, { perMessageDeflate: false });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      let welcomed = false;
      ws.on('message', (raw: Buffer) => {
        const f = JSON.parse(raw.toString());
        switch (f.type) {
          case 'message':
            if (typeof f.seq === 'number') this.lastSeq = f.seq;
            this.hooks.onData(this, f.data, raw.length);
            break;
          case 'welcome': {
            const redial = this.redialing;
            this.epoch = f.epoch;
            this.lastSeq = f.lastSeq ?? this.lastSeq;
            this.ready = true;
            this.redialing = false;
            welcomed = true;
            this.flush();
            if (redial) this.hooks.onReconnected(this, f.resumed === true);
            resolve();
            break;
          }
          case 'system':
            if (typeof f.seq === 'number') this.lastSeq = f.seq;
            if (f.event === 'bridge.reconnected') {
              if (f.epoch) this.epoch = f.epoch;
              this.hooks.onReconnected(this, f.resumed === true);
            } else if (f.event === 'messages.dropped') this.hooks.onDropped(this, Number(f.count) || 0);
            break;
          case 'error':
            this.hooks.onError(this, String(f.code));
            break;
        }
      });
      ws.on('error', (err) => {
        if (!welcomed) reject(err);
      });
      ws.on('close', (code) => {
        this.ready = false;
        if (!welcomed) reject(new Error(`closed ${code} before welcome`));
        if (this.closed || this.dropping || NO_REDIAL.has(code) || code >= 4500) return;
        this.redialing = true;
        setTimeout(() => this.redial(), this.backoff.next());
      });
    });
  }

  private redial(): void {
    if (this.closed) return;
    this.dial().then(
      () => this.backoff.reset(),
      () => undefined, // the close handler schedules the next attempt
    );
  }

  drop(awayMs: number): void {
    if (!this.ready || this.closed || this.dropping) return;
    this.dropping = true;
    this.ready = false;
    this.ws!.terminate();
    setTimeout(() => {
      this.dropping = false;
      this.redialing = true;
      this.redial();
    }, awayMs);
  }

  send(data: unknown): void {
    const frame: Record<string, unknown> = this.ids ? { type: 'message', id: `c-${++this.nextId}`, data } : { type: 'message', data };
    if (CLIENT_META) frame._meta = CLIENT_META;
    const text = JSON.stringify(frame);
    if (this.ready) this.ws!.send(text);
    else this.queue.push(text);
  }

  private flush(): void {
    for (const t of this.queue.splice(0)) this.ws!.send(t);
  }

  close(): Promise<void> {
    this.closed = true;
    return closeWs(this.ws);
  }
}

/** Close with 1000 and wait (bounded) for the close handshake. */
export function closeWs(ws: WebSocket | undefined, timeoutMs = 3000): Promise<void> {
  if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => (ws.terminate(), resolve()), timeoutMs);
    ws.once('close', () => (clearTimeout(t), resolve()));
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1000);
  });
}
