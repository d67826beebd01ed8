/**
 * What every AgentDirectory must do (store/agent-directory.ts): names up and down, and rendezvous
 * pins over every connection of a name, wherever it is, kept until that connection goes.
 */
import { describe, expect, it } from 'vitest';
import { rendezvousScore } from '../../src/agent-pool.ts';
import type { AgentDirectory, AgentEntry } from '../../src/store/agent-directory.ts';

export type MakeAgentDirectory = () => AgentDirectory | Promise<AgentDirectory>;

const entry = (name: string, agentId: string, node = 'n1'): AgentEntry => ({ name, agentId, node });
/** The rendezvous choice among `ids` for `clientId` (the highest score). */
const best = (clientId: string, ids: string[]) => [...ids].sort((a, b) => rendezvousScore(clientId, b) - rendezvousScore(clientId, a))[0];

export function describeAgentDirectoryContract(name: string, make: MakeAgentDirectory): void {
  describe(`AgentDirectory contract: ${name}`, () => {
    it('add says whether it is the first of its name, remove whether it was the last', async () => {
      const d = await make();
      expect(await d.add(entry('echo', 'x1'))).toBe(true);
      expect(await d.add(entry('echo', 'x2'))).toBe(false);
      expect(await d.add(entry('time', 't1'))).toBe(true);
      expect((await d.names()).sort()).toEqual(['echo', 'time']);
      expect(await d.remove(entry('echo', 'x1'))).toBe(false);
      expect(await d.remove(entry('echo', 'x2'))).toBe(true);
      expect(await d.names()).toEqual(['time']);
      expect(await d.remove(entry('echo', 'x2'))).toBe(false); // already gone
    });

    it('pick is rendezvous over every connection of the name, on any node', async () => {
      const d = await make();
      const ids = ['p1', 'p2', 'p3'];
      for (const [i, id] of ids.entries()) await d.add(entry('echo', id, `node-${i}`));
      for (const clientId of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']) {
        expect((await d.pick('echo', clientId))?.agentId).toBe(best(clientId, ids));
      }
      expect(await d.pick('nobody', 'c1')).toBeUndefined();
    });

    it('a pin stays when connections join, and moves only when its connection goes', async () => {
      const d = await make();
      await d.add(entry('echo', 'p1'));
      const clients = Array.from({ length: 20 }, (_, i) => `client-${i}`);
      for (const c of clients) expect((await d.pick('echo', c))?.agentId).toBe('p1');
      await d.add(entry('echo', 'p2'));
      await d.add(entry('echo', 'p3'));
      for (const c of clients) expect((await d.pick('echo', c))?.agentId).toBe('p1');
      await d.remove(entry('echo', 'p1'));
      for (const c of clients) expect((await d.pick('echo', c))?.agentId).toBe(best(c, ['p2', 'p3']));
    });

    it('forgetClient drops the pins: the next pick is rendezvous over the connections now', async () => {
      const d = await make();
      await d.add(entry('echo', 'p1'));
      const clients = Array.from({ length: 20 }, (_, i) => `client-${i}`);
      for (const c of clients) await d.pick('echo', c);
      await d.add(entry('echo', 'p2'));
      for (const c of clients) await d.forgetClient(c);
      for (const c of clients) expect((await d.pick('echo', c))?.agentId).toBe(best(c, ['p1', 'p2']));
    });
  });
}
