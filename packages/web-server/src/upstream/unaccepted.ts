/**
 * §8 at the pipe: the browser frames with an `id` this web server handed to a broker and has not
 * yet seen answered (`accepted`, or an `error` naming it). When the upstream is lost they go back
 * to the head of the outage hold, ahead of what the browser sent during the outage, so that a
 * frame that died with its broker reaches the next one first: in order, and — the broker
 * recognising a resend — once. A browser client library that resends its own unaccepted frames
 * after `bridge.reconnected` (ours does) then only repeats what the broker already has.
 * Bounded: beyond `limit` the oldest are no longer tracked (their sender's own resend covers them).
 *
 * Per frame, this runs on every browser message and every `accepted` (issue 12 item 5): the
 * shapes our own browser client and broker write are read without JSON.parse (`messageId`,
 * `acceptedRef`); anything else takes the parsing path, with the same outcome.
 */
import { ACCEPTED_FIELD, decodeJson, FrameType } from '@agent-bridge/common';

const ACCEPTED = `{"type":"${FrameType.accepted}","ref":`;
const ERROR = `{"type":"${FrameType.error}"`;
const ACCEPTED_BYTES = Buffer.from(ACCEPTED, 'latin1');
const ERROR_BYTES = Buffer.from(ERROR, 'latin1');
/** How the browser client's (and most clients') `message` frames with an id begin. */
const MESSAGE_ID = Buffer.from(`{"type":"${FrameType.message}","id":"`, 'latin1');
/** How an `accepted` list riding on another frame begins (accepted=inline). */
const CARRIED = Buffer.from(`,"${ACCEPTED_FIELD}":[`, 'latin1');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The `id` of a browser `message` frame written as `{"type":"message","id":"<plain string>",…`,
 * without parsing the frame; undefined when the frame has another shape, the id has escapes, or
 * the text has a second `"id"` anywhere (a duplicate key: JSON.parse would keep the last one, so
 * such a frame takes the parsing path). The caller still has the broker validate the frame: this
 * only says under which id the pipe remembers it.
 */
export function messageId(raw: Buffer): string | undefined {
  const start = MESSAGE_ID.length;
  if (raw.length <= start + 1 || !startsWith(raw, MESSAGE_ID)) return undefined;
  const end = raw.indexOf(QUOTE, start);
  if (end < 0) return undefined;
  const slash = raw.indexOf(BACKSLASH, start);
  if (slash >= 0 && slash < end) return undefined;
  if (raw.includes('"id"', end)) return undefined;
  // A JSON object ends with `}` (whitespace after it is allowed but not what clients write).
  if (raw[raw.length - 1] !== 0x7d) return undefined;
  return raw.toString('utf8', start, end);
}

/**
 * The `ref` of a broker `accepted` frame, `{"type":"accepted","ref":"…"}` exactly as the broker
 * writes it (acks.ts acceptedFrame); escapes in the ref are decoded by JSON.parse of the ref alone.
 */
export function acceptedRef(data: Buffer): string | undefined {
  const start = ACCEPTED.length;
  const n = data.length;
  if (n < start + 3 || data[start] !== QUOTE || data[n - 1] !== 0x7d || data[n - 2] !== QUOTE) return undefined;
  const slash = data.indexOf(BACKSLASH, start);
  if (slash < 0 || slash >= n - 2) {
    // No escapes: the ref is the bytes between the quotes (the closing one is the last before `}`).
    const close = data.indexOf(QUOTE, start + 1);
    return close === n - 2 ? data.toString('utf8', start + 1, n - 2) : undefined;
  }
  try {
    const ref: unknown = JSON.parse(data.toString('utf8', start, n - 1));
    return typeof ref === 'string' ? ref : undefined;
  } catch {
    return undefined;
  }
}

/** A broker `accepted` frame (by its first bytes). */
export function isAcceptedFrame(data: Buffer): boolean {
  return startsWith(data, ACCEPTED_BYTES);
}

function startsWith(data: Buffer, head: Buffer): boolean {
  return data.length >= head.length && data.compare(head, 0, head.length, 0, head.length) === 0;
}

export class UnacceptedFrames {
  private readonly frames = new Map<string, Buffer>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.frames.size;
  }

  /** A browser frame went to the broker. */
  sent(raw: Buffer): void {
    if (this.limit === 0) return;
    const id = messageId(raw) ?? this.parsedId(raw);
    if (id === undefined) return;
    this.frames.delete(id);
    this.frames.set(id, raw);
    if (this.frames.size > this.limit) this.frames.delete(this.frames.keys().next().value!);
  }

  /** A `message` or `cancel` frame's id the long way (any other shape: undefined). */
  private parsedId(raw: Buffer): string | undefined {
    if (!raw.includes('"id"')) return undefined;
    const decoded = decodeJson(raw.toString());
    if (!decoded.ok) return undefined;
    const { type, id } = decoded.value;
    if ((type !== FrameType.message && type !== FrameType.cancel) || typeof id !== 'string') return undefined;
    return id;
  }

  /** A broker frame for the browser: an `accepted` or an `error` with a ref settles that frame. */
  answered(data: Buffer): void {
    if (this.frames.size === 0) return;
    if (startsWith(data, ACCEPTED_BYTES)) return this.settled(data);
    if (!startsWith(data, ERROR_BYTES)) return;
    const ref = this.parsedRef(data);
    if (ref !== undefined) this.frames.delete(ref);
  }

  /**
   * A frame from an upstream opened with `accepted=inline`: the `accepted`s riding on it, as its
   * last member `,"accepted":["…",…]}` (mailbox.ts `carryLazy`), are answered. Returns where the
   * frame's own members end (the member's comma), or its length when nothing rides on it. The
   * member is the last one and its quotes are bare, so no string inside the frame can fake it
   * (quotes in JSON strings are escaped).
   */
  carried(data: Buffer): number {
    const n = data.length;
    if (n < CARRIED.length + 5 || data[n - 1] !== 0x7d || data[n - 2] !== 0x5d || data[n - 3] !== QUOTE) return n;
    const fast = this.carriedPlain(data, n);
    if (fast !== undefined) return fast;
    const at = data.lastIndexOf(CARRIED);
    if (at < 0) return n;
    let refs: unknown;
    try {
      refs = JSON.parse(data.toString('utf8', at + CARRIED.length - 1, n - 1));
    } catch {
      return n;
    }
    if (!Array.isArray(refs)) return n;
    for (const ref of refs) if (typeof ref === 'string') this.frames.delete(ref);
    return at;
  }

  /**
   * carried() for refs as the broker writes them: plain strings (no escapes) after
   * `,"accepted":[`, read back from the frame's end — no search of the frame, no JSON.parse (it ran
   * for every echo reply: ~240 ns, now ~80). Undefined for any other shape, which then takes the
   * parsing path: nothing is answered until the whole member has been read.
   */
  private carriedPlain(data: Buffer, n: number): number | undefined {
    const bounds = this.refBounds;
    let count = 0;
    let close = n - 3; // the last ref's closing quote
    for (;;) {
      let open = close - 1;
      for (; open > 0; open--) {
        const c = data[open]!;
        if (c === QUOTE) break;
        if (c === BACKSLASH) return undefined;
      }
      if (open <= CARRIED.length || count === bounds.length / 2) return undefined;
      bounds[2 * count] = open + 1;
      bounds[2 * count + 1] = close;
      count++;
      const before = data[open - 1];
      if (before === 0x2c /* , */ && data[open - 2] === QUOTE) {
        close = open - 2;
        continue;
      }
      if (before !== 0x5b /* [ */) return undefined;
      const at = open - CARRIED.length;
      for (let i = 0; i < CARRIED.length - 1; i++) if (data[at + i] !== CARRIED[i]) return undefined;
      for (let i = 0; i < count; i++) this.frames.delete(data.toString('utf8', bounds[2 * i]!, bounds[2 * i + 1]!));
      return at;
    }
  }

  /** [start, end) of each ref carriedPlain reads (a frame carries at most LAZY_HOLD_MAX of them). */
  private readonly refBounds = new Int32Array(128);

  /** An `accepted` frame (isAcceptedFrame): its ref is answered. */
  settled(data: Buffer): void {
    if (this.frames.size === 0) return;
    const ref = acceptedRef(data) ?? this.parsedRef(data);
    if (ref !== undefined) this.frames.delete(ref);
  }

  private parsedRef(data: Buffer): string | undefined {
    const decoded = decodeJson(data.toString());
    return decoded.ok && typeof decoded.value.ref === 'string' ? decoded.value.ref : undefined;
  }

  /** The upstream is gone: every unanswered frame, oldest first (they are forgotten here). */
  takeAll(): Buffer[] {
    const all = [...this.frames.values()];
    this.frames.clear();
    return all;
  }
}
