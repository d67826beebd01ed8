/**
 * What every ClusterBus must do (store/cluster-bus.ts): every message reaches every subscriber
 * (this broker's too), in publish order, as data; unsubscribing stops it.
 */
import { describe, expect, it, vi } from 'vitest';
import type { BusMessage, ClusterBus } from '../../src/store/cluster-bus.ts';

export type MakeClusterBus = () => ClusterBus | Promise<ClusterBus>;

/** One of each kind, all plain data (a shared bus carries them as JSON). */
export const SAMPLE_MESSAGES: BusMessage[] = [
  { kind: 'deliver', clientId: 'c1', frameKind: 'direct', frame: { seq: 3, type: 'system', payload: '{"type":"system","seq":3}' } },
  {
    kind: 'client.message',
    agentId: 'x1',
    entry: { agent: 'echo', clientId: 'c1', ref: 'r1', payload: '{"type":"client.message"}', bytes: 24, sentAt: 1 },
  },
  { kind: 'lifecycle', event: 'client.connected', fields: { clientId: 'c1', address: null, resumed: false } },
  { kind: 'identity', clientId: 'c1', address: '0x0000000000000000000000000000000000000001' },
  { kind: 'agent.up', agent: { name: 'echo', agentId: 'x1', node: 'n1' } },
  { kind: 'agent.down', agent: { name: 'echo', agentId: 'x1', node: 'n1' } },
  { kind: 'kick', clientId: 'c1', code: 4500, reason: 'replaced by a newer connection' },
];

export function describeClusterBusContract(name: string, make: MakeClusterBus): void {
  describe(`ClusterBus contract: ${name}`, () => {
    it('every subscriber gets every message, in publish order, equal as data', async () => {
      const bus = await make();
      const a: BusMessage[] = [];
      const b: BusMessage[] = [];
      bus.subscribe((m) => a.push(m));
      bus.subscribe((m) => b.push(m));
      for (const m of SAMPLE_MESSAGES) await bus.publish(m);
      await vi.waitFor(() => expect(b).toHaveLength(SAMPLE_MESSAGES.length), { timeout: 2000, interval: 10 });
      const asData = JSON.parse(JSON.stringify(SAMPLE_MESSAGES));
      expect(JSON.parse(JSON.stringify(a))).toEqual(asData);
      expect(JSON.parse(JSON.stringify(b))).toEqual(asData);
    });

    it('an unsubscribed handler gets nothing more', async () => {
      const bus = await make();
      const got: BusMessage[] = [];
      const marker: BusMessage[] = [];
      const off = bus.subscribe((m) => got.push(m));
      bus.subscribe((m) => marker.push(m));
      await bus.publish(SAMPLE_MESSAGES[0]!);
      await vi.waitFor(() => expect(got).toHaveLength(1), { timeout: 2000, interval: 10 });
      off();
      await bus.publish(SAMPLE_MESSAGES[1]!);
      // The marker subscriber saw the second message, so the first one would have too.
      await vi.waitFor(() => expect(marker).toHaveLength(2), { timeout: 2000, interval: 10 });
      expect(got).toHaveLength(1);
    });
  });
}
