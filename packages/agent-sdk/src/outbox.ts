import { AgentSdkError } from './errors.ts';

/**
 * Frames sent while the agent is not connected, in order, bounded. When full it refuses (throws)
 * instead of dropping: the caller decides what losing a frame means, never the SDK.
 */
export class Outbox {
  private frames: string[] = [];

  constructor(readonly limit: number) {}

  push(serialized: string): void {
    if (this.frames.length >= this.limit) {
      throw new AgentSdkError(
        'outbox_full',
        `not connected and the outbox already holds ${this.limit} frames (outboxLimit); the frame was not queued`,
      );
    }
    this.frames.push(serialized);
  }

  /** Take every queued frame, oldest first, leaving the outbox empty. */
  drain(): string[] {
    const out = this.frames;
    this.frames = [];
    return out;
  }

  get size(): number {
    return this.frames.length;
  }
}
