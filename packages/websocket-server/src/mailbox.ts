/**
 * Outbound queue of one connection (PROTOCOL §7). Frames go straight to the socket while ws's
 * `bufferedAmount` is under SOCKET_BUFFER_BYTES; beyond that they wait here, at most
 * MAILBOX_LIMIT of them, and drain as the socket empties. When the queue is full a broadcast is
 * dropped (the oldest queued one, else the incoming one) and reported once there is room again;
 * any other frame that cannot fit makes `push` return false: the owner must close the connection.
 * Frames marked `unbounded` (a resume replay, already bounded by the resume buffer) do not count
 * against the limit. Memory therefore stays bounded whatever the peer does.
 *
 * Frames marked `lazy` (the §8 `accepted` to a client) are not written on their own: they wait
 * for the connection's next frame and leave in the same write, just before it, or at the latest
 * LAZY_HOLD_MS later (one timer for every mailbox). The peer sees the same frames in the same
 * order; only an `accepted` nothing follows comes up to LAZY_HOLD_MS later. Each write is a
 * syscall (13–25 µs on the bench machine); an echo's `accepted` cost the broker, the web server
 * and the browser one each (issue 12 item 5, docs/performance.md). A client socket opened with
 * `?accepted=inline` (our §8 extension) goes further: the held `accepted`s ride on that next frame
 * as its last member, `"accepted":[…]`, so they cost no frame at all on any hop (`carryLazy`).
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { ACCEPTED_FIELD, bufferedAmountFor, turnBatcher, wsSocket } from '@agent-bridge/common';
import type { SharedBody } from './resume-buffer.ts';

export type FrameKind = 'broadcast' | 'direct' | 'system';

export interface OutItem<M = unknown> {
  /** The frame's text, or undefined when `body` renders it (with `seq`) at write time. */
  payload?: string;
  /**
   * A shared message body: rendered only when the frame goes to the socket, so a queued
   * broadcast costs each mailbox a reference, not a copy (issue 9).
   */
  body?: SharedBody;
  kind: FrameKind;
  /** Frame type, for metrics. */
  type: string;
  seq?: number;
  /** A coalesced frame: the first seq it stands for (`seq` is its last). */
  firstSeq?: number;
  unbounded?: boolean;
  /** Owner's data carried with the frame (e.g. a client.message to put back in a wait queue). */
  meta?: M;
  /** May wait (≤ LAZY_HOLD_MS) for the connection's next frame, to share its write (see above). */
  lazy?: boolean;
  /** A lazy `accepted`: the id it answers, for a mailbox that carries them (`carryLazy`). */
  ref?: string;
}

/**
 * How long a lazy frame waits for company: between LAZY_TICK_MS and LAZY_HOLD_MS. Long enough
 * for the next frame of a busy socket under load — in a cluster the answer an `accepted` waits for
 * comes through Redis, 20–50 ms after it at the echo bench's load; with a hold of 12–24 ms most of
 * them left alone there (cluster acks on ÷ off 0.86×, 0.94× with 25–50 ms; one process unchanged,
 * docs/performance.md) — and short enough to be unnoticeable for the one thing it delays, an
 * `accepted`. One timer ticks every LAZY_TICK_MS while anything is held and writes what the tick
 * before found held (two generations: no per-socket timer, and a frame held just before a tick
 * still gets a whole tick).
 */
export const LAZY_TICK_MS = 25;
export const LAZY_HOLD_MS = 2 * LAZY_TICK_MS;
/** A connection holding this many lazy frames writes them at once (a burst needs no company). */
export const LAZY_HOLD_MAX = 32;

/** `,"accepted":["<ref>",…]}` to end the object `text` with, or undefined when the riders cannot ride on it. */
function carriedMember(riders: readonly OutItem[], text: string): string | undefined {
  if (text.length < 3 || text.charCodeAt(text.length - 1) !== 0x7d) return undefined;
  let refs = '';
  for (const r of riders) {
    if (r.ref === undefined) return undefined;
    refs += `${refs === '' ? '' : ','}${JSON.stringify(r.ref)}`;
  }
  return `,"${ACCEPTED_FIELD}":[${refs}]}`;
}

interface LazyHolder {
  releaseLazy(): void;
}
/** Mailboxes that started holding since the last tick, and those held since the tick before. */
let lazyNew = new Set<LazyHolder>();
let lazyDue = new Set<LazyHolder>();
let lazyTimer: NodeJS.Timeout | undefined;

function holdLazy(m: LazyHolder): void {
  lazyNew.add(m);
  if (lazyTimer === undefined) lazyTimer = setTimeout(lazyTick, LAZY_TICK_MS);
}

function unholdLazy(m: LazyHolder): void {
  lazyNew.delete(m);
  lazyDue.delete(m);
}

function lazyTick(): void {
  const due = lazyDue;
  lazyDue = lazyNew;
  lazyNew = due;
  // releaseLazy takes each out of its set: `due` (now lazyNew) ends empty.
  for (const m of due) m.releaseLazy();
  due.clear();
  lazyTimer = lazyDue.size > 0 ? setTimeout(lazyTick, LAZY_TICK_MS) : undefined;
}

export interface DropReport {
  count: number;
  fromSeq: number;
  toSeq: number;
}

export interface MailboxOptions {
  limit: number;
  socketBufferBytes: number;
  /** How often a non-empty queue re-checks the socket buffer (besides the socket's 'drain'). */
  pollMs?: number;
  /**
   * Coalescing for a slow peer (PROTOCOL §9): a frame that would wait behind the last queued one
   * and may be one frame with it replaces it (undefined: it may not). Client mailboxes only.
   */
  merge?: (prev: OutItem, next: OutItem) => OutItem | undefined;
  /**
   * §8 extension (a client socket opened with `?accepted=inline`): held lazy `accepted`s ride on
   * the next frame written, as its last member `"accepted":[ref,…]`, instead of a frame each.
   * Only a frame written at once carries them; otherwise, and when the hold ends, they are written
   * as the plain frames they are.
   */
  carryLazy?: boolean;
}

export interface MailboxHooks<M> {
  /**
   * `text`: what went to the socket (metrics: bytes). `carried`: the bytes of `accepted`s riding
   * on the frame (carryLazy) beyond the item's own frame; 0 otherwise.
   */
  onSent?(item: OutItem<M>, text: string, carried?: number): void;
  /** Held lazy frames that rode on another frame (carryLazy): written, though not as frames. */
  onCarried?(riders: readonly OutItem<M>[]): void;
  /** A broadcast was dropped. */
  onDrop?(item: OutItem<M>): void;
  /** Dropped broadcasts, reported once the queue has room again. */
  onDropReport?(report: DropReport): void;
}

export class Mailbox<M = unknown> {
  private queue: OutItem<M>[] = [];
  /** Lazy frames waiting for the next frame (or the shared timer); only while the queue is empty. */
  private lazy: OutItem<M>[] | undefined;
  private bounded = 0;
  private timer: NodeJS.Timeout | undefined;
  private dropped: DropReport | undefined;
  private closed = false;
  private readonly socket: Socket | undefined;
  private readonly onDrain = (): void => this.flush();

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: MailboxOptions,
    private readonly hooks: MailboxHooks<M> = {},
  ) {
    // The net.Socket's 'drain' tells us early that the buffer emptied (common's one adapter for it).
    this.socket = wsSocket(ws);
    this.socket?.on('drain', this.onDrain);
  }

  /** Frames waiting in the queue (not counting what the socket buffers). */
  get size(): number {
    return this.queue.length;
  }

  /** false: the frame does not fit and is not a broadcast; close the connection. */
  push(item: OutItem<M>): boolean {
    if (this.closed) return true;
    if (item.lazy === true && this.queue.length === 0) {
      const lazy = (this.lazy ??= []);
      lazy.push(item);
      if (lazy.length >= LAZY_HOLD_MAX) this.releaseLazy();
      else if (lazy.length === 1) holdLazy(this);
      return true;
    }
    // Held lazy frames go first, in the same write as this one, or in it (carryLazy).
    if (this.lazy !== undefined) {
      if (this.opts.carryLazy === true && this.queue.length === 0 && this.socketHasRoom()) {
        this.write(item, this.takeLazy());
        return true;
      }
      this.releaseLazy();
    }
    if (this.queue.length === 0 && this.socketHasRoom()) {
      this.write(item);
      return true;
    }
    // Frames wait: a delta continuing the last queued one joins it and takes no slot. Only the
    // tail, so never across anything queued after it; a frame dropped in between broke the seq
    // adjacency the merge requires.
    const tail = this.queue[this.queue.length - 1];
    const merged = tail && this.opts.merge?.(tail, item);
    if (merged) {
      this.queue[this.queue.length - 1] = merged as OutItem<M>;
      return true;
    }
    if (item.unbounded || this.bounded < this.opts.limit) {
      this.enqueue(item);
      return true;
    }
    const victim = this.queue.findIndex((q) => q.kind === 'broadcast' && !q.unbounded);
    if (victim >= 0) {
      const [old] = this.queue.splice(victim, 1);
      this.bounded--;
      this.recordDrop(old!);
      this.enqueue(item);
      return true;
    }
    if (item.kind === 'broadcast') {
      this.recordDrop(item);
      return true;
    }
    return false;
  }

  /**
   * Write the held lazy frames now (the next frame is here, the timer fired, or enough are held).
   * The queue is empty whenever frames are held, so they keep their place; without room they
   * queue unbounded (at most LAZY_HOLD_MAX small frames past the limit, once per hold).
   */
  releaseLazy(): void {
    const lazy = this.takeLazy();
    if (lazy === undefined || this.closed) return;
    for (const item of lazy) {
      if (this.queue.length === 0 && this.socketHasRoom()) this.write(item);
      else {
        item.unbounded = true;
        this.enqueue(item);
      }
    }
  }

  /** Move queued frames to the socket while it has room. */
  flush(): void {
    if (this.closed) return;
    while (this.queue.length > 0 && this.socketHasRoom()) {
      const item = this.queue.shift()!;
      if (!item.unbounded) this.bounded--;
      this.write(item);
    }
    if (this.queue.length === 0) this.stopTimer();
    if (this.dropped && this.bounded < this.opts.limit) {
      const report = this.dropped;
      this.dropped = undefined;
      this.hooks.onDropReport?.(report);
    }
  }

  /**
   * Stop for good; returns the frames that were never handed to the socket. Held lazy frames are
   * written first while the socket is open (a close from our side then follows them, as it would
   * have without the hold).
   */
  close(): OutItem<M>[] {
    if (this.lazy !== undefined && this.queue.length === 0 && !this.closed && this.ws.readyState === this.ws.OPEN) this.releaseLazy();
    this.closed = true;
    this.stopTimer();
    this.socket?.off('drain', this.onDrain);
    const held = this.takeLazy() ?? [];
    const rest = held.length > 0 ? [...held, ...this.queue] : this.queue;
    this.queue = [];
    this.bounded = 0;
    return rest;
  }

  private socketHasRoom(): boolean {
    // bufferedAmountFor: frames merely corked for this turn must not count as a slow peer.
    const limit = this.opts.socketBufferBytes;
    return this.ws.readyState === this.ws.OPEN && bufferedAmountFor(this.ws, limit) < limit;
  }

  /**
   * `riders` (carryLazy): held `accepted`s that go as the frame's last member; when they cannot (a
   * frame that is not an object, an `accepted` without its ref) they go as the frames they are, first.
   */
  private write(item: OutItem<M>, riders?: OutItem<M>[]): void {
    // The turn's frames for this socket leave in one writev (socket-batcher.ts).
    turnBatcher.hold(this.socket);
    const text = item.payload ?? item.body!.render(item.seq!);
    const member = riders && carriedMember(riders, text);
    if (riders && member === undefined) for (const r of riders) this.write(r);
    if (member === undefined) {
      this.ws.send(text);
      this.hooks.onSent?.(item, text);
      return;
    }
    const carrier = text.slice(0, -1) + member;
    this.ws.send(carrier);
    this.hooks.onCarried?.(riders!);
    // The item's own closing brace is replaced by the member's.
    this.hooks.onSent?.(item, carrier, Buffer.byteLength(member) - 1);
  }

  /** The held lazy frames, no longer held (undefined: none). */
  private takeLazy(): OutItem<M>[] | undefined {
    const lazy = this.lazy;
    this.lazy = undefined;
    if (lazy !== undefined) unholdLazy(this);
    return lazy;
  }

  private enqueue(item: OutItem<M>): void {
    this.queue.push(item);
    if (!item.unbounded) this.bounded++;
    if (!this.timer) {
      this.timer = setInterval(() => this.flush(), this.opts.pollMs ?? 10);
      this.timer.unref();
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private recordDrop(item: OutItem<M>): void {
    this.hooks.onDrop?.(item);
    const seq = item.seq ?? 0;
    // A coalesced broadcast stands for every seq of its range.
    const first = item.firstSeq ?? seq;
    const count = seq - first + 1;
    if (!this.dropped) this.dropped = { count, fromSeq: first, toSeq: seq };
    else {
      this.dropped.count += count;
      this.dropped.fromSeq = Math.min(this.dropped.fromSeq, first);
      this.dropped.toSeq = Math.max(this.dropped.toSeq, seq);
    }
  }
}
