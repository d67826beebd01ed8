/**
 * The web server's Redis connection in cluster mode (REDIS_URL): one RedisLink for the stores,
 * its keys under CLUSTER_PREFIX. REDIS_URL may hold a password: it is never logged.
 */
import { RedisLink, clusterKey } from '@agent-bridge/common/redis';
import type { Logger } from '@agent-bridge/common';

export interface WebRedis {
  link: RedisLink;
  /** `<CLUSTER_PREFIX>:web:<parts…>` */
  key(...parts: string[]): string;
  prefix: string;
}

export function webRedis(link: RedisLink, prefix: string): WebRedis {
  return { link, prefix, key: (...parts) => clusterKey(prefix, 'web', ...parts) };
}

export interface WebRedisHooks {
  onState?: (up: boolean) => void;
  /** agent_bridge_redis_errors_total / _reconnects_total. */
  onError?: () => void;
  onReconnect?: () => void;
}

export async function connectWebRedis(url: string, prefix: string, log: Logger, hooks: WebRedisHooks = {}): Promise<WebRedis> {
  const link = new RedisLink({ url, log: log.child({ module: 'redis' }), name: 'web', ...hooks });
  await link.start();
  return webRedis(link, prefix);
}
