/**
 * The agent directory in Redis (PROTOCOL §10): every connection of a name on every broker, and one
 * pin per client per name cluster-wide. A pick is one script: the client's pin while its
 * connection is there, else the connection with the highest sha1(clientId + agentId) — rendezvous
 * hashing computed inside Redis, so two brokers picking at once agree — stored as the new pin.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { AgentDirectory, AgentEntry } from '../agent-directory.ts';
import { rendezvousScore } from '../../agent-pool.ts';
import type { Keys } from './keys.ts';

/** A hash reply as [field, value] pairs (a flat array from a script, an object from HGETALL). */
export function pairs(reply: string[] | Record<string, string> | null | undefined): [string, string][] {
  if (!reply) return [];
  if (!Array.isArray(reply)) return Object.entries(reply);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) out.push([reply[i]!, reply[i + 1]!]);
  return out;
}

const ADD = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HLEN', KEYS[1])
`;

const REMOVE = `
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
local left = redis.call('HLEN', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[2]) end
return {removed, left}
`;

/** The client's pin while its connection is there; else every connection (the caller picks). */
const PINNED = `
local pinned = redis.call('HGET', KEYS[2], ARGV[1])
if pinned then
  local node = redis.call('HGET', KEYS[1], pinned)
  if node then return {1, pinned, node} end
end
return {0, redis.call('HGETALL', KEYS[1])}
`;

/** Pin to ARGV[2] unless another broker pinned a live connection meanwhile; the pin in effect. */
const PIN = `
local pinned = redis.call('HGET', KEYS[2], ARGV[1])
if pinned then
  local node = redis.call('HGET', KEYS[1], pinned)
  if node then return {pinned, node} end
end
local node = redis.call('HGET', KEYS[1], ARGV[2])
if not node then return false end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {ARGV[2], node}
`;

export class RedisAgentDirectory implements AgentDirectory {
  constructor(
    private readonly redis: RedisLink,
    private readonly keys: Keys,
  ) {}

  async add(entry: AgentEntry): Promise<boolean> {
    const n = await this.redis.eval<number>(ADD, [this.keys.pool(entry.name)], [entry.agentId, entry.node]);
    await this.redis.cmd(['SADD', this.keys.names, entry.name]);
    return n === 1;
  }

  async remove(entry: AgentEntry): Promise<boolean> {
    const [removed, left] = await this.redis.eval<[number, number]>(REMOVE, [this.keys.pool(entry.name), this.keys.pins(entry.name)], [entry.agentId]);
    if (left === 0) await this.redis.cmd(['SREM', this.keys.names, entry.name]);
    return removed === 1 && left === 0;
  }

  async pick(name: string, clientId: string): Promise<AgentEntry | undefined> {
    const keys = [this.keys.pool(name), this.keys.pins(name)];
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await this.redis.eval<[1, string, string] | [0, string[] | Record<string, string>]>(PINNED, keys, [clientId]);
      if (answer[0] === 1) return { name, agentId: answer[1], node: answer[2] };
      const conns = pairs(answer[1]);
      if (conns.length === 0) return undefined;
      // Rendezvous over every connection, with the memory directory's score (agent-pool.ts).
      let best = conns[0]!;
      let bestScore = -1;
      for (const c of conns) {
        const s = rendezvousScore(clientId, c[0]);
        if (s > bestScore || (s === bestScore && c[0] > best[0])) {
          best = c;
          bestScore = s;
        }
      }
      const pinned = await this.redis.eval<[string, string] | null>(PIN, keys, [clientId, best[0]]);
      if (pinned) return { name, agentId: pinned[0], node: pinned[1] };
      // The chosen connection went meanwhile: choose again.
    }
    return undefined;
  }

  async names(): Promise<string[]> {
    return this.redis.cmd<string[]>(['SMEMBERS', this.keys.names]);
  }

  async forgetClient(clientId: string): Promise<void> {
    const names = await this.names();
    await Promise.all(names.map((n) => this.redis.cmd(['HDEL', this.keys.pins(n), clientId])));
  }
}
