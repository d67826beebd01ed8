/**
 * Parses what the bridge sends a browser client (PROTOCOL §3) into the typed frames of
 * frames.ts, instead of casting. Hand-written rather than common's zod schemas so the published
 * bundle stays small (zod would make it ~12× bigger); test/parse-frame.test.ts checks, with
 * generated frames, that it accepts and refuses exactly what common's BridgeToClientFrame does
 * for the five frame types. Unknown frame types are not an error: a newer bridge may send more.
 */
import type { AcceptedFrame, ClientWelcomeFrame, DeliveredMessageFrame, ErrorFrame, SystemFrame } from './frames.ts';

export type InboundFrame = ClientWelcomeFrame | DeliveredMessageFrame | SystemFrame | ErrorFrame | AcceptedFrame;

export type ParsedFrame =
  | { ok: true; frame: InboundFrame }
  | { ok: true; frame: undefined; type: string }
  | { ok: false; message: string };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const optional = (v: unknown, check: (x: unknown) => boolean) => v === undefined || check(v);
const isMeta = (v: unknown) => isObj(v);
/** §8 `accepted=inline`: the ids riding on a frame (common's `carriedAccepted`). */
const isCarried = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => isStr(x) && x.length >= 1 && x.length <= 128);

/** What is wrong with a frame of a known type, or undefined when it is well-formed. */
function problem(f: Obj): string | undefined {
  switch (f.type) {
    case 'welcome':
      if (!isStr(f.clientId) || f.clientId.length < 1 || f.clientId.length > 128) return 'welcome.clientId';
      if (!isStr(f.epoch)) return 'welcome.epoch';
      if (typeof f.resumed !== 'boolean') return 'welcome.resumed';
      if (!isInt(f.replayed, 0)) return 'welcome.replayed';
      if (!isInt(f.lastSeq, 0)) return 'welcome.lastSeq';
      if (!isInt(f.heartbeatMs, 1)) return 'welcome.heartbeatMs';
      if (!isStrArray(f.agents)) return 'welcome.agents';
      if (!optional(f.address, (a) => a === null || isStr(a))) return 'welcome.address';
      if (!optional(f.acks, (a) => typeof a === 'boolean')) return 'welcome.acks';
      return undefined;
    case 'message':
      if (!isInt(f.seq, 1)) return 'message.seq';
      if (!optional(f.merged, (m) => Array.isArray(m) && m.length === 2 && isInt(m[0], 1) && isInt(m[1], 1))) return 'message.merged';
      if (!isStr(f.id)) return 'message.id';
      if (!isStr(f.from)) return 'message.from';
      // Present, whatever its value (null included): a message always carries the agent's data.
      if (!('data' in f)) return 'message.data';
      if (!isStr(f.ts)) return 'message.ts';
      if (!optional(f._meta, isMeta)) return 'message._meta';
      if (!optional(f.accepted, isCarried)) return 'message.accepted';
      return undefined;
    case 'system':
      if (!optional(f.seq, (s) => isInt(s, 1))) return 'system.seq';
      if (!isStr(f.event)) return 'system.event';
      if (!optional(f.ts, isStr)) return 'system.ts';
      if (!optional(f.accepted, isCarried)) return 'system.accepted';
      return undefined;
    case 'error':
      if (!isStr(f.code)) return 'error.code';
      if (!isStr(f.message)) return 'error.message';
      if (!optional(f.ref, isStr)) return 'error.ref';
      if (!optional(f.clientIds, isStrArray)) return 'error.clientIds';
      if (!optional(f.accepted, isCarried)) return 'error.accepted';
      return undefined;
    case 'accepted':
      if (!isStr(f.ref)) return 'accepted.ref';
      return undefined;
    default:
      return undefined;
  }
}

const KNOWN = new Set(['welcome', 'message', 'system', 'error', 'accepted']);

/** Parse one text frame. */
export function parseInboundFrame(raw: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, message: 'frame is not JSON' };
  }
  if (!isObj(value) || !isStr(value.type)) return { ok: false, message: 'frame has no type' };
  if (!KNOWN.has(value.type)) return { ok: true, frame: undefined, type: value.type };
  const bad = problem(value);
  if (bad !== undefined) return { ok: false, message: `malformed ${bad}` };
  return { ok: true, frame: value as unknown as InboundFrame };
}
