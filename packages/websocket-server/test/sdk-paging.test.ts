// The agent SDK against the broker's paged client list: a welcome with `more:true` and its
// `clients` pages become one `welcome` event listing every session, and `agent.clients` has them
// all. (Here, beside the broker, because the pages are the broker's behaviour; the SDK is imported
// by path as the broker package does not depend on it.)
import { describe, expect, it } from 'vitest';
import { connectAgent } from '../../agent-sdk/src/index.ts';
import { createLogger } from '@agent-bridge/common';
import { AGENT_TOKEN, broker, client } from './helpers.ts';

describe('agent SDK and the paged client list', () => {
  it('sees every client, in the welcome event and in agent.clients, when the list spans several frames', async () => {
    const b = await broker({ MAX_MESSAGE_BYTES: '2048' });
    const ids = Array.from({ length: 60 }, (_, i) => `sdk-${String(i).padStart(3, '0')}-${'q'.repeat(40)}`);
    for (const id of ids.slice(0, 50)) await client(b, id);
    // Ten of them away (resumable): listed with connected:false.
    for (const id of ids.slice(50)) {
      const c = await client(b, id);
      c.ws.terminate();
      await c.waitClose();
    }
    const agent = connectAgent({ url: b.wsUrl, token: AGENT_TOKEN, logger: createLogger('t', { level: 'silent' }) });
    try {
      const welcome = await new Promise<{ clients: { clientId: string }[]; more?: boolean }>((resolve) => agent.once('welcome', resolve));
      expect(welcome.clients.map((c) => c.clientId).sort()).toEqual([...ids].sort());
      expect('more' in welcome).toBe(false);
      expect(agent.connected).toBe(true);
      expect([...agent.clients.keys()].sort()).toEqual([...ids].sort());
      expect(agent.clients.get(ids[55]!)?.connected).toBe(false);
      expect(agent.clients.get(ids[5]!)?.connected).toBe(true);
    } finally {
      await agent.close();
    }
  });
});
