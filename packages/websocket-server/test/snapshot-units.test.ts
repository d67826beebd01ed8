/**
 * The state snapshot (snapshot.ts) store by store: what each memory store writes, read back as
 * JSON into a fresh store, answers exactly as the original did; the file is written atomically
 * and a bad file is reported once, set aside, never thrown.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, loadConfig } from '@agent-bridge/common';
import { AgentWaitQueues, type WaitEntry } from '../src/agent-wait-queue.ts';
import { deltaPartOf } from '../src/coalescing.ts';
import { SeqMessageTemplate, type MessageBody } from '../src/frames-out.ts';
import { frameText } from '../src/resume-buffer.ts';
import {
  loadSnapshot,
  parseSnapshot,
  readSnapshot,
  restoreStores,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  takeSnapshot,
  writeSnapshot,
  type BrokerSnapshot,
} from '../src/snapshot.ts';
import { MemoryEpochSource } from '../src/store/epoch-source-memory.ts';
import { MemorySessionLog, type LogSnapshot } from '../src/store/session-log-memory.ts';
import { MemorySessionStore } from '../src/store/session-store-memory.ts';
import { memoryStores } from '../src/store/stores.ts';

const LIMITS = { frames: 100, bytes: 1 << 20, budgetBytes: 64 << 20, maxMessageBytes: 65536 };
const cfg = loadConfig({ NODE_ENV: 'test', AGENT_TOKEN: 'a', PROXY_TOKEN: 'p', SESSION_TTL_MS: '60000' });

/** Through JSON, as the file carries it. */
const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const body = (text: string, data: unknown = { text }): MessageBody => ({ id: `id-${text}`, from: 'default', data, ts: '2026-11-26T00:00:00.000Z' });
const own = (text: string) => ({ type: 'system', render: (seq: number) => JSON.stringify({ type: 'system', seq, event: 'x', text }) });
const texts = (log: MemorySessionLog, clientId: string, after = 0) => log.after(clientId, after).frames.map((f) => frameText({ ...f, bytes: 0 }));

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempFile(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'snapshot-'));
  dirs.push(d);
  return path.join(d, 'state.json');
}

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('broker', { level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { logger, lines };
}

describe('MemoryEpochSource', () => {
  it('answers the epoch it was restored with', () => {
    expect(new MemoryEpochSource('e-1').current()).toBe('e-1');
  });
});

describe('MemorySessionStore snapshot', () => {
  it('restores every record detached until the given time, keeping address, epoch and the per-IP count', () => {
    const a = new MemorySessionStore({ maxSessions: 10, maxPerIp: 2 });
    a.getOrCreate({ clientId: 'c1', epoch: 'e', address: '0xabc', ip: '10.0.0.1', createdAt: 1, expiresAt: null });
    a.getOrCreate({ clientId: 'c2', epoch: 'e', address: null, ip: '10.0.0.1', createdAt: 2, expiresAt: 500 });
    a.getOrCreate({ clientId: 'c3', epoch: 'e', address: null, createdAt: 3, expiresAt: null });
    const snap = viaJson(a.snapshot());

    const b = new MemorySessionStore({ maxSessions: 10, maxPerIp: 2 });
    b.restore(snap, 9000);
    expect(b.list().map((r) => r.clientId)).toEqual(['c1', 'c2', 'c3']);
    expect(b.get('c1')).toEqual({ clientId: 'c1', epoch: 'e', address: '0xabc', ip: '10.0.0.1', createdAt: 1, expiresAt: 9000 });
    expect(b.list().every((r) => r.expiresAt === 9000)).toBe(true);
    // Two sessions from 10.0.0.1 came back: a third from there is refused, as before the restart.
    expect(b.refusal('new', '10.0.0.1')).toBe('sessions_per_ip');
    // Detached: the expiry rule removes them at their deadline, not before.
    expect(b.expire('c3', 8999)).toBeUndefined();
    expect(b.expire('c3', 9000)?.clientId).toBe('c3');
  });

  it('a snapshot is a copy: later changes to the store do not reach it', () => {
    const a = new MemorySessionStore();
    a.getOrCreate({ clientId: 'c1', epoch: 'e', address: null, createdAt: 1, expiresAt: null });
    const snap = a.snapshot();
    a.update('c1', { address: '0x1' });
    expect(snap[0]!.address).toBeNull();
  });
});

describe('MemorySessionLog snapshot', () => {
  function filled(): MemorySessionLog {
    const log = new MemorySessionLog(LIMITS);
    const shared = new SeqMessageTemplate(body('to everyone, ünïcode'));
    log.append('a', own('a1'));
    for (const id of ['a', 'b', 'c']) log.append(id, { type: 'message', body: shared });
    log.append('a', { type: 'message', body: new SeqMessageTemplate(body('only a')) });
    log.append('b', own('b2'));
    log.ack('b', 1); // b's first frame is gone: a resume from 0 is refused
    log.append('d', own('d1'));
    log.reset('d'); // d was reset: counter 1, nothing held
    return log;
  }

  it('reads back every frame with the same text, the same counters and the same gaps', () => {
    const a = filled();
    const snap = viaJson(a.snapshot());
    const b = new MemorySessionLog(LIMITS);
    b.restore(snap);
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(b.lastSeq(id)).toBe(a.lastSeq(id));
      expect(texts(b, id)).toEqual(texts(a, id));
      for (let n = 0; n <= a.lastSeq(id) + 1; n++) expect(b.after(id, n).complete).toBe(a.after(id, n).complete);
    }
    expect(b.after('b', 0).complete).toBe(false);
    expect(texts(b, 'a')).toHaveLength(3);
    // The counter goes on from where it was.
    expect(b.append('a', own('next')).seq).toBe(a.lastSeq('a') + 1);
  });

  it('writes a shared body once, and the restored sessions share it again (budget charged once)', () => {
    const a = filled();
    const snap = a.snapshot();
    expect(snap.bodies).toHaveLength(2);
    expect(snap.bodies.filter((s) => s.includes('to everyone'))).toHaveLength(1);
    const b = new MemorySessionLog(LIMITS);
    b.restore(viaJson(snap));
    const [fa, fc] = [b.after('a', 1).frames[0]!, b.after('c', 0).frames[0]!];
    expect(fa.body).toBeDefined();
    expect(fa.body).toBe(fc.body);
    expect(b.bytes()).toBe(a.bytes());
  });

  it('a merged delta frame (its text names its seqs) is written as its text', () => {
    const a = new MemorySessionLog(LIMITS);
    const delta = (d: string, offset: number) => {
      const bd = body(d, { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm1', delta: d, offset });
      return new SeqMessageTemplate(bd, deltaPartOf(bd));
    };
    a.append('x', { type: 'message', body: delta('Hel', 0) });
    a.append('x', { type: 'message', body: delta('lo', 3) });
    const before = texts(a, 'x');
    const b = new MemorySessionLog(LIMITS);
    b.restore(viaJson(a.snapshot()));
    expect(texts(b, 'x')).toEqual(before);
    expect(b.lastSeq('x')).toBe(2);
  });

  it('keeps only the streams asked for', () => {
    expect(filled().snapshot((id) => id === 'c').streams.map((s) => s.clientId)).toEqual(['c']);
  });

  it('smaller bounds after the restart keep the newest frames and refuse a resume that needs the others', () => {
    const a = new MemorySessionLog(LIMITS);
    for (let i = 0; i < 10; i++) a.append('a', own(`f${i}`));
    const b = new MemorySessionLog({ ...LIMITS, frames: 4 });
    b.restore(viaJson(a.snapshot()));
    expect(b.after('a', 5).complete).toBe(false);
    expect(b.after('a', 6).frames.map((f) => f.seq)).toEqual([7, 8, 9, 10]);
  });

  it('refuses an inconsistent stream', () => {
    const bad = (s: Partial<LogSnapshot['streams'][0]>, bodies: string[] = []): LogSnapshot => ({
      bodies,
      streams: [{ clientId: 'a', lastSeq: 3, goneThrough: 0, frames: [], ...s }],
    });
    const tryRestore = (snap: LogSnapshot) => () => new MemorySessionLog(LIMITS).restore(snap);
    expect(tryRestore(bad({ frames: [[2, 'system', 'x'], [1, 'system', 'y']] }))).toThrow(/out of order/);
    expect(tryRestore(bad({ frames: [[4, 'system', 'x']] }))).toThrow(/out of order/);
    expect(tryRestore(bad({ goneThrough: 4 }))).toThrow(/goneThrough/);
    expect(tryRestore(bad({ frames: [[1, 'message', 0]] }))).toThrow(/no body/);
  });
});

describe('AgentWaitQueues snapshot', () => {
  const entry = (agent: string, clientId: string, n: number, sentAt = Date.now()): WaitEntry => ({
    agent,
    clientId,
    ref: `r${n}`,
    payload: `{"type":"client.message","n":${n}}`,
    bytes: 30,
    sentAt,
    receivedAt: 123.4,
    msgId: `m${n}`,
  });

  it('reads back every waiting message in order per name, without this process\'s receivedAt', () => {
    const a = new AgentWaitQueues(100, 60_000);
    a.offer(entry('trader', 'c1', 1));
    a.offer(entry('helper', 'c2', 2));
    a.offer(entry('trader', 'c2', 3));
    const snap = viaJson(a.snapshot());
    expect(snap.every((e) => !('receivedAt' in e))).toBe(true);
    const b = new AgentWaitQueues(100, 60_000);
    expect(b.restore(snap)).toBe(0);
    expect(b.depths()).toEqual(new Map([['trader', 2], ['helper', 1]]));
    expect(b.take('trader').map((e) => e.ref)).toEqual(['r1', 'r3']);
    expect(b.heldBytes()).toBe(a.heldBytes() - 2 * (30 + 128));
    b.clear();
    a.clear();
  });

  it('leaves out a message whose wait ended while the broker was down, and what exceeds the bounds', () => {
    const now = Date.now();
    const b = new AgentWaitQueues(2, 1000);
    const left = b.restore([entry('x', 'c', 1, now - 5000), entry('x', 'c', 2, now), entry('x', 'c', 3, now), entry('x', 'c', 4, now)], now);
    expect(left).toBe(2);
    expect(b.take('x').map((e) => e.ref)).toEqual(['r2', 'r3']);
  });
});

describe('the snapshot file', () => {
  function stateSnapshot(): BrokerSnapshot {
    const stores = memoryStores(cfg);
    const sessions = stores.sessions as MemorySessionStore;
    const log = stores.log as MemorySessionLog;
    const queues = stores.waitQueues as AgentWaitQueues;
    sessions.getOrCreate({ clientId: 'c1', epoch: 'E', address: null, createdAt: 1, expiresAt: null });
    log.append('c1', own('hello'));
    log.append('c1', { type: 'message', body: new SeqMessageTemplate(body('hi')) });
    log.append('gone-session', own('orphan')); // no record: not written
    queues.offer({ agent: 'absent', clientId: 'c1', ref: undefined, payload: '{"x":1}', bytes: 7, sentAt: Date.now() });
    const snap = takeSnapshot({ epoch: 'E', sessions, log }, queues.snapshot());
    queues.clear();
    return snap;
  }

  it('round trip: written atomically (no temp file left), read back whole, restored into working stores', async () => {
    const file = await tempFile();
    const snap = stateSnapshot();
    expect(snap.log.streams.map((s) => s.clientId)).toEqual(['c1']);
    const bytes = await writeSnapshot(file, snap);
    expect(bytes).toBe((await readFile(file)).length);
    expect(await readdir(path.dirname(file))).toEqual(['state.json']);
    const read = await readSnapshot(file);
    expect(read).toEqual({ ok: true, snapshot: viaJson(snap) });
    if (read.ok !== true) return;
    expect(read.snapshot.format).toBe(SNAPSHOT_FORMAT);
    expect(read.snapshot.version).toBe(SNAPSHOT_VERSION);

    const now = Date.now();
    const { stores, counts } = restoreStores(cfg, read.snapshot, now);
    expect(counts).toEqual({ sessions: 1, frames: 2, waiting: 1, waitingDropped: 0 });
    expect(stores.epoch.current()).toBe('E');
    expect(stores.sessions.get('c1')).toMatchObject({ epoch: 'E', expiresAt: now + cfg.SESSION_TTL_MS });
    expect((stores.log as MemorySessionLog).after('c1', 0)).toMatchObject({ complete: true, frames: [{ seq: 1 }, { seq: 2 }] });
    expect((stores.waitQueues as AgentWaitQueues).take('absent')).toMatchObject([{ clientId: 'c1', ref: undefined, payload: '{"x":1}' }]);
    await stores.waitQueues.clear();
  });

  it('absent: nothing loaded, nothing logged', async () => {
    const { logger, lines } = captureLogger();
    expect(await loadSnapshot(await tempFile(), cfg, logger)).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('a good file: loaded with one info line', async () => {
    const file = await tempFile();
    await writeSnapshot(file, stateSnapshot());
    const { logger, lines } = captureLogger();
    const stores = await loadSnapshot(file, cfg, logger);
    expect(stores?.epoch.current()).toBe('E');
    expect(lines.map((l) => l.msg)).toEqual(['state snapshot loaded']);
    await stores?.waitQueues.clear();
  });

  const bad: [string, (good: string) => string, RegExp][] = [
    ['truncated', (good) => good.slice(0, good.length / 2), /not JSON/],
    ['empty', () => '', /not JSON/],
    ['foreign JSON', () => JSON.stringify({ hello: 'world' }), /not a broker state snapshot/],
    ['another version', (good) => good.replace(`"version":${SNAPSHOT_VERSION}`, '"version":99'), /version 99/],
    ['a field of the wrong type', (good) => good.replace('"epoch":"E"', '"epoch":7'), /invalid at epoch/],
    ['inconsistent seqs', (good) => good.replace('[[1,"system"', '[[5,"system"'), /inconsistent/],
  ];
  it.each(bad)('%s: one warn line, the file set aside, the broker starts fresh', async (_name, spoil, reason) => {
    const file = await tempFile();
    await writeSnapshot(file, stateSnapshot());
    await writeFile(file, spoil(await readFile(file, 'utf8')));
    const { logger, lines } = captureLogger();
    expect(await loadSnapshot(file, cfg, logger)).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'state snapshot ignored: starting fresh', path: file });
    expect(String(lines[0]!.reason)).toMatch(reason);
    const names = await readdir(path.dirname(file));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^state\.json\.rejected-/);
    expect(lines[0]!.movedTo).toBe(path.join(path.dirname(file), names[0]!));
  });

  it('parseSnapshot never throws on arbitrary text', () => {
    for (const t of ['null', '[]', '42', '"x"', '{"format":"agent-bridge/broker-state"}', '{'.repeat(10_000)]) {
      expect(parseSnapshot(t).ok).toBe(false);
    }
  });
});
