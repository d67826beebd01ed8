/**
 * Client messages for an agent name with no connection (PROTOCOL §5): kept in order, at most
 * AGENT_QUEUE_LIMIT per name and per client (a client naming many absent agents cannot pile up
 * more), and SESSION_TTL_MS each (counted from when the client sent it).
 * A message that cannot wait, or whose wait ends, is handed to `onReject` so that its client gets
 * `agent_unavailable`: nothing is dropped silently.
 */
export interface WaitEntry {
  agent: string;
  clientId: string;
  ref: string | undefined;
  /** The serialized client.message frame. */
  payload: string;
  /** When the client sent it (ms since epoch). */
  sentAt: number;
}

export class AgentWaitQueues {
  private readonly queues = new Map<string, WaitEntry[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Waiting messages per clientId, across names. */
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly maxAgeMs: number,
    private readonly onReject: (entry: WaitEntry) => void,
  ) {}

  /** Queue at the tail; false when it cannot wait (the caller answers agent_unavailable). */
  offer(entry: WaitEntry): boolean {
    if (this.limit === 0 || this.maxAgeMs === 0) return false;
    const q = this.queues.get(entry.agent) ?? [];
    if (q.length >= this.limit || (this.perClient.get(entry.clientId) ?? 0) >= this.limit) return false;
    q.push(entry);
    this.count(entry, 1);
    this.queues.set(entry.agent, q);
    this.schedule(entry.agent);
    return true;
  }

  /**
   * Put back messages an agent connection never got, ahead of everything queued (they are older).
   * Whatever then exceeds the bound is rejected, newest first.
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

  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  clear(): void {
    for (const name of [...this.timers.keys()]) this.clearTimer(name);
    this.queues.clear();
    this.perClient.clear();
  }

  private count(e: WaitEntry, delta: number): void {
    const n = (this.perClient.get(e.clientId) ?? 0) + delta;
    if (n > 0) this.perClient.set(e.clientId, n);
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
