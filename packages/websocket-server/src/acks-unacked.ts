/**
 * §8 opt-in agent acknowledgements: the `client.message`s an opted-in connection was handed
 * (written to its socket) and has not acknowledged. When it goes, they are delivered again —
 * same `id`, `"redelivered":true` — to the name's next pinned connection, ahead of anything newer
 * (agent-lifecycle puts them back before the mailbox's undelivered ones). Bounded per name:
 * AGENT_QUEUE_LIMIT entries and SESSION_TTL_MS from when the client sent each; beyond, the oldest
 * count as delivered (forgotten), as PROTOCOL §8 says.
 */
import { FifoMap } from '@agent-bridge/common';
import type { WaitEntry } from './agent-wait-queue.ts';

interface Unacked {
  entry: WaitEntry;
  agentId: string;
}

export class UnackedMessages {
  /**
   * name → client.message id → what was handed to which connection, oldest first. A FifoMap, not
   * a Map: one entry comes and goes per message (common/src/fifo-map.ts says what a Map cost).
   */
  private readonly names = new Map<string, FifoMap<Unacked>>();

  constructor(
    private readonly limit: number,
    private readonly ttlMs: number,
  ) {}

  /** An opted-in connection's socket was handed this client.message. */
  sent(name: string, agentId: string, entry: WaitEntry): void {
    if (entry.msgId === undefined || this.limit === 0) return;
    let held = this.names.get(name);
    if (!held) this.names.set(name, (held = new FifoMap()));
    held.set(entry.msgId, { entry, agentId });
    if (held.size > this.limit) held.shift();
  }

  /** `{"type":"ack","id"}` from that connection; anything else (unknown id, another's) is ignored. */
  ack(name: string, agentId: string, id: string): boolean {
    const held = this.names.get(name);
    const u = held?.get(id);
    if (!u || u.agentId !== agentId) return false;
    held!.delete(id);
    if (held!.size === 0) this.names.delete(name);
    return true;
  }

  /** The connection went: its unacknowledged messages, oldest first, marked redelivered. */
  take(name: string, agentId: string, now = Date.now()): WaitEntry[] {
    const held = this.names.get(name);
    if (!held) return [];
    const out: WaitEntry[] = [];
    for (const [id, u] of held.entries()) {
      if (u.agentId !== agentId) continue;
      held.delete(id);
      if (u.entry.sentAt + this.ttlMs > now) out.push(redelivered(u.entry));
    }
    if (held.size === 0) this.names.delete(name);
    return out;
  }

  /** Held for redelivery, all names (tests, ops). */
  get size(): number {
    let n = 0;
    for (const held of this.names.values()) n += held.size;
    return n;
  }
}

const FLAG = ',"redelivered":true}';

/** The same client.message with `"redelivered":true` (the payload is one JSON object). */
export function redelivered(entry: WaitEntry): WaitEntry {
  if (entry.redelivered) return entry;
  const payload = entry.payload.slice(0, entry.payload.lastIndexOf('}')) + FLAG;
  return { ...entry, payload, bytes: entry.bytes + FLAG.length - 1, redelivered: true };
}
