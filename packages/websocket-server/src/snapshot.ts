/**
 * Embedded mode survives a deploy (issue 11 item 4, PROTOCOL §5): without REDIS_URL, a broker
 * stopped with SIGTERM writes its state to STATE_SNAPSHOT_PATH and the next start reads it back,
 * so every client resumes (`resumed:true`, the same epoch, every held frame) and waiting messages
 * still reach the agent that connects later. SIGKILL writes nothing: that state is lost.
 *
 * What is kept: the epoch, every session record (restored detached, expiring SESSION_TTL_MS after
 * the start: their sockets are gone), every session log (seq counter, what is gone, the frames: a
 * shared message body once, any other frame as its text) and every wait-queue entry. Not kept:
 * rate-limit buckets (they refill within seconds, less than a restart takes), the agent directory
 * (its sockets are gone), §8 accepted-id records and acknowledgement state (not store state).
 *
 * The file is versioned JSON, `{"format":"agent-bridge/broker-state","version":1,…}`, written to a
 * temporary file beside it, flushed, then renamed over it: a crash mid-write leaves the previous
 * file or none, never a torn one. At start a file that is unreadable, not JSON, of another format
 * or version, or inconsistent is reported in one log line and renamed aside to
 * `<path>.rejected-<time>` (kept for the operator, never read again); the broker starts fresh. A
 * snapshot that was loaded is deleted once the broker listens: a later SIGKILL must not bring back
 * this old state (clients would be told a stale replay is complete).
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { Config, Logger } from '@agent-bridge/common';
import type { AgentWaitQueues, WaitEntry } from './agent-wait-queue.ts';
import type { BrokerHandle } from './server.ts';
import { MemoryEpochSource } from './store/epoch-source-memory.ts';
import type { MemorySessionLog, LogSnapshot } from './store/session-log-memory.ts';
import type { SessionRecord } from './store/session-store.ts';
import type { MemorySessionStore } from './store/session-store-memory.ts';
import { MemoryAckRecords } from './store/ack-records-memory.ts';
import { memoryStores, type BrokerStores } from './store/stores.ts';

export const SNAPSHOT_FORMAT = 'agent-bridge/broker-state';
export const SNAPSHOT_VERSION = 1;

const count = z.number().int().nonnegative();
const id = z.string().min(1);

const SessionSchema = z.object({
  clientId: id,
  epoch: z.string(),
  address: z.string().nullable(),
  ip: z.string().optional(),
  createdAt: z.number(),
  expiresAt: z.number().nullable(),
});

const LogSchema = z.object({
  bodies: z.array(z.string()),
  streams: z.array(
    z.object({
      clientId: id,
      lastSeq: count,
      goneThrough: count,
      frames: z.array(z.tuple([z.number().int().positive(), z.string().min(1), z.union([z.string(), count])])),
    }),
  ),
});

const WaitEntrySchema = z.object({
  agent: id,
  clientId: id,
  ref: z.string().optional(),
  payload: z.string(),
  type: z.string().optional(),
  bytes: count,
  sentAt: z.number(),
  msgId: z.string().optional(),
  redelivered: z.boolean().optional(),
});

/** §8 records (optional: a file written before they were kept still loads). */
const AcksSchema = z.object({
  clients: z.array(z.tuple([id, z.array(z.number())])),
  agents: z.array(z.tuple([z.string().min(1).max(256), z.array(z.tuple([z.number(), z.number()]))])),
});

const SnapshotSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  version: z.literal(SNAPSHOT_VERSION),
  writtenAt: z.number(),
  epoch: id,
  sessions: z.array(SessionSchema),
  log: LogSchema,
  waitQueues: z.array(WaitEntrySchema),
  acks: AcksSchema.optional(),
});

export interface BrokerSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: typeof SNAPSHOT_VERSION;
  /** ms since epoch. */
  writtenAt: number;
  epoch: string;
  sessions: SessionRecord[];
  log: LogSnapshot;
  waitQueues: WaitEntry[];
  /** §8: the ids accepted per session and per agent name, so a resend after the restart is recognised. */
  acks?: { clients: [string, number[]][]; agents: [string, [number, number][]][] };
}

/** The memory stores a snapshot is taken of (main.ts builds them, so it holds them). */
export interface SnapshotSources {
  epoch: string;
  sessions: MemorySessionStore;
  log: MemorySessionLog;
  acks?: MemoryAckRecords | undefined;
}

/**
 * The state of `src` now, with `waiting` (the wait queues, read before close() cleared them).
 * Only the logs of sessions that still exist are kept.
 */
export function takeSnapshot(src: SnapshotSources, waiting: WaitEntry[], now = Date.now()): BrokerSnapshot {
  const sessions = src.sessions.snapshot();
  const known = new Set(sessions.map((s) => s.clientId));
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    writtenAt: now,
    epoch: src.epoch,
    sessions,
    log: src.log.snapshot((clientId) => known.has(clientId)),
    waitQueues: waiting,
    acks: src.acks
      ? { clients: src.acks.clientIds.snapshot().filter(([clientId]) => known.has(clientId)), agents: src.acks.agentIds.snapshot() }
      : undefined,
  };
}

/** Write `snap` to `file` atomically (temp file, fsync, rename); its size in bytes. */
export async function writeSnapshot(file: string, snap: BrokerSnapshot): Promise<number> {
  const text = JSON.stringify(snap);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // The rename itself is durable once the directory is flushed (not every platform allows it).
  const dir = await open(path.dirname(file), 'r').catch(() => undefined);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
  return Buffer.byteLength(text);
}

export type ReadResult = { ok: true; snapshot: BrokerSnapshot } | { ok: false; reason: string } | { ok: 'absent' };

/** Parse and validate a snapshot file's text: the snapshot, or why it is not one. */
export function parseSnapshot(text: string): ReadResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message})` };
  }
  const head = json as { format?: unknown; version?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== SNAPSHOT_FORMAT) return { ok: false, reason: 'not a broker state snapshot (format)' };
  if (head.version !== SNAPSHOT_VERSION) return { ok: false, reason: `snapshot version ${String(head.version)} is not ${SNAPSHOT_VERSION}` };
  const parsed = SnapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unknown'}` };
  }
  const d = parsed.data;
  const sessions: SessionRecord[] = d.sessions.map((s) => ({ ...s, ip: s.ip }));
  const waitQueues: WaitEntry[] = d.waitQueues.map((e) => ({ ...e, ref: e.ref }) as WaitEntry);
  return { ok: true, snapshot: { ...d, sessions, waitQueues } };
}

/** Read `file`: absent (no line), a snapshot, or why not (the caller reports it once). */
export async function readSnapshot(file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { ok: 'absent' };
    return { ok: false, reason: `unreadable (${e.code ?? e.message})` };
  }
  return parseSnapshot(text);
}

export interface RestoredCounts {
  sessions: number;
  frames: number;
  waiting: number;
  /** Waiting messages left out (their wait ended, or beyond the bounds). */
  waitingDropped: number;
}

/**
 * Memory stores holding `snap`: the epoch it was written in, every session detached until
 * now + SESSION_TTL_MS, every log, every waiting message. Throws when the snapshot is
 * inconsistent (the caller rejects it whole).
 */
export function restoreStores(cfg: Config, snap: BrokerSnapshot, now = Date.now()): { stores: BrokerStores; counts: RestoredCounts } {
  const stores = memoryStores(cfg);
  stores.epoch = new MemoryEpochSource(snap.epoch);
  const sessions = stores.sessions as MemorySessionStore;
  const log = stores.log as MemorySessionLog;
  const queues = stores.waitQueues as AgentWaitQueues;
  const ids = new Set<string>();
  for (const s of snap.sessions) {
    if (ids.has(s.clientId)) throw new Error(`session ${s.clientId} twice`);
    ids.add(s.clientId);
  }
  sessions.restore(snap.sessions, now + cfg.SESSION_TTL_MS);
  log.restore({ bodies: snap.log.bodies, streams: snap.log.streams.filter((st) => ids.has(st.clientId)) });
  const waitingDropped = queues.restore(snap.waitQueues, now);
  if (snap.acks && stores.acks instanceof MemoryAckRecords) {
    stores.acks.clientIds.restore(snap.acks.clients.filter(([clientId]) => ids.has(clientId)));
    stores.acks.agentIds.restore(snap.acks.agents, now);
  }
  const frames = snap.log.streams.reduce((n, st) => n + st.frames.length, 0);
  return { stores, counts: { sessions: snap.sessions.length, frames, waiting: snap.waitQueues.length - waitingDropped, waitingDropped } };
}

/** Stores from the snapshot at `file`, or undefined (absent, or rejected: one log line, file set aside). */
export async function loadSnapshot(file: string, cfg: Config, log: Logger): Promise<BrokerStores | undefined> {
  const t0 = performance.now();
  const read = await readSnapshot(file);
  if (read.ok === 'absent') return undefined;
  let reason: string;
  if (read.ok) {
    try {
      const { stores, counts } = restoreStores(cfg, read.snapshot);
      const ms = Math.round(performance.now() - t0);
      log.info({ path: file, epoch: read.snapshot.epoch, ...counts, ms }, 'state snapshot loaded');
      return stores;
    } catch (err) {
      reason = `inconsistent (${(err as Error).message})`;
    }
  } else {
    reason = read.reason;
  }
  const aside = `${file}.rejected-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const moved = await rename(file, aside).then(
    () => aside,
    () => undefined,
  );
  log.warn({ path: file, reason, movedTo: moved ?? null }, 'state snapshot ignored: starting fresh');
  return undefined;
}

/** Delete a snapshot that was loaded (a later SIGKILL must not bring its old state back). */
export async function consumeSnapshot(file: string, log: Logger): Promise<void> {
  await unlink(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') log.error({ path: file, code: err.code }, 'loaded state snapshot could not be deleted: delete it before the next start');
  });
}

/**
 * The broker with its close() extended: the wait queues are read first (close() clears them, and
 * from its first step no message is routed or queued), then the broker closes, then the sessions
 * and logs are read (no socket is left to change them) and the file is written.
 */
export function persistOnClose(broker: BrokerHandle, stores: BrokerStores, file: string, log: Logger): BrokerHandle {
  const sessions = stores.sessions as MemorySessionStore;
  const logStore = stores.log as MemorySessionLog;
  const queues = stores.waitQueues as AgentWaitQueues;
  const close = async (): Promise<void> => {
    const waiting = queues.snapshot();
    await broker.close();
    const t0 = performance.now();
    const acks = stores.acks instanceof MemoryAckRecords ? stores.acks : undefined;
    const snap = takeSnapshot({ epoch: broker.epoch, sessions, log: logStore, acks }, waiting);
    let bytes: number;
    try {
      bytes = await writeSnapshot(file, snap);
    } catch (err) {
      throw new Error(`state snapshot not written to ${file}: ${(err as Error).message}`);
    }
    const frames = snap.log.streams.reduce((n, st) => n + st.frames.length, 0);
    log.info(
      { path: file, epoch: snap.epoch, sessions: snap.sessions.length, frames, waiting: waiting.length, bytes, ms: Math.round(performance.now() - t0) },
      'state snapshot written',
    );
  };
  let closed: Promise<void> | undefined;
  return { ...broker, close: () => (closed ??= close()) };
}
