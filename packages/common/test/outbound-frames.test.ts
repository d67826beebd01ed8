/**
 * The outbound schemas (issue 10): every frame and system event the bridge sends has its schema,
 * and the bridge → peer unions check a known event's fields while letting unknown events through
 * (the contract may add event names; an older parser must not break on them).
 */
import { describe, expect, test } from 'vitest';
import {
  BridgeToAgentFrame,
  BridgeToClientFrame,
  SystemEvent,
  SystemEventFrame,
  type SystemEventFields,
} from '../src/protocol/index.ts';

const ts = '2026-01-01T00:00:00.000Z';

describe('system events', () => {
  test('every SystemEvent in codes.ts has a schema', () => {
    const schemas = SystemEventFrame.options.map((o) => o.shape.event.value).sort();
    expect(schemas).toEqual(Object.keys(SystemEvent).sort());
  });

  test('a known event must carry its fields, in either union', () => {
    expect(BridgeToClientFrame.safeParse({ type: 'system', seq: 1, event: 'agent.connected', agent: 'echo', ts }).success).toBe(true);
    expect(BridgeToClientFrame.safeParse({ type: 'system', seq: 1, event: 'agent.connected', ts }).success).toBe(false);
    expect(BridgeToClientFrame.safeParse({ type: 'system', seq: 2, event: 'messages.dropped', count: 2, fromSeq: 1, toSeq: 3, ts }).success).toBe(true);
    expect(BridgeToClientFrame.safeParse({ type: 'system', seq: 2, event: 'messages.dropped', count: 2, ts }).success).toBe(false);
    const connected = { type: 'system', event: 'client.connected', clientId: 'c', address: null, resumed: false, ts };
    expect(BridgeToAgentFrame.safeParse(connected).success).toBe(true);
    expect(BridgeToAgentFrame.safeParse({ ...connected, resumed: 'no' }).success).toBe(false);
    expect(BridgeToAgentFrame.safeParse({ type: 'system', event: 'client.authenticated', clientId: 'c', address: null, ts }).success).toBe(false);
    expect(BridgeToClientFrame.safeParse({ type: 'system', event: 'bridge.reconnected', epoch: 'e', resumed: true, lastSeq: 4, ts }).success).toBe(true);
  });

  test('an event this version does not know passes, unknown fields are kept', () => {
    const r = BridgeToClientFrame.safeParse({ type: 'system', seq: 3, event: 'future.thing', extra: 1, ts });
    expect(r.success && r.data).toMatchObject({ event: 'future.thing', extra: 1 });
  });

  test('SystemEventFields types a builder against the schema', () => {
    const ok: SystemEventFields<'client.disconnected'> = { clientId: 'c', resumable: true };
    // @ts-expect-error: resumable is required
    const missing: SystemEventFields<'client.disconnected'> = { clientId: 'c' };
    expect([ok, missing]).toHaveLength(2);
  });
});

describe('welcomes, messages, agent frames', () => {
  test('agent welcome with `connected` entries and `more`, then a clients page', () => {
    const clients = [{ clientId: 'a', address: null, connected: true }];
    const welcome = BridgeToAgentFrame.parse({ type: 'welcome', agent: 'echo', agentId: 'x', clients, heartbeatMs: 5000, more: true });
    expect(welcome).toMatchObject({ clients, more: true });
    expect(BridgeToAgentFrame.parse({ type: 'clients', clients, more: false })).toMatchObject({ clients });
  });

  test('client welcome with address; a coalesced message with its range', () => {
    const welcome = { type: 'welcome', clientId: 'c', epoch: 'e', resumed: false, replayed: 0, lastSeq: 0, heartbeatMs: 5000, agents: [], address: null };
    expect(BridgeToClientFrame.safeParse(welcome).success).toBe(true);
    const merged = { type: 'message', seq: 9, merged: [5, 9], id: 'i', from: 'echo', data: {}, ts };
    expect(BridgeToClientFrame.parse(merged)).toMatchObject({ merged: [5, 9] });
    expect(BridgeToClientFrame.safeParse({ ...merged, merged: [5] }).success).toBe(false);
  });

  test('client.message and client.cancel', () => {
    expect(BridgeToAgentFrame.safeParse({ type: 'client.message', id: 'i', clientId: 'c', address: null, data: 1, ts }).success).toBe(true);
    expect(BridgeToAgentFrame.safeParse({ type: 'client.cancel', clientId: 'c', address: null, runId: 'r', ts }).success).toBe(true);
    expect(BridgeToAgentFrame.safeParse({ type: 'client.cancel', clientId: 'c', address: null, ts }).success).toBe(false);
  });
});
