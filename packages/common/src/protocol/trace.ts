/**
 * W3C Trace Context on frames (PROTOCOL §11): any frame may carry
 * `_meta: {traceparent, tracestate}`; the bridge passes `_meta` through unchanged and starts a
 * trace where a frame came without a valid one, so one trace id follows a message through every
 * process's logs. Browser-safe (no node imports): the SPA and the browser client use it too.
 *
 * Two ways in, for two kinds of caller:
 * - parsed frames (broker): `ensureMeta(frame)` gives the `_meta` to forward; the broker puts it
 *   into the object it serialises anyway (its SeqMessageTemplate body), so tracing costs no extra
 *   JSON.stringify on the hot path;
 * - raw text (web server pipe, which never parses): `peekMeta(text)` finds a top-level `_meta`
 *   without parsing the payload, and `attachMeta(text, metaJson)` prepends one by string splice.
 */

export interface TraceParent {
  /** 2 lowercase hex digits; never `ff`. */
  version: string;
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: the span that sent this frame. */
  parentId: string;
  /** 2 lowercase hex digits; bit 0 = sampled. */
  flags: string;
}

/** The trace fields of a frame's `_meta`. Other `_meta` keys are the sender's and pass unchanged. */
export interface TraceMeta {
  traceparent: string;
  tracestate?: string;
  [key: string]: unknown;
}

/** 1 for the char codes of lowercase hex digits. */
const IS_HEX = new Uint8Array(128);
for (const c of '0123456789abcdef') IS_HEX[c.charCodeAt(0)] = 1;

/** `text[start, end)` is lowercase hex; with `nonZero`, not all `0`. A table lookup per char: no regex, no slice. */
function lowerHex(text: string, start: number, end: number, nonZero: boolean): boolean {
  let nonZeroSeen = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || IS_HEX[c] === 0) return false;
    nonZeroSeen |= c ^ 0x30;
  }
  return !nonZero || nonZeroSeen !== 0;
}

const DASH = 0x2d;

/** parseTraceparent's rules as a yes/no, allocating nothing (every frame's `_meta` is checked). */
function isTraceparent(value: unknown): value is string {
  if (typeof value !== 'string' || value.length < 55) return false;
  if (!lowerHex(value, 0, 2, false) || value.startsWith('ff')) return false;
  if (value.startsWith('00') ? value.length !== 55 : value.length > 55 && value.charCodeAt(55) !== DASH) return false;
  if (value.charCodeAt(2) !== DASH || value.charCodeAt(35) !== DASH || value.charCodeAt(52) !== DASH) return false;
  return lowerHex(value, 3, 35, true) && lowerHex(value, 36, 52, true) && lowerHex(value, 53, 55, false);
}

/**
 * Parse a traceparent by the W3C rules (Trace Context level 1, §3.2): version 00 is exactly
 * 55 characters; a higher version may be longer, but only with a `-` after the flags (the fields
 * we know are read, the rest ignored); version `ff`, upper-case hex, all-zero ids and wrong
 * lengths are invalid, and an invalid traceparent counts as none.
 */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (!isTraceparent(value)) return undefined;
  return { version: value.slice(0, 2), traceId: value.slice(3, 35), parentId: value.slice(36, 52), flags: value.slice(53, 55) };
}

/** We always write version 00 (a higher version's extra fields are not ours to repeat). */
export function formatTraceparent(tp: Pick<TraceParent, 'traceId' | 'parentId' | 'flags'>): string {
  return `00-${tp.traceId}-${tp.parentId}-${tp.flags}`;
}

export const MAX_TRACESTATE_MEMBERS = 32;
const SIMPLE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;
// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * A tracestate normalised (empty members and optional whitespace around commas removed), or
 * undefined when it breaks the W3C rules (bad key or value, a duplicate key, more than 32
 * members): a vendor may then discard it whole, and we do rather than forward half of it.
 */
export function parseTracestate(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of value.split(',')) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    if (member === '') continue;
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (!(SIMPLE_KEY.test(key) || TENANT_KEY.test(key)) || !VALUE.test(val) || keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
  }
  if (members.length === 0 || members.length > MAX_TRACESTATE_MEMBERS) return undefined;
  return members.join(',');
}

/**
 * Random ids from a pool: `crypto.getRandomValues` costs a native call (a synchronous
 * RandomBytesJob, ~2 µs) whatever its size, and a bridge that starts a trace per frame makes
 * 24 random bytes per frame. One call fills RANDOM_POOL_BYTES (170 traceparents); every id still
 * gets bytes of its own from the same CSPRNG, never reused. Hex by table, not toString(16).
 */
const RANDOM_POOL_BYTES = 4096;
const pool = new Uint8Array(RANDOM_POOL_BYTES);
let poolOffset = RANDOM_POOL_BYTES; // filled on first use
const HEX_BYTE: string[] = Array.from({ length: 256 }, (_, b) => (b < 16 ? '0' : '') + b.toString(16));

function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > RANDOM_POOL_BYTES) {
      globalThis.crypto.getRandomValues(pool);
      poolOffset = 0;
    }
    let out = '';
    let zero = true;
    for (let i = poolOffset, end = poolOffset + bytes; i < end; i++) {
      const b = pool[i]!;
      if (b !== 0) zero = false;
      out += HEX_BYTE[b]!;
    }
    poolOffset += bytes;
    // All-zero ids are invalid; with 8+ random bytes this runs again with odds of 2^-64.
    if (!zero) return out;
  }
}
export const newTraceId = (): string => randomHex(16);
export const newSpanId = (): string => randomHex(8);

const HEX_CODE = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** `00-<32 hex>-<16 hex>-01` as char codes; the hex digits are rewritten for each new traceparent. */
const TRACEPARENT_CODES = Array.from('00-00000000000000000000000000000000-0000000000000000-01', (c) => c.charCodeAt(0));

/**
 * A traceparent for a trace the bridge starts. Sampled, so an exporting collector keeps it.
 * Written as char codes into one flat string (the broker starts one per frame that came without).
 */
export function newTraceparent(): string {
  for (;;) {
    if (poolOffset + 24 > RANDOM_POOL_BYTES) {
      globalThis.crypto.getRandomValues(pool);
      poolOffset = 0;
    }
    let traceOr = 0;
    let spanOr = 0;
    let j = 3;
    for (let i = 0; i < 24; i++) {
      const b = pool[poolOffset + i]!;
      if (i < 16) traceOr |= b;
      else {
        if (i === 16) j = 36;
        spanOr |= b;
      }
      TRACEPARENT_CODES[j++] = HEX_CODE[b >> 4]!;
      TRACEPARENT_CODES[j++] = HEX_CODE[b & 15]!;
    }
    poolOffset += 24;
    // All-zero ids are invalid; with 8+ random bytes this runs again with odds of 2^-64.
    if (traceOr !== 0 && spanOr !== 0) return String.fromCharCode.apply(null, TRACEPARENT_CODES);
  }
}

/** Same trace, a new span: what a hop that records its own span (OTel) names as the parent downstream. */
export function childTraceparent(parent: TraceParent, spanId: string = newSpanId()): string {
  return formatTraceparent({ traceId: parent.traceId, parentId: spanId, flags: parent.flags });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A parsed frame's `_meta` when its traceparent is valid (tracestate only if valid too), else undefined. */
export function readMeta(frame: unknown): TraceMeta | undefined {
  if (!isRecord(frame)) return undefined;
  return metaOf(frame._meta);
}

function metaOf(meta: unknown): TraceMeta | undefined {
  if (!isRecord(meta) || !isTraceparent(meta.traceparent)) return undefined;
  if (meta.tracestate === undefined || parseTracestate(meta.tracestate) === meta.tracestate) return meta as TraceMeta;
  // A bad tracestate is dropped and the rest kept (the traceparent alone is still one trace).
  const { tracestate: _dropped, ...rest } = meta;
  return rest as TraceMeta;
}

export interface EnsuredMeta {
  /** What to forward as `_meta`: the frame's own when valid (same object), else a new one. */
  meta: TraceMeta;
  traceId: string;
  /** True when the bridge started this trace (the frame had none, or an invalid one). */
  started: boolean;
}

/**
 * The `_meta` to forward with a frame. A valid one passes unchanged; without a valid
 * traceparent the bridge starts a trace, keeping the sender's other `_meta` keys but not its
 * tracestate (W3C: a tracestate without a valid traceparent is discarded).
 */
export function ensureMeta(frame: unknown): EnsuredMeta {
  const raw = isRecord(frame) ? frame._meta : undefined;
  const meta = metaOf(raw);
  if (meta) return { meta, traceId: (meta.traceparent as string).slice(3, 35), started: false };
  const traceparent = newTraceparent();
  const traceId = traceparent.slice(3, 35);
  // The common case: no `_meta` at all (nothing of the sender's to keep).
  if (raw === undefined) return { meta: { traceparent }, traceId, started: true };
  const rest: Record<string, unknown> = isRecord(raw) ? { ...raw } : {};
  delete rest.tracestate;
  return { meta: { ...rest, traceparent }, traceId, started: true };
}

/**
 * ensureMeta's `meta` alone, for the hot path that only forwards it (no result object, no trace-id
 * slice): the frame's own valid `_meta` (same object), else a new trace keeping the sender's
 * other keys. `traceIdOf(result)` gives the trace id when a log line needs it.
 */
export function forwardMeta(frame: { _meta?: unknown }): TraceMeta {
  const raw = frame._meta;
  if (raw === undefined) return { traceparent: newTraceparent() };
  return metaOf(raw) ?? ensureMeta(frame).meta;
}

/** The trace id of a `_meta` (for log lines), or undefined. */
export function traceIdOf(meta: TraceMeta | undefined): string | undefined {
  return meta && isTraceparent(meta.traceparent) ? meta.traceparent.slice(3, 35) : undefined;
}

// ---------------------------------------------------------------- raw text (no payload parse)

const BACKSLASH = 0x5c;

/** Index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) return -1;
    let slashes = 0;
    for (let k = q - 1; text.charCodeAt(k) === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q;
    i = q + 1;
  }
}

function skipSpace(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  return i;
}

/** End (exclusive) of the JSON value starting at `i`. */
function valueEnd(text: string, i: number): number {
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = stringEnd(text, i);
      if (i < 0) return text.length;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return i;
      depth--;
    } else if (c === ',' && depth === 0) return i;
  }
  return i;
}

/**
 * The text of a top-level key's value in a JSON object text, found by scanning (strings skipped
 * by their quotes, nesting counted) rather than parsing: the payload is never materialised.
 */
function topLevelValue(text: string, key: string): string | undefined {
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return undefined;
  let depth = 0;
  let expectKey = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      if (depth === 1 && expectKey) {
        let name = text.slice(i + 1, end);
        if (name.includes('\\')) name = safeParse(text.slice(i, end + 1)) as string;
        let j = skipSpace(text, end + 1);
        if (text[j] !== ':') return undefined;
        j = skipSpace(text, j + 1);
        if (name === key) return text.slice(j, valueEnd(text, j));
        expectKey = false;
        i = j - 1;
        continue;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return undefined;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A raw frame's valid `_meta` (as readMeta), found without parsing the frame: frames without the
 * text `_meta` anywhere (almost all, until senders adopt tracing) cost one indexOf. A key whose
 * `_meta` is itself written with escapes (`"\u005fmeta"`; no JSON encoder does that) is missed
 * here and seen only where the frame is parsed.
 */
export function peekMeta(text: string): TraceMeta | undefined {
  if (!text.includes('_meta')) return undefined;
  const value = topLevelValue(text, '_meta');
  return value === undefined ? undefined : metaOf(safeParse(value));
}

/**
 * Prepend `"_meta":<metaJson>` to a JSON object text by splicing, not re-serialising (pass the
 * meta serialised once when one meta goes on many frames). Put first, so that if the frame
 * already had a `_meta` (callers check with peekMeta), JSON.parse keeps the sender's: the later
 * duplicate key wins. Text that is not an object is returned unchanged.
 */
export function attachMeta(text: string, meta: TraceMeta | string): string {
  const json = typeof meta === 'string' ? meta : JSON.stringify(meta);
  const open = skipSpace(text, 0);
  if (text[open] !== '{') return text;
  const next = skipSpace(text, open + 1);
  const sep = text[next] === '}' ? '' : ',';
  return `{"_meta":${json}${sep}${text.slice(open + 1)}`;
}
