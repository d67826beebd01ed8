/**
 * The broker's state seams, together: what startBroker takes in BrokerOptions.stores (any left
 * out is the memory one). A cluster (PROTOCOL §10) passes shared implementations of the same
 * interfaces; the local hub (this process's sockets) is never shared and is not among them.
 */
import type { Config } from '@agent-bridge/common';
import { AgentWaitQueues } from '../agent-wait-queue.ts';
import type { AgentDirectory } from './agent-directory.ts';
import { MemoryAgentDirectory } from './agent-directory-memory.ts';
import type { AckRecords } from './ack-records.ts';
import { MemoryAckRecords } from './ack-records-memory.ts';
import type { ClientIntake } from './client-intake.ts';
import type { SharedRunRecords } from '../runs.ts';
import type { ClusterBus } from './cluster-bus.ts';
import type { RedisInflight } from './redis/inflight-redis.ts';
import { MemoryClusterNodes, type ClusterNodes } from './cluster-nodes.ts';
import { MemoryClusterBus } from './cluster-bus-memory.ts';
import type { EpochSource } from './epoch-source.ts';
import { MemoryEpochSource } from './epoch-source-memory.ts';
import type { RateLimitStore } from './rate-limit-store.ts';
import { MemoryRateLimitStore } from './rate-limit-store-memory.ts';
import type { SessionLog } from './session-log.ts';
import { MemorySessionLog } from './session-log-memory.ts';
import type { SessionStore } from './session-store.ts';
import { MemorySessionStore } from './session-store-memory.ts';
import type { WaitQueueStore } from './wait-queue-store.ts';

export interface BrokerStores {
  epoch: EpochSource;
  sessions: SessionStore;
  log: SessionLog;
  directory: AgentDirectory;
  waitQueues: WaitQueueStore;
  rates: RateLimitStore;
  bus: ClusterBus;
  nodes: ClusterNodes;
  /** §8 accepted ids (absent: the memory rings of acks.ts). */
  acks?: AckRecords;
  /** Cluster §9: run → agent records shared between the agent's broker and the client's. */
  runs?: SharedRunRecords;
  /** Cluster: rate limit, §8 id and address of a client frame in one round trip (absent in memory). */
  intake?: ClientIntake;
  /** Cluster §8: client messages held in Redis for agent connections (absent in memory). */
  inflight?: RedisInflight;
  /** Cluster mode: whether the shared store answers (PROTOCOL §10 /readyz, upgrades refused 503). */
  reachable?(): boolean;
  /** Stop timers and connections the stores own (cluster); the shared data stays. */
  close?(): Promise<void>;
}

/** Hooks the memory stores report through (metrics). */
export interface MemoryStoreHooks {
  /** Frames RESUME_BUDGET_BYTES evicted. */
  onResumeEvicted?(frames: number): void;
}

/** Every store in this process, bounded by the settings. */
export function memoryStores(cfg: Config, hooks: MemoryStoreHooks = {}): BrokerStores {
  return {
    epoch: new MemoryEpochSource(),
    sessions: new MemorySessionStore({ maxSessions: cfg.MAX_SESSIONS, maxPerIp: cfg.MAX_SESSIONS_PER_IP }),
    log: new MemorySessionLog(
      {
        frames: cfg.RESUME_BUFFER_FRAMES,
        bytes: cfg.RESUME_BUFFER_BYTES,
        budgetBytes: cfg.RESUME_BUDGET_BYTES,
        maxMessageBytes: cfg.MAX_MESSAGE_BYTES,
      },
      hooks.onResumeEvicted,
    ),
    directory: new MemoryAgentDirectory(),
    waitQueues: new AgentWaitQueues(cfg.AGENT_QUEUE_LIMIT, cfg.SESSION_TTL_MS, undefined, {
      budget: cfg.WAIT_QUEUE_BUDGET_BYTES,
      perClient: cfg.WAIT_QUEUE_CLIENT_BYTES,
    }),
    rates: new MemoryRateLimitStore(cfg.CLIENT_RATE_PER_SEC, cfg.CLIENT_RATE_BURST),
    bus: new MemoryClusterBus(),
    nodes: new MemoryClusterNodes(),
    acks: new MemoryAckRecords(cfg.SESSION_TTL_MS),
  };
}

/** `given`, completed with the memory stores for what it leaves out. */
export function withMemoryDefaults(cfg: Config, given: Partial<BrokerStores> = {}, hooks: MemoryStoreHooks = {}): BrokerStores {
  const defaults = memoryStores(cfg, hooks);
  return { ...defaults, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
}
