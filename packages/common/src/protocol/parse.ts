/**
 * Parse helpers that never throw: a peer's bad frame is an ordinary outcome, answered with a
 * typed error code, not an exception that could take a process down.
 */
import type { z } from 'zod';
import type { ErrorCode } from './codes.ts';

export type ParseResult<T> =
  | { ok: true; frame: T }
  | { ok: false; code: ErrorCode; message: string; ref?: string };

/** Decode a text frame into a plain JSON object, or say why not. */
export function decodeJson(raw: string): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, message: 'frame is not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, message: 'frame must be a JSON object' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * The `id` of a frame refused without validating it (rate limit, outage), to echo as `ref`:
 * a non-empty string of at most 128 characters, else undefined.
 */
export function peekRef(raw: string): string | undefined {
  const decoded = decodeJson(raw);
  if (!decoded.ok) return undefined;
  const id = decoded.value.id;
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : undefined;
}

/** Decode and validate a frame against `schema`; `ref` is the frame's `id` when it had one. */
export function parseFrame<S extends z.ZodType>(raw: string, schema: S): ParseResult<z.infer<S>> {
  const decoded = decodeJson(raw);
  if (!decoded.ok) return { ok: false, code: 'invalid_json', message: decoded.message };
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
