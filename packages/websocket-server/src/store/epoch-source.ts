/**
 * The epoch names a seq space (PROTOCOL §5): a resume is only valid within one. In one process it
 * changes with every start; in a cluster (§10) every broker sharing a store must answer the same
 * epoch, so it comes from a seam rather than from the process.
 */
import type { Awaitable } from './awaitable.ts';

export interface EpochSource {
  /** The epoch of the seq space this broker serves (stable for the source's life). */
  current(): Awaitable<string>;
  /**
   * Cluster: the shared state was lost (Redis came back empty) and the cluster took a new epoch;
   * the broker closes its sockets with 1012 so every client redials into the new seq space.
   */
  onChange?(listener: (epoch: string) => void): void;
}
