/**
 * Client messages for an agent name with no connection (PROTOCOL §5), in order, bounded by count
 * (AGENT_QUEUE_LIMIT per name and per client), bytes (WAIT_QUEUE_CLIENT_BYTES per client,
 * WAIT_QUEUE_BUDGET_BYTES in all) and age (SESSION_TTL_MS). A message that cannot wait, or whose
 * wait ends, goes to the `rejected` listener so that its client gets `agent_unavailable`: nothing
 * is dropped silently. The memory implementation is AgentWaitQueues (agent-wait-queue.ts).
 */
import type { OfferResult, WaitEntry } from '../agent-wait-queue.ts';
import type { Awaitable } from './awaitable.ts';

export type { OfferResult, WaitEntry };

export interface WaitQueueStore {
  /** Queue at the tail of `entry.agent`'s queue, or say why it cannot wait. */
  /** `fresh`: a frame just read from its client (a shared store recognises a resend of one queued before). */
  offer(entry: WaitEntry, fresh?: boolean): Awaitable<OfferResult>;
  /** Put back messages a connection never got, ahead of the rest; the overflow is rejected. */
  requeueFront(name: string, entries: WaitEntry[]): Awaitable<void>;
  /** Everything waiting for `name`, oldest first; the queue is emptied. */
  take(name: string): Awaitable<WaitEntry[]>;
  /** Messages whose wait ended (age) or that overflowed a put-back: answer their clients. */
  onRejected(listener: (entry: WaitEntry) => void): void;
  /** Waiting messages per name, and the bytes held (metrics, ops view). */
  depths(): Awaitable<Map<string, number>>;
  heldBytes(): Awaitable<number>;
  /** Shutdown: forget everything, stop every timer. */
  clear(): Awaitable<void>;
}
