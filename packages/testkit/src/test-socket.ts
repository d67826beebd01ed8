/**
 * A raw `ws` connection with a queue of parsed frames, so tests can say "the next welcome" or
 * "wait until a message with this text" instead of juggling listeners.
 */
import WebSocket from 'ws';

// Tests read arbitrary fields of frames; `any` keeps assertions short.
export type Frame = Record<string, any> & { type: string };
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

  /**
   * Open a socket (of this class or a subclass); rejects with the HTTP status and body text on a
   * refused upgrade (`err.status`, `err.body`).
   */
  static open<T extends TestSocket>(this: new (ws: WebSocket) => T, url: string, options: WebSocket.ClientOptions = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const sock = new this(ws);
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

  /** Every frame matching `pred` that arrives within `ms` (consumes nothing). */
  async collectFor(ms: number, pred: Pred = () => true): Promise<Frame[]> {
    const match = typeof pred === 'string' ? (f: Frame) => f.type === pred : pred;
    const start = this.frames.length;
    await new Promise((r) => setTimeout(r, ms));
    return this.frames.slice(start).filter(match);
  }

  /** Every frame seen so far matching `pred`. */
  all(pred: Pred = () => true): Frame[] {
    const match = typeof pred === 'string' ? (f: Frame) => f.type === pred : pred;
    return this.frames.filter(match);
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

/** An upgrade that must be refused: its HTTP status and (JSON-decoded when possible) body. */
export async function refusedUpgrade(url: string, options: WebSocket.ClientOptions = {}): Promise<{ status: number; body: unknown }> {
  let sock: TestSocket;
  try {
    sock = await TestSocket.open(url, options);
  } catch (err) {
    const e = err as { status?: number; body?: string };
    if (!e.status) throw err;
    let body: unknown = e.body;
    try {
      body = JSON.parse(e.body ?? '');
    } catch {
      // not JSON: keep the text
    }
    return { status: e.status, body };
  }
  sock.ws.terminate();
  throw new Error(`upgrade to ${url} was accepted`);
}
