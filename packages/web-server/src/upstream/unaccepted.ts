/**
 * §8 at the pipe: the browser frames with an `id` this web server handed to a broker and has not
 * yet seen answered (`accepted`, or an `error` naming it). When the upstream is lost they go back
 * to the head of the outage hold, ahead of what the browser sent during the outage, so that a
 * frame that died with its broker reaches the next one first: in order, and — the broker
 * recognising a resend — once. A browser client library that resends its own unaccepted frames
 * after `bridge.reconnected` (ours does) then only repeats what the broker already has.
 * Bounded: beyond `limit` the oldest are no longer tracked (their sender's own resend covers them).
 */
import { decodeJson, FrameType } from '@agent-bridge/common';

const ACCEPTED = `{"type":"${FrameType.accepted}","ref":`;
const ERROR = `{"type":"${FrameType.error}"`;

export class UnacceptedFrames {
  private readonly frames = new Map<string, Buffer>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.frames.size;
  }

  /** A browser frame went to the broker. */
  sent(raw: Buffer): void {
    if (this.limit === 0 || !raw.includes('"id"')) return;
    const decoded = decodeJson(raw.toString());
    if (!decoded.ok) return;
    const { type, id } = decoded.value;
    if ((type !== FrameType.message && type !== FrameType.cancel) || typeof id !== 'string') return;
    this.frames.delete(id);
    this.frames.set(id, raw);
    if (this.frames.size > this.limit) this.frames.delete(this.frames.keys().next().value!);
  }

  /** A broker frame for the browser: an `accepted` or an `error` with a ref settles that frame. */
  answered(data: Buffer): void {
    if (this.frames.size === 0) return;
    const head = data.subarray(0, ACCEPTED.length).toString('latin1');
    if (head === ACCEPTED) {
      const ref = decodeJson(data.toString()).ok ? (JSON.parse(data.toString()) as { ref?: unknown }).ref : undefined;
      if (typeof ref === 'string') this.frames.delete(ref);
      return;
    }
    if (!head.startsWith(ERROR)) return;
    const decoded = decodeJson(data.toString());
    if (decoded.ok && typeof decoded.value.ref === 'string') this.frames.delete(decoded.value.ref);
  }

  /** The upstream is gone: every unanswered frame, oldest first (they are forgotten here). */
  takeAll(): Buffer[] {
    const all = [...this.frames.values()];
    this.frames.clear();
    return all;
  }
}
