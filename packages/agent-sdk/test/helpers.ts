/**
 * Test helpers: a raw `ws` server that plays the broker's agent endpoint (so SDK behaviour can be
 * pinned down frame by frame, including misbehaviour the real broker never shows), and small
 * wait-for-an-event utilities.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { TestSocket } from '@agent-bridge/testkit';
import { createLogger } from '@agent-bridge/common';
import type { Agent, AgentEvents } from '../src/index.ts';

export const silent = createLogger('test', { level: 'silent' });
/** Redial fast in tests; the schedule itself is Backoff's (tested in common). */
export const FAST_BACKOFF = { initialMs: 20, maxMs: 100 };

export interface Upgrade {
  url: string;
  headers: http.IncomingHttpHeaders;
  socket: TestSocket;
}

/** A stand-in for the broker's `/ws/agent`: accepts `dev_token`, records every connection. */
export class FakeBridge {
  readonly upgrades: Upgrade[] = [];
  /** Upgrade attempts, accepted or not. */
  attempts = 0;
  private server: http.Server | undefined;
  private wss: WebSocketServer | undefined;
  private waiters: (() => void)[] = [];
  port = 0;

  constructor(private readonly opts: { token?: string; autoPong?: boolean } = {}) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    const wss = new WebSocketServer({ noServer: true, autoPong: this.opts.autoPong ?? true });
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket, head) => {
      this.attempts++;
      if (req.headers.authorization !== `Bearer ${this.opts.token ?? 'dev_token'}`) {
        const body = JSON.stringify({ error: { code: 'unauthorized', message: 'bad agent token' } });
        socket.end(`HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        this.wake();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        this.upgrades.push({ url: req.url ?? '', headers: req.headers, socket: new TestSocket(ws) });
        this.wake();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.wss = wss;
    return this;
  }

  /** Close every socket with `code` (1006-like terminate when undefined) and stop listening. */
  async stop(code?: number): Promise<void> {
    for (const c of this.wss?.clients ?? []) {
      if (code === undefined) c.terminate();
      else c.close(code, 'bye');
    }
    this.wss?.close();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.server = undefined;
  }

  /** The n-th accepted connection (0-based), waiting for it. */
  async connection(n: number, timeoutMs = 5000): Promise<Upgrade> {
    await waitUntil(() => this.upgrades.length > n, timeoutMs, `connection #${n}`, (w) => this.waiters.push(w));
    return this.upgrades[n]!;
  }

  /** Accept connection n and welcome it. */
  async welcomed(n: number, clients: unknown[] = [], extra: Record<string, unknown> = {}): Promise<TestSocket> {
    const { socket } = await this.connection(n);
    socket.send({ type: 'welcome', agent: 'default', agentId: `agent-${n}`, clients, ...extra });
    return socket;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/**
 * Wait for `cond` (re-checking whenever `subscribe` signals, and every 10 ms), else throw. The
 * fake bridge's own wait for a connection; tests wait with expect.poll / vi.waitFor.
 */
async function waitUntil(
  cond: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
  subscribe?: (wake: () => void) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 10);
      subscribe?.(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** The next `event` from the agent (its arguments), or a timeout error. */
export function nextEvent<K extends keyof AgentEvents>(
  agent: Agent,
  event: K,
  timeoutMs = 5000,
  pred: (...args: AgentEvents[K]) => boolean = () => true,
): Promise<AgentEvents[K]> {
  return new Promise((resolve, reject) => {
    const on = agent.on.bind(agent) as (e: K, l: (...a: AgentEvents[K]) => void) => Agent;
    const off = agent.off.bind(agent) as (e: K, l: (...a: AgentEvents[K]) => void) => Agent;
    const listener = (...args: AgentEvents[K]) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      off(event, listener);
      resolve(args);
    };
    const timer = setTimeout(() => {
      off(event, listener);
      reject(new Error(`timed out waiting for agent event "${String(event)}"`));
    }, timeoutMs);
    on(event, listener);
  });
}

/** Record every event of these kinds, in order, for assertions on sequences. */
export function record(agent: Agent, events: (keyof AgentEvents)[]): { event: string; args: unknown[] }[] {
  const log: { event: string; args: unknown[] }[] = [];
  for (const e of events) (agent.on as (e: string, l: (...a: unknown[]) => void) => Agent)(e, (...args) => log.push({ event: e, args }));
  return log;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
