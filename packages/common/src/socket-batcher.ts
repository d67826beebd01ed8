/**
 * One write per socket per event-loop turn. Every `ws` send is its own `write` syscall (header and
 * payload in one writev); a turn that sends several frames to one socket — a burst of agent
 * replies, a fan-out, a resume replay — pays that syscall per frame. `hold` corks the socket at
 * its first frame of the turn and one `setImmediate` uncorks every socket held, so the turn's
 * frames leave in one writev per socket (measured in docs/performance.md: about a third less
 * server CPU per round trip, fan-out ×2).
 *
 * Nothing waits longer than the current turn: the check phase after the I/O that produced the
 * frames flushes them. A socket that ends meanwhile is uncorked by `end()`; a destroyed one is
 * skipped by the flush (uncork on it is a no-op), so nothing stays corked past the turn.
 *
 * Backpressure: corked bytes count in `ws.bufferedAmount` although the kernel would take them
 * now. A check against a limit must use `bufferedAmountFor`, which writes this socket's corked
 * frames out first when they alone reach the limit, so it sees what really waits (as without
 * batching) and a large burst still goes out in writes of about the limit.
 */
import { wsSocket } from './ws-privates.ts';

/** What the batcher needs of a socket (a net.Socket). */
export interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
}

export class SocketBatcher {
  private readonly held = new Set<Corkable>();
  private scheduled = false;
  private readonly flushAll = (): void => this.flush();
  private before: (() => void)[] = [];

  /** Cork `socket` until the end of this event-loop turn (no-op if already held or gone). */
  hold(socket: Corkable | undefined): void {
    if (!socket || socket.destroyed || this.held.has(socket)) return;
    socket.cork();
    this.held.add(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushAll);
    }
  }

  /** Uncork `socket` now if this batcher holds it; true if it did. */
  release(socket: Corkable | undefined): boolean {
    if (!socket || !this.held.delete(socket)) return false;
    socket.uncork();
    return true;
  }

  /**
   * Run `fn` at the end of this turn, just before the held sockets are uncorked: what it sends to
   * a socket held this turn leaves in the same write (the SDK's per-turn `ack` frame).
   */
  beforeFlush(fn: () => void): void {
    this.before.push(fn);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushAll);
    }
  }

  /** Uncork everything held now (normally run by the scheduled setImmediate). */
  flush(): void {
    try {
      while (this.before.length > 0) {
        const fns = this.before;
        this.before = [];
        for (const fn of fns) fn();
      }
    } finally {
      // Whatever a callback did, nothing stays corked past the turn.
      this.scheduled = false;
      for (const socket of this.held) socket.uncork();
      this.held.clear();
    }
  }

  /** Sockets currently corked by this batcher. */
  get size(): number {
    return this.held.size;
  }
}

/** The process-wide batcher: one setImmediate per turn whatever the number of senders. */
export const turnBatcher = new SocketBatcher();


/** Call right before `ws.send(...)`: that frame and the rest of the turn's leave in one write. */
export function batchSend(ws: object, batcher: SocketBatcher = turnBatcher): void {
  batcher.hold(wsSocket(ws));
}

/**
 * `ws.bufferedAmount` for comparing with `limit`: when it reaches the limit while the batcher
 * holds the socket, the corked frames are written out first and the amount read again.
 */
export function bufferedAmountFor(ws: { readonly bufferedAmount: number }, limit: number, batcher: SocketBatcher = turnBatcher): number {
  const amount = ws.bufferedAmount;
  if (amount < limit || !batcher.release(wsSocket(ws))) return amount;
  return ws.bufferedAmount;
}
