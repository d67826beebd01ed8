/**
 * Which brokers are alive (PROTOCOL §10): each beats into a sorted set every second; the sessions
 * and agent connections it holds are listed beside it, so when it stops beating the one survivor
 * that removes it from the set (ZREM answers 1 to exactly one caller) takes over its work.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { ClusterNodes, DeadNode } from '../cluster-nodes.ts';
import type { Keys } from './keys.ts';

export class RedisClusterNodes implements ClusterNodes {
  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
    private readonly nodeId: string,
  ) {}

  async beat(): Promise<void> {
    await this.redis.cmd(['ZADD', this.keys.nodes, String(Date.now()), this.nodeId]);
  }

  async alive(node: string): Promise<boolean> {
    const score = await this.redis.cmd<string | null>(['ZSCORE', this.keys.nodes, node]);
    return score !== null && Number(score) > 0;
  }

  async claimDead(deadAfterMs: number, predecessors?: string): Promise<DeadNode[]> {
    const silent = await this.redis.cmd<string[]>(['ZRANGEBYSCORE', this.keys.nodes, '-inf', String(Date.now() - deadAfterMs)]);
    if (predecessors !== undefined) {
      const all = await this.redis.cmd<string[]>(['ZRANGE', this.keys.nodes, '0', '-1']);
      for (const n of all) if (n.startsWith(predecessors) && !silent.includes(n)) silent.push(n);
    }
    const out: DeadNode[] = [];
    for (const node of silent) {
      if (node === this.nodeId) continue;
      if ((await this.redis.cmd<number>(['ZREM', this.keys.nodes, node])) !== 1) continue; // another broker took it
      const [clients, agents] = await Promise.all([
        this.redis.cmd<string[]>(['SMEMBERS', this.keys.nodeClients(node)]),
        this.redis.cmd<string[]>(['SMEMBERS', this.keys.nodeAgents(node)]),
      ]);
      await this.redis.cmd(['DEL', this.keys.nodeClients(node), this.keys.nodeAgents(node)]);
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
