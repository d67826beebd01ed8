/**
 * Parse helpers that never throw: a peer's bad frame is an ordinary outcome, answered with a
 * typed error code, not an exception that could take a process down.
 */
import type { z } from 'zod';
import type { ErrorCode } from './codes.ts';

export type ParseResult<T> =
  | { ok: true; frame: T }
  | { ok: false; code: ErrorCode; message: string; ref?: string };

/**
 * How deeply a frame may nest objects and arrays, the frame object itself being level 1 (so
 * `data` may nest 63 levels). A deeper value parses, but re-serialising it (the broker renders
 * every frame it forwards) recurses once per level and overflows the stack at a few thousand:
 * refused up front with `invalid_message`. No frame of the contract needs more than a handful of
 * levels; 64 leaves room for agents' own state documents (AG-UI `STATE_SNAPSHOT`).
 */
export const MAX_JSON_DEPTH = 64;

export type DecodeResult =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; code: 'invalid_json' | 'invalid_message'; message: string; ref?: string };

/**
 * Decode a text frame into a plain JSON object, or say why not: `invalid_json` when it is not
 * one JSON object, `invalid_message` when it nests deeper than `maxDepth` (with `ref` = its `id`).
 */
export function decodeJson(raw: string, maxDepth = MAX_JSON_DEPTH): DecodeResult {
  let value: unknown;
  try {
    // V8's JSON.parse is iterative: any depth parses without exhausting the stack.
    value = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'frame is not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, code: 'invalid_json', message: 'frame must be a JSON object' };
  }
  const obj = value as Record<string, unknown>;
  if (jsonDepthExceeds(raw, maxDepth)) {
    const message = `frame nests deeper than ${maxDepth} levels`;
    const ref = refOf(obj);
    return ref === undefined ? { ok: false, code: 'invalid_message', message } : { ok: false, code: 'invalid_message', message, ref };
  }
  return { ok: true, value: obj };
}

/**
 * Whether valid JSON text nests objects/arrays deeper than `max` levels. One pass over the text
 * without recursion (brackets inside strings do not count), so it cannot overflow the stack.
 */
export function jsonDepthExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Jump to the closing quote (native indexOf: long texts cost next to nothing); a quote
      // preceded by an odd number of backslashes is escaped and does not close the string.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0) return false;
        let k = i - 1;
        while (text.charCodeAt(k) === 0x5c /* \ */) k--;
        if ((i - 1 - k) % 2 === 0) break;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return false;
}

/** A frame's `id` when it can be echoed as `ref`: a non-empty string of at most 128 characters. */
function refOf(value: Record<string, unknown>): string | undefined {
  const id = value.id;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : undefined;
}

/**
 * The `id` of a frame refused without validating it (rate limit, outage), to echo as `ref`:
 * a non-empty string of at most 128 characters, else undefined.
 */
export function peekRef(raw: string): string | undefined {
  const decoded = decodeJson(raw);
  if (decoded.ok) return refOf(decoded.value);
  return decoded.ref;
}

/** Decode and validate a frame against `schema`; `ref` is the frame's `id` when it had one. */
export function parseFrame<S extends z.ZodType>(raw: string, schema: S): ParseResult<z.infer<S>> {
  const decoded = decodeJson(raw);
  if (!decoded.ok) return decoded;
  return validateFrame(decoded.value, schema);
}

export function validateFrame<S extends z.ZodType>(value: Record<string, unknown>, schema: S): ParseResult<z.infer<S>> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, frame: result.data };
  const id = typeof value.id === 'string' && value.id.length <= 128 ? value.id : undefined;
  const issue = result.error.issues[0];
  let message: string;
  if (typeof value.type !== 'string') message = 'type is required and must be a string';
  else if (issue?.code === 'invalid_union' && issue.path.length === 1 && issue.path[0] === 'type')
    message = `unknown frame type "${value.type.slice(0, 40)}"`;
  else if (issue) {
    const where = issue.path.join('.');
    message = where && !issue.message.startsWith(where) ? `${where}: ${issue.message}` : issue.message;
  } else message = 'invalid frame';
  return id === undefined ? { ok: false, code: 'invalid_message', message } : { ok: false, code: 'invalid_message', message, ref: id };
}
