/** Redis test helpers: delete every key of a test prefix (tests never FLUSH the shared Redis). */
import { type RedisLink, scanKeys } from '@agent-bridge/common/redis';

export async function deleteKeys(link: RedisLink, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of scanKeys(link, `${prefix}:*`)) deleted += Number(await link.cmd(['DEL', ...keys]));
  return deleted;
}

/** How many keys of a prefix have no TTL (every key must have one). */
export async function keysWithoutTtl(link: RedisLink, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const keys of scanKeys(link, `${prefix}:*`)) for (const k of keys) if (Number(await link.cmd(['PTTL', k])) === -1) out.push(k);
  return out;
}
