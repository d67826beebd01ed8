/**
 * Every Redis key and channel of one bridge (CLUSTER_PREFIX). A session's keys share the hash tag
 * `{clientId}` so the scripts that touch several of them run in one slot (Redis Cluster, managed
 * Redis); a name's pool and pins share `{a:name}`; all wait queues share `{q}` so one script can
 * check the per-name, per-client and global bounds together.
 */
import { oldGeneration } from './lua.ts';

export class Keys {
  constructor(readonly prefix: string) {}

  /** The cluster's epoch (PROTOCOL §10): one string, no TTL. */
  get epoch(): string {
    return `${this.prefix}:epoch`;
  }
  /** A session record (hash). */
  session(clientId: string): string {
    return `${this.prefix}:{${clientId}}:s`;
  }
  /** A session log's counters: seq, gone (highest seq no longer held), bytes (hash). */
  logMeta(clientId: string): string {
    return `${this.prefix}:{${clientId}}:lm`;
  }
  /** A session log's frames (stream, entry id = seq). */
  log(clientId: string): string {
    return `${this.prefix}:{${clientId}}:l`;
  }
  /** A session's token bucket (hash). */
  rate(clientId: string): string {
    return `${this.prefix}:{${clientId}}:r`;
  }
  /** A session's runs: runId → the agent name streaming it, §9 (hash). */
  runs(clientId: string): string {
    return `${this.prefix}:{${clientId}}:runs`;
  }
  /** A session's accepted client ids, §8 (hash id → time; its older generation beside it: lua.ts). */
  clientIds(clientId: string): string {
    return `${this.prefix}:{${clientId}}:ids`;
  }
  /** The keys of a session, in the order the scripts take them (they expire and go together). */
  sessionKeys(clientId: string): string[] {
    const ids = this.clientIds(clientId);
    const aids = this.agentFrames(clientId);
    return [this.session(clientId), this.logMeta(clientId), this.log(clientId), this.rate(clientId), ids, aids, oldGeneration(ids), oldGeneration(aids)];
  }
  /** Every session: clientId by createdAt (zset). */
  get sessions(): string {
    return `${this.prefix}:sessions`;
  }
  /** Sessions per client IP (hash). */
  get ips(): string {
    return `${this.prefix}:ips`;
  }
  /** Detached sessions by expiresAt (zset): the expiry sweeper's work list. */
  get expiry(): string {
    return `${this.prefix}:expiry`;
  }
  /** Brokers by last heartbeat (zset). */
  get nodes(): string {
    return `${this.prefix}:nodes`;
  }
  nodeClients(node: string): string {
    return `${this.prefix}:node:${node}:clients`;
  }
  nodeAgents(node: string): string {
    return `${this.prefix}:node:${node}:agents`;
  }
  /** A name's connections: agentId → node (hash). */
  pool(name: string): string {
    return `${this.prefix}:{a:${name}}:pool`;
  }
  /** A name's pins: clientId → agentId (hash). */
  pins(name: string): string {
    return `${this.prefix}:{a:${name}}:pins`;
  }
  /** Client messages one connection holds unacknowledged, §8: id → entry (hash) … */
  inflight(name: string, agentId: string): string {
    return `${this.prefix}:{a:${name}}:inflight:${agentId}`;
  }
  /** Set while the name's older messages are routed again: fresh ones wait (string with a TTL). */
  fence(name: string): string {
    return `${this.prefix}:{a:${name}}:fence`;
  }
  /** Client frames (clientId + own id) held for the name's connections lately, §8 (hash → time, two generations: lua.ts). */
  heldRefs(name: string): string {
    return `${this.prefix}:{a:${name}}:refs`;
  }
  /** Client frames queued lately, §8: a resend is not queued twice (hash → time, two generations: lua.ts). */
  get queueRefs(): string {
    return `${this.prefix}:{q}:refs`;
  }
  /** Agent frames (name + id) appended to a session lately, §8: a resend is not appended twice (hash → time, two generations). */
  agentFrames(clientId: string): string {
    return `${this.prefix}:{${clientId}}:aids`;
  }
  /** … and their order, oldest first (list of ids). */
  inflightOrder(name: string, agentId: string): string {
    return `${this.prefix}:{a:${name}}:inflight:${agentId}:list`;
  }
  /** Set when a broker run was taken over, so that run, should it be alive after all, learns it. */
  takenOver(node: string): string {
    return `${this.prefix}:taken:${node}`;
  }
  /** Names with at least one connection (set). */
  get names(): string {
    return `${this.prefix}:names`;
  }
  queue(name: string): string {
    return `${this.prefix}:{q}:list:${name}`;
  }
  /** Waiting messages and bytes per client: `<clientId>:n`, `<clientId>:b` (hash). */
  get queueClients(): string {
    return `${this.prefix}:{q}:clients`;
  }
  /** Bytes waiting in all queues (string). */
  get queueBytes(): string {
    return `${this.prefix}:{q}:bytes`;
  }
  /** Names with messages waiting (set). */
  get queueNames(): string {
    return `${this.prefix}:{q}:names`;
  }
  /** The channel every broker listens to. */
  get busAll(): string {
    return `${this.prefix}:bus`;
  }
  /** The channel of one broker (deliveries and client messages for its sockets). */
  busNode(node: string): string {
    return `${this.prefix}:bus:${node}`;
  }
}
