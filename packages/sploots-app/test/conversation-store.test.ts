// The normalised conversation store: threads per agent, a token changes one run and not the
// thread, persistence is debounced, and a reload mid-reply continues the reply exactly.
import { describe, expect, it, vi } from 'vitest';
import type { DeliveredMessageFrame } from '@agent-bridge/browser-client';
import { ConversationStore, STORAGE_KEY } from '../src/store/conversation.ts';
import { heal, splitBlocks } from '../src/chat/md-blocks.ts';

type Fn = (arg: never) => void;

class FakeClient {
  status = { state: 'connected' } as const;
  agents: string[] = ['default'];
  sent: unknown[] = [];
  frames: unknown[] = [];
  private n = 0;
  private readonly listeners = new Map<string, Set<Fn>>();
  on(event: string, fn: Fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(fn);
    return () => this.listeners.get(event)!.delete(fn);
  }
  emit(event: string, payload: unknown) {
    for (const fn of this.listeners.get(event) ?? []) (fn as (p: unknown) => void)(payload);
  }
  send(data: unknown, opts?: { agent?: string }) {
    this.sent.push({ data, ...opts });
    return `c-${++this.n}`;
  }
  sendFrame(frame: unknown) {
    this.frames.push(frame);
    return `c-${++this.n}`;
  }
}

class MemoryStorage {
  data = new Map<string, string>();
  writes = 0;
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.writes++;
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

let seq = 0;
const frame = (from: string, data: unknown, s = ++seq): DeliveredMessageFrame =>
  ({ type: 'message', id: `f${s}`, seq: s, from, data, ts: new Date().toISOString() }) as DeliveredMessageFrame;
const ev = (runId: string, data: Record<string, unknown>) => ({ ...data, runId, threadId: 't' });

function setup(storage = new MemoryStorage()) {
  const client = new FakeClient();
  const store = new ConversationStore(client as never, storage as unknown as Storage);
  return { client, store, storage };
}

describe('ConversationStore', () => {
  it('keeps one thread per agent (bridge-wide notices in every thread); @name addresses another agent', () => {
    const { client, store } = setup();
    store.send('hi', 'chat', 'alpha');
    store.send('@beta yo', 'chat', 'alpha');
    client.emit('message', frame('alpha', { text: 'from alpha' }));
    client.emit('gap', { reason: 'not_resumed' });
    expect(client.sent).toEqual([{ data: { text: 'hi' }, agent: 'alpha' }, { data: { text: 'yo' }, agent: 'beta' }]);
    const alpha = store.thread('alpha').map((id) => store.row(id)!.kind);
    const beta = store.thread('beta').map((id) => store.row(id)!.kind);
    expect(alpha).toEqual(['out', 'in', 'notice']);
    expect(beta).toEqual(['out', 'notice']);
    expect(store.knownAgents()).toEqual(['default', 'alpha', 'beta']);
  });

  it('a streamed token changes the run, not the thread or other rows', () => {
    const { client, store } = setup();
    client.emit('message', frame('default', ev('r1', { type: 'RUN_STARTED' })));
    client.emit('message', frame('default', ev('r1', { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm', delta: 'Hel', offset: 0 })));
    const thread = store.thread('default');
    const row = store.row(thread[0]!);
    const run = store.run('r1');
    expect(store.activeRun('default')).toBe('r1');
    client.emit('message', frame('default', ev('r1', { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm', delta: 'lo', offset: 3 })));
    expect(store.thread('default')).toBe(thread);
    expect(store.row(thread[0]!)).toBe(row);
    expect(store.run('r1')).not.toBe(run);
    expect(store.run('r1')!.items[0]).toMatchObject({ kind: 'message', text: 'Hello' });
  });

  it('Stop sends a cancel for the active run; an approval answer goes to the run’s agent', () => {
    const { client, store } = setup();
    client.emit('message', frame('bank', ev('r1', { type: 'RUN_STARTED' })));
    expect(store.stop('bank')).toBe(true);
    expect(client.frames).toEqual([{ type: 'cancel', runId: 'r1', agent: 'bank' }]);
    expect(store.isStopping('r1')).toBe(true);
    client.emit('message', frame('bank', ev('r1', { type: 'RUN_FINISHED', outcome: { type: 'interrupt', interrupts: [{ id: 'i1', reason: 'approval' }] } })));
    const [asked] = store.askedBy('r1')!;
    expect(store.isPending(asked!)).toBe(true);
    store.answer(asked!, false);
    expect(client.sent).toMatchObject([{ agent: 'bank', data: { parentRunId: 'r1', resume: [{ interruptId: 'i1', status: 'resolved', payload: { approved: false } }] } }]);
    expect(store.answerOf('i1')).toBe('denied');
    expect(store.isPending(asked!)).toBe(false);
  });

  it('persists debounced, not per token, and flushes at once on request', () => {
    vi.useFakeTimers();
    try {
      const { client, store, storage } = setup();
      for (let i = 0; i < 50; i++) client.emit('message', frame('default', ev('r1', { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm', delta: 'x', offset: i })));
      expect(storage.writes).toBe(0);
      vi.advanceTimersByTime(400);
      expect(storage.writes).toBe(1);
      client.emit('message', frame('default', ev('r1', { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm', delta: 'y', offset: 50 })));
      store.flush();
      expect(storage.writes).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('after a reload, resumed (and coalesced, overlapping) deltas continue the same reply exactly', () => {
    const storage = new MemoryStorage();
    const first = setup(storage);
    const s1 = ++seq;
    first.client.emit('message', frame('default', ev('r9', { type: 'RUN_STARTED' }), s1));
    first.client.emit('message', frame('default', ev('r9', { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm', delta: 'The quick ', offset: 0 }), s1 + 1));
    first.client.emit('message', frame('default', ev('r9', { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm', delta: 'brown ', offset: 10 }), s1 + 2));
    first.store.flush(); // the page is left
    seq += 10;

    const second = setup(storage);
    expect(second.store.thread('default')).toHaveLength(1);
    expect(second.store.run('r9')!.items[0]).toMatchObject({ text: 'The quick brown ' });
    // The bridge replays a frame merged from a range that overlaps what we held: trimmed.
    second.client.emit('message', frame('default', ev('r9', { type: 'TEXT_MESSAGE_CONTENT', messageId: 'm', delta: 'brown fox', offset: 10 }), s1 + 3));
    second.client.emit('message', frame('default', ev('r9', { type: 'RUN_FINISHED' }), s1 + 4));
    expect(second.store.thread('default')).toHaveLength(1);
    expect(second.store.run('r9')).toMatchObject({ status: 'finished', items: [{ text: 'The quick brown fox' }] });
    expect(JSON.parse(storage.getItem(STORAGE_KEY)!).v).toBe(2);
  });
});

describe('streaming markdown blocks', () => {
  it('splits at blank lines outside code fences', () => {
    expect(splitBlocks('# T\n\npara one\nstill\n\n```\na\n\nb\n```\n\nlast')).toEqual(['# T', 'para one\nstill', '```\na\n\nb\n```', 'last']);
  });

  it('heals an unfinished tail: open fence, inline code, bold', () => {
    expect(heal('```js\nlet a')).toBe('```js\nlet a\n```');
    expect(heal('some `co')).toBe('some `co`');
    expect(heal('a **bol')).toBe('a **bol**');
    expect(heal('done **b** `c`')).toBe('done **b** `c`');
  });
});
