/** One process, one broker: every message goes straight back to this process's handlers, synchronously. */
import type { BusMessage, ClusterBus } from './cluster-bus.ts';

export class MemoryClusterBus implements ClusterBus {
  private readonly handlers = new Set<(message: BusMessage) => void>();

  publish(message: BusMessage): void {
    for (const h of this.handlers) h(message);
  }

  subscribe(handler: (message: BusMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
}
