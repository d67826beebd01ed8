/** §8 de-duplication records in this process (acks-ids.ts rings); synchronous. */
import { AgentIdMemory, ClientIdMemory } from '../acks-ids.ts';
import type { AckRecords } from './ack-records.ts';

export class MemoryAckRecords implements AckRecords {
  readonly clientIds = new ClientIdMemory();
  readonly agentIds: AgentIdMemory;
  private readonly sweeper: NodeJS.Timeout;

  constructor(sessionTtlMs: number) {
    this.agentIds = new AgentIdMemory(sessionTtlMs);
    // Names that stopped sending lose their expired ids (a live name prunes its own as it goes).
    this.sweeper = setInterval(() => this.agentIds.sweep(), Math.max(1000, sessionTtlMs)).unref();
  }

  seenFromClient(clientId: string, id: string): boolean {
    return this.clientIds.seen(clientId, id);
  }
  acceptedFromClient(clientId: string, id: string): void {
    this.clientIds.remember(clientId, id);
  }
  forgetClient(clientId: string): void {
    this.clientIds.forget(clientId);
  }
  seenFromAgent(name: string, id: string): boolean {
    return this.agentIds.seen(name, id);
  }
  acceptedFromAgent(name: string, id: string): void {
    this.agentIds.remember(name, id);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
