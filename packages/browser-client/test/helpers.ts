/** Node stand-ins for what a browser gives the client: Storage and a pausable network path. */
import net from 'node:net';
import WebSocket from 'ws';
import type { BridgeClient, BridgeClientEvents, WebSocketConstructor } from '../src/index.ts';

export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

export class MemoryStorage implements Storage {
  private map = new Map<string, string>();
  get length(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
  }
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  key(i: number): string | null {
    return [...this.map.keys()][i] ?? null;
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
  setItem(key: string, value: string): void {
    this.map.set(key, String(value));
  }
}

/** Resolve with the first `event` payload that satisfies `pred`. */
export function waitFor<K extends keyof BridgeClientEvents>(
  client: BridgeClient,
  event: K,
  pred: (p: BridgeClientEvents[K]) => boolean = () => true,
  timeoutMs = 8000,
): Promise<BridgeClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${String(event)}`));
    }, timeoutMs);
    const off = client.on(event, (p) => {
      if (!pred(p)) return;
      clearTimeout(timer);
      off();
      resolve(p);
    });
  });
}

export const textIs = (text: string) => (f: { data: unknown }) => (f.data as { text?: unknown })?.text === text;

/**
 * A TCP path whose live connections can be frozen: bytes stop flowing both ways but nothing is
 * closed, like a network that silently went away. New connections flow normally.
 */
export class FreezableProxy {
  private server = net.createServer((c) => this.onConnection(c));
  private live = new Set<net.Socket>();
  port = 0;
  constructor(private readonly targetPort: number) {}
  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  freeze(): void {
    for (const s of this.live) {
      s.pause();
      s.unpipe();
    }
    this.live.clear();
  }
  async close(): Promise<void> {
    for (const s of this.live) s.destroy();
    this.server.close();
  }
  private onConnection(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.live.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.live.delete(client);
      this.live.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
