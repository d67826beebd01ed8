// The delivery-latency histogram (broker in → socket out): one observation per delivered frame
// that was read from a peer, taken when the turn's writes leave (common/flush-clock.ts), on real
// sockets. Replays and the broker's own frames have no receipt time and are not observed.
import { describe, expect, it } from 'vitest';
import type { BrokerHandle } from '../src/server.ts';
import { agent, broker, client, until } from './helpers.ts';

async function latency(b: BrokerHandle, kind: 'agent' | 'client'): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(`${b.url}/metrics`)).text();
  const count = new RegExp(`^agent_bridge_delivery_latency_seconds_count\\{kind="${kind}"\\} (\\S+)`, 'm').exec(text);
  const sum = new RegExp(`^agent_bridge_delivery_latency_seconds_sum\\{kind="${kind}"\\} (\\S+)`, 'm').exec(text);
  return { count: count ? Number(count[1]) : 0, sum: sum ? Number(sum[1]) : 0 };
}

describe('delivery latency', () => {
  it('observes every delivered client.message and message once, a broadcast once per recipient', async () => {
    const b = await broker({ METRICS: 'on' });
    const a = await agent(b);
    const clients = [await client(b, 'c1'), await client(b, 'c2'), await client(b, 'c3')];
    const [agentBefore, clientBefore] = [await latency(b, 'agent'), await latency(b, 'client')];
    for (let i = 0; i < 4; i++) clients[0]!.send({ type: 'message', id: `m-${i}`, data: i });
    await until(() => a.all('client.message').length === 4, 5000, 'four client.messages');
    for (let i = 0; i < 4; i++) a.send({ type: 'send', to: 'c1', data: i });
    a.send({ type: 'broadcast', data: 'all' });
    await until(() => clients[0]!.all('message').length === 5 && clients[1]!.all('message').length === 1 && clients[2]!.all('message').length === 1, 5000, 'the sends and the broadcast');
    const [agentAfter, clientAfter] = [await latency(b, 'agent'), await latency(b, 'client')];
    expect(agentAfter.count - agentBefore.count).toBe(4);
    expect(clientAfter.count - clientBefore.count).toBe(4 + 3);
    // Seconds, and plausible ones for loopback: above zero in all, far below the test's timeout.
    expect(clientAfter.sum - clientBefore.sum).toBeGreaterThan(0);
    expect(clientAfter.sum - clientBefore.sum).toBeLessThan(5 * 7);
  });
});
