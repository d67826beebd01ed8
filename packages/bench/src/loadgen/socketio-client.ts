/** A socket.io-client straight to the Socket.IO server (websocket transport, no proxy hop). */
import { io, type Socket } from 'socket.io-client';
import type { BenchClient, ClientHooks } from './client.ts';

/**
 * Bytes of the WebSocket message that carried a run event: socket.io's text encoding of
 * `emit('message', data)` is `42["message",<JSON>]` (no namespace, no ack). Only run events are
 * sized (the stream scenario); 0 for the rest, which nobody sizes.
 */
function runEventBytes(data: unknown): number {
  if (typeof (data as { type?: unknown } | null)?.type !== 'string') return 0;
  return Buffer.byteLength(JSON.stringify(data)) + '42["message",]'.length;
}

export class SocketIoClient implements BenchClient {
  private socket: Socket | undefined;

  constructor(readonly index: number, private hooks: ClientHooks, private url: string) {}

  get open(): boolean {
    return this.socket?.connected ?? false;
  }

  connect(): Promise<void> {
    const socket = io(this.url, {
      transports: ['websocket'],
      forceNew: true,
      // The same redial policy as ours: 1 s doubling to 60 s, ±20 %.
      reconnectionDelay: 1000,
      reconnectionDelayMax: 60_000,
      randomizationFactor: 0.2,
    });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      let first = true;
      socket.on('connect', () => {
        if (first) resolve();
        else this.hooks.onReconnected(this, false);
        first = false;
      });
      socket.on('connect_error', (err) => {
        if (first) {
          socket.close();
          reject(err);
        }
      });
      socket.on('message', (data: unknown) => this.hooks.onData(this, data, runEventBytes(data)));
    });
  }

  /** socket.io-client buffers emits while disconnected and sends them on reconnect. */
  send(data: unknown): void {
    this.socket!.emit('message', data);
  }

  close(): Promise<void> {
    this.socket?.close();
    return Promise.resolve();
  }
}
