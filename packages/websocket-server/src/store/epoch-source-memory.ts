/**
 * One epoch per source: a process that keeps its state in memory restarts its seq space, unless
 * it starts from a snapshot (snapshot.ts), which passes the epoch it was written in.
 */
import { randomUUID } from 'node:crypto';
import type { EpochSource } from './epoch-source.ts';

export class MemoryEpochSource implements EpochSource {
  constructor(private readonly epoch: string = randomUUID()) {}

  current(): string {
    return this.epoch;
  }
}
