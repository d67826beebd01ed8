/**
 * Client messages for an agent name with no connection (PROTOCOL §5): kept in order, at most
 * AGENT_QUEUE_LIMIT per name and per client (a client naming many absent agents cannot pile up
 * more), and SESSION_TTL_MS each (counted from when the client sent it).
 * Bytes are bounded too (issue 9: ~500 sessions each parking 100 × 64 KiB for absent names took
 * the broker down): WAIT_QUEUE_CLIENT_BYTES per client (its share; beyond, `agent_unavailable`
 * like the count bound) and WAIT_QUEUE_BUDGET_BYTES for all queues together (beyond, the new
 * message is refused `over_capacity`: the broker is full, not this client's bound).
 * A message that cannot wait, or whose wait ends, is handed to `onReject` so that its client gets
 * `agent_unavailable`: nothing is dropped silently.
 */
import type { WaitQueueStore } from './store/wait-queue-store.ts';

export interface WaitEntry {
  agent: string;
  clientId: string;
  ref: string | undefined;
  /** The serialized frame for the agent: a client.message, or a client.cancel (PROTOCOL §9). */
  payload: string;
  /** Its type, for metrics; absent: client.message. */
  type?: string;
  /** UTF-8 bytes of `payload`. */
  bytes: number;
  /** When the client sent it (ms since epoch). */
  sentAt: number;
  /** performance.now() when the broker read the client's frame (delivery latency). */
  receivedAt?: number;
  /** §8: the client.message's own id (acks and redelivery name it); absent for a client.cancel. */
  msgId?: string;
  /** §8: the payload says `"redelivered":true`. */
  redelivered?: boolean;
}

/** `ok`; `full`: over a per-name or per-client bound (agent_unavailable); `over_capacity`: the global budget. */
export type OfferResult = 'ok' | 'full' | 'over_capacity';

export interface WaitByteBounds {
  /** All queues together (WAIT_QUEUE_BUDGET_BYTES). */
  budget: number;
  /** One client across names (WAIT_QUEUE_CLIENT_BYTES). */
  perClient: number;
}

/** What holding an entry costs beyond its payload (the entry object, its ids, the array slot). */
export const ENTRY_OVERHEAD_BYTES = 128;

const charge = (e: WaitEntry): number => e.bytes + ENTRY_OVERHEAD_BYTES;

/** The wait-queue store in this process (store/wait-queue-store.ts): synchronous, one timer per waiting name. */
export class AgentWaitQueues implements WaitQueueStore {
  private readonly queues = new Map<string, WaitEntry[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Waiting messages and their bytes per clientId, across names. */
  private readonly perClient = new Map<string, { n: number; bytes: number }>();
  private totalBytes = 0;

  constructor(
    private readonly limit: number,
    private readonly maxAgeMs: number,
    private onReject: (entry: WaitEntry) => void = () => undefined,
    private readonly bounds: WaitByteBounds = { budget: Number.MAX_SAFE_INTEGER, perClient: Number.MAX_SAFE_INTEGER },
  ) {}

  /** Queue at the tail, or say why it cannot wait (the caller answers the client). */
  offer(entry: WaitEntry): OfferResult {
    if (this.limit === 0 || this.maxAgeMs === 0) return 'full';
    const q = this.queues.get(entry.agent) ?? [];
    const mine = this.perClient.get(entry.clientId) ?? { n: 0, bytes: 0 };
    if (q.length >= this.limit || mine.n >= this.limit || mine.bytes + charge(entry) > this.bounds.perClient) return 'full';
    if (this.totalBytes + charge(entry) > this.bounds.budget) return 'over_capacity';
    q.push(entry);
    this.count(entry, 1);
    this.queues.set(entry.agent, q);
    this.schedule(entry.agent);
    return 'ok';
  }

  /** Bytes held in all queues (payloads + per-entry overhead). */
  get bytes(): number {
    return this.totalBytes;
  }

  heldBytes(): number {
    return this.totalBytes;
  }

  onRejected(listener: (entry: WaitEntry) => void): void {
    this.onReject = listener;
  }

  /**
   * Put back messages an agent connection never got, ahead of everything queued (they are older).
   * Whatever then exceeds the count bound is rejected, newest first. The byte bounds are not
   * re-checked: these were accepted before, and what an agent connection can hand back is itself
   * bounded (its mailbox), so the budget is exceeded at most by that.
   */
  requeueFront(name: string, entries: WaitEntry[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.count(e, 1);
    const q = [...entries, ...(this.queues.get(name) ?? [])];
    const over = q.length > this.limit ? q.splice(this.limit) : [];
    for (const e of over) this.count(e, -1);
    if (q.length) this.queues.set(name, q);
    else this.queues.delete(name);
    for (const e of over) this.onReject(e);
    this.schedule(name);
  }

  /** Everything waiting for `name`, oldest first; the queue is emptied. */
  take(name: string): WaitEntry[] {
    const q = this.queues.get(name) ?? [];
    this.queues.delete(name);
    this.clearTimer(name);
    for (const e of q) this.count(e, -1);
    return q;
  }

  /** Waiting messages per agent name (metrics, ops view; read at scrape time). */
  depths(): Map<string, number> {
    return new Map([...this.queues].map(([name, q]) => [name, q.length]));
  }

  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /**
   * Every waiting message, for snapshot.ts: per name oldest first, without `receivedAt` (a
   * performance.now() of this process, meaningless in the next one).
   */
  snapshot(): WaitEntry[] {
    const out: WaitEntry[] = [];
    for (const q of this.queues.values()) for (const { receivedAt: _, ...e } of q) out.push(e);
    return out;
  }

  /**
   * Put back the messages of a snapshot, in order, through the usual bounds (a smaller
   * AGENT_QUEUE_LIMIT or byte budget than before keeps fewer). A message whose wait ended while
   * the broker was down is left out: its client is not connected to hear `agent_unavailable`.
   * Answers how many were left out.
   */
  restore(entries: readonly WaitEntry[], now = Date.now()): number {
    let left = 0;
    for (const e of entries) {
      if (now >= e.sentAt + this.maxAgeMs || this.offer({ ...e }) !== 'ok') left++;
    }
    return left;
  }

  clear(): void {
    for (const name of [...this.timers.keys()]) this.clearTimer(name);
    this.queues.clear();
    this.perClient.clear();
    this.totalBytes = 0;
  }

  private count(e: WaitEntry, delta: 1 | -1): void {
    const bytes = delta * charge(e);
    this.totalBytes += bytes;
    const mine = this.perClient.get(e.clientId) ?? { n: 0, bytes: 0 };
    mine.n += delta;
    mine.bytes += bytes;
    if (mine.n > 0) this.perClient.set(e.clientId, mine);
    else this.perClient.delete(e.clientId);
  }

  private schedule(name: string): void {
    this.clearTimer(name);
    const q = this.queues.get(name);
    if (!q?.length) return;
    const first = Math.min(...q.map((e) => e.sentAt)) + this.maxAgeMs;
    const t = setTimeout(() => this.sweep(name), Math.max(0, first - Date.now()));
    t.unref();
    this.timers.set(name, t);
  }

  private sweep(name: string): void {
    this.timers.delete(name);
    const q = this.queues.get(name);
    if (!q) return;
    const now = Date.now();
    const expired = q.filter((e) => now >= e.sentAt + this.maxAgeMs);
    const rest = q.filter((e) => now < e.sentAt + this.maxAgeMs);
    if (rest.length) this.queues.set(name, rest);
    else this.queues.delete(name);
    for (const e of expired) this.count(e, -1);
    for (const e of expired) this.onReject(e);
    this.schedule(name);
  }

  private clearTimer(name: string): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }
}
