/**
 * Which brokers are alive (PROTOCOL §10): each beats into a sorted set every second; the sessions
 * and agent connections it holds are listed beside it, so when it stops beating the one survivor
 * that removes it from the set (ZREM answers 1 to exactly one caller) takes over its work.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { ClusterNodes, DeadNode } from '../cluster-nodes.ts';
import type { Keys } from './keys.ts';

/**
 * Claim a silent broker. A beat is a positive score (its time); a claim writes minus the claim's
 * time, a lease: only one survivor wins it, and it is claimed again only once the lease is older
 * than ARGV[4] (its holder died mid-takeover). ARGV[2]: the cutoff a beat must be at or before
 * ('+inf': any beat, for this broker's own earlier runs).
 */
const CLAIM = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
score = tonumber(score)
if score < 0 then
  if -score > tonumber(ARGV[3]) - tonumber(ARGV[4]) then return 0 end
elseif ARGV[2] ~= '+inf' and score > tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], -tonumber(ARGV[3]), ARGV[1])
return 1
`;

/** How long a taken-over run's mark waits for that run to beat again (then it was dead indeed). */
export const TAKEN_MARK_MS = 60 * 60 * 1000;

export class RedisClusterNodes implements ClusterNodes {
  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly nodeId: string,
  ) {}

  async beat(): Promise<boolean> {
    // Taken over (the mark done() leaves): told once, and not marked alive this round.
    if ((await this.redis.cmd<string | null>(['GETDEL', this.keys.takenOver(this.nodeId)])) !== null) return false;
    await this.redis.cmd(['ZADD', this.keys.nodes, String(Date.now()), this.nodeId]);
    return true;
  }

  async claimDead(deadAfterMs: number, predecessors?: string, suspects: string[] = [], suspectAfterMs = deadAfterMs): Promise<DeadNode[]> {
    const now = Date.now();
    const cutoff = now - deadAfterMs;
    // Each candidate with the cutoff its score must be at or before (a predecessor: any).
    const candidates = new Map<string, string>();
    for (const n of await this.redis.cmd<string[]>(['ZRANGEBYSCORE', this.keys.nodes, '-inf', String(cutoff)])) candidates.set(n, String(cutoff));
    for (const n of suspects) if (!candidates.has(n)) candidates.set(n, String(now - suspectAfterMs));
    if (predecessors !== undefined) {
      const all = await this.redis.cmd<string[]>(['ZRANGE', this.keys.nodes, '0', '-1']);
      for (const n of all) if (n.startsWith(predecessors)) candidates.set(n, '+inf');
    }
    const out: DeadNode[] = [];
    for (const [node, limit] of candidates) {
      if (node === this.nodeId) continue;
      // A lease, not a removal: exactly one survivor wins it, and should that survivor die mid-way
      // the lease runs out and the next one finishes the (idempotent) takeover. done() removes it.
      if ((await this.redis.eval<number>(CLAIM, [this.keys.nodes], [node, limit, String(now), String(deadAfterMs)])) !== 1) continue;
      const [clients, agents] = await Promise.all([
        this.redis.cmd<string[]>(['SMEMBERS', this.keys.nodeClients(node)]),
        this.redis.cmd<string[]>(['SMEMBERS', this.keys.nodeAgents(node)]),
      ]);
      out.push({
        node,
        clients,
        agents: agents.map((a) => {
          const i = a.indexOf('\t');
          return { name: a.slice(0, i), agentId: a.slice(i + 1) };
        }),
      });
    }
    return out;
  }

  /** The takeover of `node` is complete: forget it (its lists, then the node itself). */
  async done(node: string): Promise<void> {
    // Should that run be alive after all (cut off from Redis, not dead), its next beat finds this.
    await this.redis.cmd(['SET', this.keys.takenOver(node), '1', 'PX', String(TAKEN_MARK_MS)]);
    // Two commands, not one DEL: the keys do not share a hash slot (Redis Cluster).
    await this.redis.cmd(['DEL', this.keys.nodeClients(node)]);
    await this.redis.cmd(['DEL', this.keys.nodeAgents(node)]);
    await this.redis.cmd(['ZREM', this.keys.nodes, node]);
  }

  async holdsClient(clientId: string, held: boolean): Promise<void> {
    await this.redis.cmd([held ? 'SADD' : 'SREM', this.keys.nodeClients(this.nodeId), clientId]);
  }

  async holdsAgent(name: string, agentId: string, held: boolean): Promise<void> {
    await this.redis.cmd([held ? 'SADD' : 'SREM', this.keys.nodeAgents(this.nodeId), `${name}\t${agentId}`]);
  }

  /** Shutdown: silent from now on (score 0), so a survivor takes over at its next sweep. */
  async leave(): Promise<void> {
    await this.redis.cmd(['ZADD', this.keys.nodes, '0', this.nodeId]);
  }
}
