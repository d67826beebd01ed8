/**
 * Client messages for an agent name with no connection (PROTOCOL §5): kept in order, at most
 * AGENT_QUEUE_LIMIT per name and SESSION_TTL_MS each (counted from when the client sent it).
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

  constructor(
    private readonly limit: number,
    private readonly maxAgeMs: number,
    private readonly onReject: (entry: WaitEntry) => void,
  ) {}

  /** Queue at the tail; false when it cannot wait (the caller answers agent_unavailable). */
  offer(entry: WaitEntry): boolean {
    if (this.limit === 0 || this.maxAgeMs === 0) return false;
    const q = this.queues.get(entry.agent) ?? [];
    if (q.length >= this.limit) return false;
    q.push(entry);
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
    const q = [...entries, ...(this.queues.get(name) ?? [])];
    const over = q.length > this.limit ? q.splice(this.limit) : [];
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
    for (const e of expired) this.onReject(e);
    this.schedule(name);
  }

  private clearTimer(name: string): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }
}
