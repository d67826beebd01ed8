import { FifoMap } from '@agent-bridge/common';
import { AgentSdkError } from './errors.ts';

/**
 * Frames the bridge has not yet taken, in the order they were first sent, bounded. Two kinds
 * share the bound (`outboxLimit`): frames sent while the agent was not connected (not yet
 * written), and, on a connection with §8 acknowledgements, frames written but not yet answered
 * `accepted` (a crash of the broker or the link may have lost them). After a redial all of them
 * go out again, in order; the bridge de-duplicates by id. When full it refuses (throws) instead
 * of dropping: the caller decides what losing a frame means, never the SDK.
 */
export class Outbox {
  /** id → serialized frame, in sending order (FifoMap: why not a Map, see there). */
  private frames = new FifoMap<string>();

  constructor(readonly limit: number) {}

  /** Keep a frame until it is accepted (or, without acks, until the next flush). */
  push(id: string, serialized: string): void {
    if (this.frames.has(id)) {
      throw new AgentSdkError('invalid_frame', `a frame with id "${id}" is still waiting for the bridge; ids must be unique`);
    }
    if (this.frames.size >= this.limit) {
      throw new AgentSdkError(
        'outbox_full',
        `the outbox already holds ${this.limit} frames not yet taken by the bridge (outboxLimit); the frame was not queued`,
      );
    }
    this.frames.set(id, serialized);
  }

  /** Whether one more frame fits. */
  get full(): boolean {
    return this.frames.size >= this.limit;
  }

  /** The bridge took (or refused) the frame with this id. */
  settle(id: string): boolean {
    return this.frames.delete(id);
  }

  /** Every held frame, oldest first; they stay held (until accepted). */
  all(): string[] {
    return this.frames.values();
  }

  /** Take every held frame, oldest first, leaving the outbox empty. */
  drain(): string[] {
    const out = this.frames.values();
    this.frames.clear();
    return out;
  }

  get size(): number {
    return this.frames.size;
  }
}
