/**
 * A raw `ws` connection with a queue of parsed frames, so tests can say "the next welcome" or
 * "wait until a message with this text" instead of juggling listeners.
 */
import WebSocket from 'ws';

export type Frame = Record<string, unknown> & { type: string };
type Pred = string | ((f: Frame) => boolean);

export class TestSocket {
  readonly frames: Frame[] = [];
  private cursor = 0;
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | undefined;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      try {
        this.frames.push(JSON.parse(data.toString()) as Frame);
      } catch {
        this.frames.push({ type: '__unparseable__', raw: data.toString() });
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters.splice(0)) w(this.closed);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => undefined);
  }

  /** Open a socket; rejects with the HTTP status on a refused upgrade (`err.status`). */
  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const sock = new TestSocket(ws);
      ws.once('open', () => resolve(sock));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          const err = Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body });
          reject(err);
        });
      });
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame (after those already taken) matching `pred` (a type or a predicate). */
  async next(pred: Pred = () => true, timeoutMs = 5000): Promise<Frame> {
    const match = typeof pred === 'string' ? (f: Frame) => f.type === pred : pred;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (; this.cursor < this.frames.length; this.cursor++) {
        const f = this.frames[this.cursor]!;
        if (match(f)) {
          this.cursor++;
          return f;
        }
      }
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting; frames: ${JSON.stringify(this.frames.slice(-5))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame; last frames: ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Wait for a system frame with this event. */
  event(event: string, timeoutMs?: number): Promise<Frame> {
    return this.next((f) => f.type === 'system' && f.event === event, timeoutMs);
  }

  waitClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('socket did not close in time')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }
}
