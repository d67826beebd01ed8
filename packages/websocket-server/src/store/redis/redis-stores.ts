/**
 * Cluster mode (PROTOCOL §10): every broker seam on Redis, from REDIS_URL and CLUSTER_PREFIX. Two
 * connections: one for commands and scripts, one subscribed to the bus. While either is down the
 * stores are unreachable: /readyz answers 503, new sockets are refused 503 `unavailable`, frames
 * that cannot be stored are answered `unavailable`; node-redis reconnects with backoff and
 * service resumes without a restart.
 */
import type { Config, Logger } from '@agent-bridge/common';
import { RedisLink } from '@agent-bridge/common/redis';
import type { BrokerStores } from '../stores.ts';
import { RedisAckRecords } from './ack-records-redis.ts';
import { RedisAgentDirectory } from './agent-directory-redis.ts';
import { RedisClientIntake } from './client-intake-redis.ts';
import { OwnedClientIntake } from './owned-intake.ts';
import { RedisRunRecords } from './run-records-redis.ts';
import { RedisInflight } from './inflight-redis.ts';
import { RedisClusterBus } from './cluster-bus-redis.ts';
import { RedisClusterNodes } from './cluster-nodes-redis.ts';
import { RedisEpochSource } from './epoch-source-redis.ts';
import { Keys } from './keys.ts';
import { RedisRateLimitStore } from './rate-limit-store-redis.ts';
import { RedisSessionLog } from './session-log-redis.ts';
import { RedisSessionStore } from './session-store-redis.ts';
import { RedisWaitQueues } from './wait-queue-store-redis.ts';

export interface RedisStoreDeps {
  log: Logger;
  nodeId: string;
  onRedisError?: () => void;
  onRedisReconnect?: () => void;
  onCrossBrokerLag?: (ms: number) => void;
}

export async function redisStores(cfg: Config, deps: RedisStoreDeps): Promise<BrokerStores> {
  const { log, nodeId } = deps;
  const url = cfg.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set');
  const keys = new Keys(cfg.CLUSTER_PREFIX);
  const main = new RedisLink({ url, log, name: 'broker', onReconnect: deps.onRedisReconnect, onError: deps.onRedisError });
  const sub = main.duplicate('broker-bus');
  await Promise.all([main.start(), sub.start()]);
  const onError = (err: unknown) => {
    deps.onRedisError?.();
    log.debug({ err }, 'a redis command failed');
  };
  const epoch = new RedisEpochSource(main, keys);
  const acks = new RedisAckRecords(main, keys, onError);
  const waitQueues = new RedisWaitQueues(
    main,
    keys,
    cfg.AGENT_QUEUE_LIMIT,
    cfg.SESSION_TTL_MS,
    { budget: cfg.WAIT_QUEUE_BUDGET_BYTES, perClient: cfg.WAIT_QUEUE_CLIENT_BYTES },
    onError,
    cfg.CLUSTER_REFS_LIMIT,
  );
  const bus = new RedisClusterBus(main, sub, keys, nodeId, onError, deps.onCrossBrokerLag);
  // Subscribing waits for the connection; a broker started while Redis is away keeps trying.
  const subscribed = bus.start().catch(onError);
  await Promise.race([subscribed, new Promise((r) => setTimeout(r, 2500).unref())]);
  epoch.start();
  waitQueues.start();
  // Answered from this broker's memory between round trips while it holds the session's socket.
  const intake = new OwnedClientIntake(
    new RedisClientIntake(main, keys, cfg.CLIENT_RATE_PER_SEC, cfg.CLIENT_RATE_BURST, acks.pending),
    main,
    keys,
    onError,
  );
  acks.onAccepted = (clientId, id) => intake.accepted(clientId, id);
  return {
    epoch,
    sessions: new RedisSessionStore(main, keys, nodeId, { maxSessions: cfg.MAX_SESSIONS, maxPerIp: cfg.MAX_SESSIONS_PER_IP }),
    log: new RedisSessionLog(main, keys, nodeId, { frames: cfg.RESUME_BUFFER_FRAMES, bytes: cfg.RESUME_BUFFER_BYTES, sessionTtlMs: cfg.SESSION_TTL_MS, agentIdsKept: cfg.CLUSTER_REFS_LIMIT }),
    directory: new RedisAgentDirectory(main, keys),
    waitQueues,
    rates: new RedisRateLimitStore(main, keys, cfg.CLIENT_RATE_PER_SEC, cfg.CLIENT_RATE_BURST),
    bus,
    nodes: new RedisClusterNodes(main, keys, nodeId),
    acks,
    runs: new RedisRunRecords(main, keys, cfg.SESSION_TTL_MS + 3_600_000, onError),
    intake,
    inflight: new RedisInflight(main, keys, nodeId, cfg.AGENT_QUEUE_LIMIT, cfg.SESSION_TTL_MS, cfg.CLUSTER_REFS_LIMIT),
    // Back from an outage, not before the epoch was read again (Redis may have come back empty).
    reachable: () => main.up && sub.up && epoch.verified,
    close: async () => {
      epoch.stop();
      waitQueues.clear();
      // Accepted ids still waiting for their session's next intake are written before the link goes.
      acks.pending.flushAll();
      await Promise.all([main.close(), sub.close()]);
    },
  };
}
