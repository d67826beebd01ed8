/**
 * Where sessions live. In memory for now (the epoch changes with every broker start); the
 * interface is what a shared store (Redis) would implement later.
 */
import type { ClientSession } from './client-session.ts';

export interface SessionStore {
  get(clientId: string): ClientSession | undefined;
  set(session: ClientSession): void;
  delete(clientId: string): void;
  values(): Iterable<ClientSession>;
  readonly size: number;
}

export class MemorySessionStore implements SessionStore {
  private readonly map = new Map<string, ClientSession>();

  get(clientId: string): ClientSession | undefined {
    return this.map.get(clientId);
  }

  set(session: ClientSession): void {
    this.map.set(session.clientId, session);
  }

  delete(clientId: string): void {
    this.map.delete(clientId);
  }

  values(): Iterable<ClientSession> {
    return this.map.values();
  }

  get size(): number {
    return this.map.size;
  }
}
