/**
 * Rendezvous hashing for agent pools: each client is pinned to the connection of a name with the
 * highest score of clientId + agentId (store/agent-directory.ts keeps the pins).
 */
import { createHash } from 'node:crypto';

export function rendezvousScore(clientId: string, agentId: string): number {
  return createHash('sha256').update(clientId).update('\0').update(agentId).digest().readUIntBE(0, 6);
}
