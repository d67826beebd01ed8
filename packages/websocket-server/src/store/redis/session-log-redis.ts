/**
 * Session logs in Redis (PROTOCOL §5, §10): a stream per session whose entry ids are the seqs,
 * and a small hash beside it (seq counter, highest seq no longer held, bytes held). The append is
 * one script — like centrifuge's history-add script — that gives the frame its seq, stores it,
 * trims the stream to RESUME_BUFFER_FRAMES / _BYTES and notifies the broker holding the session's
 * socket on its channel: a frame is never stored without its owner being told, nor told without
 * being stored. Pub/sub may still lose the notification; the log stays the truth (seq-gate.ts
 * reads a gap back from here). A frame's text is kept as two halves around its seq, so the seq
 * is written in by the script. Run deltas are not coalesced here (PROTOCOL §9 makes it optional).
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { FrameKind } from '../../mailbox.ts';
import type { LogEntry, LoggedFrame, Replay, SessionLog } from '../session-log.ts';
import type { Keys } from './keys.ts';
import { generationOf, REFS_LUA } from './lua.ts';
import { GRACE_MS } from './session-store-redis.ts';

const SENTINEL = String(Number.MAX_SAFE_INTEGER);
const SEQ_FIELD = `"seq":${SENTINEL}`;

/**
 * KEYS: log meta, log, session record, agent frames' ids. ARGV: frames kept, bytes kept, this
 * broker, bus channel prefix, clientId, now, an orphan log's TTL, the agent ids' TTL and how many
 * are kept per generation (lua.ts); then per frame (a session's frames of one turn, in order):
 * text before and after its seq, notify ('1'), its kind in the mailbox, its type, known-only
 * ('1': nothing without a session record), its agent name + id ('' for none). Answers {owner, seq…}: per frame its seq, 0 (no session and
 * known-only) or -1 (appended before under that id: a resend).
 */
const APPEND = `${REFS_LUA}
local owner = redis.call('HGET', KEYS[3], 'owner')
local orphan = not owner
if orphan then owner = '' end
-- Agent frames appended before under their name + id (one look for all).
local keys = {}
for i = 10, #ARGV, 7 do
  if ARGV[i + 6] ~= '' and not (orphan and ARGV[i + 5] == '1') then table.insert(keys, ARGV[i + 6]) end
end
local known = seen(KEYS[4], keys, tonumber(ARGV[6]) - tonumber(ARGV[8]))
local out = {owner}
local go, at, add = {}, {}, {}
for i = 10, #ARGV, 7 do
  if orphan and ARGV[i + 5] == '1' then
    table.insert(out, 0)
  elseif not first(known, add, ARGV[6], ARGV[i + 6]) then
    table.insert(out, -1)
  else
    table.insert(out, 0)
    table.insert(go, i)
    table.insert(at, #out)
  end
end
if remember(KEYS[4], add, tonumber(ARGV[9])) and orphan then redis.call('PEXPIRE', KEYS[4], ARGV[7]) end
if #go == 0 then return out end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', #go) - #go
local added = 0
for k, i in ipairs(go) do
  seq = seq + 1
  -- The seq as text once (each number Lua turns into text is a printf).
  local s = tostring(seq)
  local text = ARGV[i] .. s .. ARGV[i + 1]
  redis.call('XADD', KEYS[2], s .. '-0', 'f', text, 't', ARGV[i + 4])
  added = added + string.len(text)
  out[at[k]] = seq
  if owner ~= '' and owner ~= ARGV[3] and ARGV[i + 2] == '1' then
    redis.call('PUBLISH', ARGV[4] .. owner, 'D' .. ARGV[6] .. '\\n' .. ARGV[5] .. '\\n' .. ARGV[i + 3] .. '\\n' .. ARGV[i + 4] .. '\\n' .. s .. '\\n' .. text)
  end
end
local bytes = redis.call('HINCRBY', KEYS[1], 'bytes', added)
local n = redis.call('XLEN', KEYS[2])
local maxF = tonumber(ARGV[1])
local maxB = tonumber(ARGV[2])
local freed = 0
local last = nil
-- Oldest first, at least down to the frame bound, then one by one while over the byte bound.
while n > maxF or (bytes - freed > maxB and n > 1) do
  local dead = {}
  for _, e in ipairs(redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', math.max(n - maxF, 1))) do
    if not (n > maxF or (bytes - freed > maxB and n > 1)) then break end
    table.insert(dead, e[1])
    freed = freed + string.len(e[2][2])
    last = e[1]
    n = n - 1
  end
  redis.call('XDEL', KEYS[2], unpack(dead))
end
if last then
  redis.call('HINCRBY', KEYS[1], 'bytes', -freed)
  redis.call('HSET', KEYS[1], 'gone', string.match(last, '^(%d+)'))
end
if orphan then
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
  redis.call('PEXPIRE', KEYS[2], ARGV[7])
elseif owner == '' then
  local ttl = redis.call('PTTL', KEYS[3])
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
return out
`;

const AFTER = `
local m = redis.call('HMGET', KEYS[1], 'seq', 'gone')
local seq = tonumber(m[1] or '0')
local gone = tonumber(m[2] or '0')
local last = tonumber(ARGV[1])
if last > seq or last < gone then return {0, seq} end
return {1, seq, redis.call('XRANGE', KEYS[2], '(' .. last .. '-0', '+')}
`;

const ACK = `
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local upto = math.min(tonumber(ARGV[1]), seq)
local gone = tonumber(redis.call('HGET', KEYS[1], 'gone') or '0')
if upto <= gone then return 0 end
local old = redis.call('XRANGE', KEYS[2], '-', upto .. '-0')
local freed = 0
for _, e in ipairs(old) do
  redis.call('XDEL', KEYS[2], e[1])
  freed = freed + string.len(e[2][2])
end
redis.call('HINCRBY', KEYS[1], 'bytes', -freed)
redis.call('HSET', KEYS[1], 'gone', upto)
return #old
`;

const RESET = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
local seq = redis.call('HGET', KEYS[1], 'seq') or '0'
redis.call('HSET', KEYS[1], 'gone', seq, 'bytes', 0)
return tonumber(seq)
`;

interface PendingAppends {
  frames: { head: string; tail: string; type: string; resolve: (f: LoggedFrame) => void; reject: (err: unknown) => void }[];
  args: string[];
}

export interface RedisLogLimits {
  frames: number;
  bytes: number;
  sessionTtlMs: number;
  /** CLUSTER_REFS_LIMIT: the most agent frame ids kept per session for recognising a resend. */
  agentIdsKept: number;
}

/** What the script needs to write a frame, and what the bus needs to name it. */
export interface AppendMeta {
  /** The frame's kind in the receiving mailbox (broadcast / direct / system). */
  frameKind: string;
}

export class RedisSessionLog implements SessionLog {
  /** A shared body's text halves, computed once however many sessions it goes to. */
  private readonly halves = new WeakMap<object, [string, string]>();
  /** Appends of this turn not yet sent, per session (flush). */
  private readonly pending = new Map<string, PendingAppends>();

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly nodeId: string,
    private readonly limits: RedisLogLimits,
  ) {}

  /** The frame's text before and after its seq. */
  split(entry: LogEntry): [string, string] {
    if ('body' in entry) {
      const known = this.halves.get(entry.body);
      if (known) return known;
    }
    const text = 'body' in entry ? entry.body.render(Number.MAX_SAFE_INTEGER) : entry.render(Number.MAX_SAFE_INTEGER);
    const i = text.indexOf(SEQ_FIELD);
    if (i < 0) throw new Error(`a logged frame of type ${entry.type} has no seq`);
    const at = i + SEQ_FIELD.length - SENTINEL.length;
    const pair: [string, string] = [text.slice(0, at), text.slice(at + SENTINEL.length)];
    if ('body' in entry) this.halves.set(entry.body, pair);
    return pair;
  }

  /** Only for a session that exists (PROTOCOL §3 `send`): undefined for an unknown clientId, nothing stored. */
  appendKnown(clientId: string, entry: LogEntry, kind: FrameKind, dedup?: string): Promise<LoggedFrame | undefined> {
    return this.append(clientId, entry, kind, true, true, dedup).then((f) => (f.seq === 0 ? undefined : f));
  }

  /**
   * `dedup` (an agent frame's name + id, §8): a frame already appended to this session under it
   * (a resend whose accepted was lost with a dying broker) is not appended again: seq -1.
   */
  append(clientId: string, entry: LogEntry, frameKind: FrameKind = 'direct', notify = true, known = false, dedup = ''): Promise<LoggedFrame> {
    const [head, tail] = this.split(entry);
    let batch = this.pending.get(clientId);
    if (!batch) {
      batch = { frames: [], args: [] };
      this.pending.set(clientId, batch);
      // Appended at the end of this turn, together with the session's other frames of the turn.
      queueMicrotask(() => this.flush(clientId));
    }
    batch.args.push(head, tail, notify ? '1' : '0', frameKind, entry.type, known ? '1' : '0', dedup);
    return new Promise<LoggedFrame>((resolve, reject) => batch.frames.push({ head, tail, type: entry.type, resolve, reject }));
  }

  /**
   * One script for the session's frames of this turn (an agent's burst of replies to one client
   * arrives in one read). Run before anything else this class asks about the session, so nothing
   * it reads or trims overtakes an append made before it.
   */
  private flush(clientId: string): void {
    const batch = this.pending.get(clientId);
    if (!batch) return;
    this.pending.delete(clientId);
    const keys = [this.keys.logMeta(clientId), this.keys.log(clientId), this.keys.session(clientId), this.keys.agentFrames(clientId)];
    const fixed = [
      String(this.limits.frames),
      String(this.limits.bytes),
      this.nodeId,
      this.keys.busNode(''),
      clientId,
      String(Date.now()),
      // A log without a session record (it expired meanwhile) lives no longer than a session would.
      String(this.limits.sessionTtlMs + GRACE_MS),
      String(this.limits.sessionTtlMs),
      String(generationOf(this.limits.agentIdsKept)),
    ];
    this.redis.eval<(string | number)[]>(APPEND, keys, fixed.concat(batch.args)).then(
      (answer) => {
        const owner = answer[0] as string;
        batch.frames.forEach((f, i) => {
          const seq = answer[i + 1] as number;
          f.resolve({ seq, type: f.type, payload: f.head + seq + f.tail, owner });
        });
      },
      (err: unknown) => {
        for (const f of batch.frames) f.reject(err);
      },
    );
  }

  appendSilently(clientId: string, entry: LogEntry, kind: FrameKind, dedup?: string): Promise<LoggedFrame> {
    return this.append(clientId, entry, kind, false, false, dedup);
  }

  async after(clientId: string, lastSeq: number): Promise<Replay> {
    this.flush(clientId);
    const answer = await this.redis.eval<[number, number, [string, string[]][]?]>(AFTER, [this.keys.logMeta(clientId), this.keys.log(clientId)], [String(lastSeq)]);
    const [complete, seq, entries] = answer;
    if (complete !== 1) return { complete: false, frames: [], lastSeq: seq };
    const frames: LoggedFrame[] = (entries ?? []).map(([id, fields]) => ({
      seq: Number(id.slice(0, id.indexOf('-'))),
      payload: fields[1]!,
      type: fields[3] ?? 'message',
    }));
    return { complete: true, frames, lastSeq: seq };
  }

  async ack(clientId: string, seq: number): Promise<void> {
    this.flush(clientId);
    await this.redis.eval(ACK, [this.keys.logMeta(clientId), this.keys.log(clientId)], [String(seq)]);
  }

  async lastSeq(clientId: string): Promise<number> {
    this.flush(clientId);
    return Number((await this.redis.cmd<string | null>(['HGET', this.keys.logMeta(clientId), 'seq'])) ?? 0);
  }

  async reset(clientId: string): Promise<number> {
    this.flush(clientId);
    return this.redis.eval<number>(RESET, [this.keys.logMeta(clientId), this.keys.log(clientId)], []);
  }

  async drop(clientId: string): Promise<void> {
    this.flush(clientId);
    // The session's run records go with it (run-records-redis.ts).
    await this.redis.cmd(['DEL', this.keys.logMeta(clientId), this.keys.log(clientId), this.keys.runs(clientId)]);
  }

  /** Held in Redis, not in this process (RESUME_BUDGET_BYTES is the memory log's). */
  bytes(): number {
    return 0;
  }
}
