/** A client of the raw relay: `/ws/:id` on the raw proxy, JSON payloads as they are. */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { Backoff } from '@agent-bridge/common/protocol';
import type { BenchClient, ClientHooks } from './client.ts';
import { closeWs } from './project-client.ts';

export class RawClient implements BenchClient {
  private ws: WebSocket | undefined;
  private readonly id = randomUUID();
  private queue: string[] = [];
  private ready = false;
  private closed = false;
  private everOpen = false;
  private backoff = new Backoff();

  constructor(readonly index: number, private hooks: ClientHooks, private proxyUrl: string) {}

  get open(): boolean {
    return this.ready;
  }

  connect(): Promise<void> {
    const ws = new WebSocket(`${this.proxyUrl.replace(/^http/, 'ws')}/ws/${this.id}`, { perMessageDeflate: false });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.on('open', () => {
        this.ready = true;
        for (const t of this.queue.splice(0)) ws.send(t);
        if (this.everOpen) this.hooks.onReconnected(this, false);
        this.everOpen = true;
        this.backoff.reset();
        resolve();
      });
      ws.on('message', (raw: Buffer) => this.hooks.onData(this, JSON.parse(raw.toString()), raw.length));
      ws.on('error', (err) => {
        if (!this.ready) reject(err);
      });
      ws.on('close', () => {
        this.ready = false;
        if (this.closed || !this.everOpen) return;
        setTimeout(() => {
          if (!this.closed) this.connect().catch(() => undefined);
        }, this.backoff.next());
      });
      // A refused upgrade (502 while the broker is down) ends in 'close' too when ever open.
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        ws.terminate();
      });
    });
  }

  send(data: unknown): void {
    const text = JSON.stringify(data);
    if (this.ready) this.ws!.send(text);
    else this.queue.push(text);
  }

  close(): Promise<void> {
    this.closed = true;
    return closeWs(this.ws);
  }
}
