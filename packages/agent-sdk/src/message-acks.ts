/**
 * §8 agent acknowledgements, the SDK's side: a `client.message` is acknowledged
 * (`{"type":"ack","id"}`) once every `message` listener has returned — for an async listener,
 * once its promise has settled — or earlier when a listener calls `msg.ack()`. A message the
 * bridge delivers again (`redelivered:true`) that this process has already handled, or is still
 * handling, is acknowledged without running the listeners a second time.
 */
import type { ClientMessageToAgentFrame } from '@agent-bridge/common/protocol';

/** What `message` listeners get: the frame plus `ack()` (`redelivered` is on the frame). */
export type ClientMessageEvent = ClientMessageToAgentFrame & {
  /** Acknowledge now instead of when the listeners finish (no-op the second time, or without acks). */
  ack(): void;
};

/** Ids of messages handled lately (redelivery of them is acknowledged, not handled again). */
const RECENT_LIMIT = 1000;

export class MessageAcks {
  /**
   * The last RECENT_LIMIT ids handled, as a ring: remembering is one store per message (it was a
   * Set add + delete: 1.5 µs per echo round trip). Looking one up scans the ring, which happens
   * only for a frame marked `redelivered` — after a reconnect, not per message.
   */
  private readonly recent: (string | undefined)[] = new Array(RECENT_LIMIT);
  private next = 0;
  private readonly handling = new Map<string, Promise<void>>();

  /**
   * `send(id)` writes the ack if the link it came on is still the current one (the caller knows).
   * Returns whether the listeners should run for this frame.
   */
  shouldHandle(frame: ClientMessageToAgentFrame, sendAck: () => void): boolean {
    if (frame.redelivered !== true) return true;
    const running = this.handling.get(frame.id);
    if (running !== undefined) {
      void running.then(sendAck);
      return false;
    }
    if (this.recent.includes(frame.id)) {
      sendAck();
      return false;
    }
    return true;
  }

  /** The listeners of `id` are running; `done` settles when they all have. */
  started(id: string, done: Promise<void> | undefined): void {
    this.recent[this.next] = id;
    this.next = (this.next + 1) % RECENT_LIMIT;
    if (!done) return;
    this.handling.set(id, done);
    void done.then(() => this.handling.delete(id));
  }
}
