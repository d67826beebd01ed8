/**
 * The agent directory in Redis (PROTOCOL §10): every connection of a name on every broker, and one
 * pin per client per name cluster-wide. A pick is one script: the client's pin while its
 * connection is there, else the connection with the highest sha1(clientId + agentId) — rendezvous
 * hashing computed inside Redis, so two brokers picking at once agree — stored as the new pin.
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { AgentDirectory, AgentEntry } from '../agent-directory.ts';
import type { Keys } from './keys.ts';

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

const PICK = `
local pinned = redis.call('HGET', KEYS[2], ARGV[1])
if pinned then
  local node = redis.call('HGET', KEYS[1], pinned)
  if node then return {pinned, node} end
end
local all = redis.call('HGETALL', KEYS[1])
local best, bestNode, bestScore = false, false, ''
for i = 1, #all, 2 do
  local s = redis.sha1hex(ARGV[1] .. all[i])
  if s > bestScore then
    best = all[i]
    bestNode = all[i + 1]
    bestScore = s
  end
end
if not best then return false end
redis.call('HSET', KEYS[2], ARGV[1], best)
return {best, bestNode}
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
    const answer = await this.redis.eval<[string, string] | null>(PICK, [this.keys.pool(name), this.keys.pins(name)], [clientId]);
    return answer ? { name, agentId: answer[0], node: answer[1] } : undefined;
  }

  async names(): Promise<string[]> {
    return this.redis.cmd<string[]>(['SMEMBERS', this.keys.names]);
  }

  async forgetClient(clientId: string): Promise<void> {
    const names = await this.names();
    await Promise.all(names.map((n) => this.redis.cmd(['HDEL', this.keys.pins(n), clientId])));
  }
}
