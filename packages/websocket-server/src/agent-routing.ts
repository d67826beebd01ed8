/**
 * Client frames for agents (`client.message`, `client.cancel`): to the connection of the name the
 * client is pinned to (agent directory), wherever it is, else into the name's wait queue; refused
 * with `agent_unavailable` / `over_capacity` (with the frame's `ref`) when they cannot wait. Also
 * what follows when a name's connection arrives (its queue, in order) or goes (what it never got,
 * re-pinned or put back at the head of the queue). The Router and the agent lifecycle both use it.
 */
import type { Acceptance } from './acks.ts';
import { rendezvousScore } from './agent-pool.ts';

/** How often a fresh message looks at its name's fence again. */
const FENCE_POLL_MS = 20;
import type { LocalHub } from './local-hub.ts';
import type { BrokerMetrics } from './metrics.ts';
import type { SessionDelivery } from './session-delivery.ts';
import type { Shutdown } from './shutdown.ts';
import type { AgentDirectory } from './store/agent-directory.ts';
import { settle, andThen, type Awaitable } from './store/awaitable.ts';
import type { ClusterBus } from './store/cluster-bus.ts';
import type { WaitEntry, WaitQueueStore } from './store/wait-queue-store.ts';

export class AgentRouting {
  constructor(
    private readonly directory: AgentDirectory,
    private readonly waitQueues: WaitQueueStore,
    private readonly hub: LocalHub,
    private readonly bus: ClusterBus,
    private readonly delivery: SessionDelivery,
    private readonly metrics: BrokerMetrics,
    private readonly shutdown: Shutdown,
    private readonly onError: (err: unknown) => void,
    /** §8: a cluster holds each client message in Redis before it goes to a connection. */
    private readonly acceptance?: Acceptance,
  ) {
    waitQueues.onRejected((e) => this.reject(e));
  }

  /**
   * To the client's pinned connection of that name, else the name's wait queue. Resolves true
   * when the entry was taken (handed to a connection or queued: §8 `accepted`), false when its
   * client was answered with an error instead.
   */
  toAgent(entry: WaitEntry, fresh = false): Awaitable<boolean> {
    if (this.shutdown.closing) return false;
    if (this.acceptance?.clustered) return this.clusterToAgent([entry], fresh).then((taken) => taken[0]!);
    return andThen(this.directory.pick(entry.agent, entry.clientId), (pinned): Awaitable<boolean> => {
      if (!pinned) return this.queue(entry);
      const conn = this.hub.agent(pinned.agentId);
      if (conn) {
        conn.sendClientMessage(entry, !fresh);
        return true;
      }
      // Not here (the memory bus loops back to this broker's own handler).
      return andThen(this.bus.publish({ kind: 'client.message', agentId: pinned.agentId, node: pinned.node, entry }), () => true);
    });
  }

  /**
   * Cluster: fresh frames of one client, in order (a batch its socket sent while the previous one
   * was routed: router.ts). Each consecutive run for one name is held by one script. `taken`: what
   * each entry's toAgent would have resolved, in order, for as many as were routed; `err`: why the
   * rest (from there on) were not (a store failed).
   */
  async toAgentMany(entries: WaitEntry[]): Promise<{ taken: boolean[]; err?: unknown }> {
    const taken: boolean[] = [];
    for (let i = 0; i < entries.length; ) {
      let j = i + 1;
      while (j < entries.length && entries[j]!.agent === entries[i]!.agent) j++;
      try {
        if (this.shutdown.closing) taken.push(...entries.slice(i, j).map(() => false));
        else taken.push(...(await this.clusterToAgent(entries.slice(i, j), true)));
      } catch (err) {
        return { taken, err };
      }
      i = j;
    }
    return { taken };
  }

  /**
   * Cluster (§8, §10): held in Redis for the client's pinned connection and published to its
   * broker in one step; a client without a valid pin is pinned by rendezvous over the name's
   * connections first; a name without any waits in its queue. `entries`: one client's, for one
   * name, in order. `fresh` (frames just read from their client): a resend of a frame held before
   * is taken (answered `accepted`) and held nowhere again; a message routed again (drained, put
   * back, redelivered) is held whatever it was before.
   */
  private async clusterToAgent(entries: WaitEntry[], fresh: boolean, pinTo?: string, attempt = 0): Promise<boolean[]> {
    const name = entries[0]!.agent;
    let answer = await this.acceptance!.hold(name, entries, fresh, pinTo);
    // The name's older messages are being routed again: wait until they are (the fence expires
    // by itself after FENCE_MS should the broker routing them die).
    while (answer.state === 'fenced') {
      await new Promise((r) => setTimeout(r, FENCE_POLL_MS));
      answer = await this.acceptance!.hold(name, entries, fresh, pinTo);
    }
    if (answer.state === 'held') {
      if (!answer.published) {
        const conn = this.hub.agent(answer.agentId);
        if (conn) entries.forEach((e, i) => answer.resent[i] || conn.sendClientMessage(e, !fresh));
      }
      // Nobody heard it: that broker is gone (its sockets closed, its beats will stop): the sweeper
      // takes it over as soon as its beat is stale, not after the full dead-after bound.
      else if (answer.heard === 0) this.onSuspect?.(answer.node);
      return entries.map(() => true);
    }
    if (answer.pool.length === 0 || attempt >= 3) {
      const taken: boolean[] = [];
      for (const e of entries) taken.push(await this.queue(e, fresh));
      return taken;
    }
    // Rendezvous over every connection, with the memory directory's score (agent-pool.ts).
    const clientId = entries[0]!.clientId;
    let best = answer.pool[0]![0];
    let bestScore = -1;
    for (const [agentId] of answer.pool) {
      const score = rendezvousScore(clientId, agentId);
      if (score > bestScore || (score === bestScore && agentId > best)) {
        best = agentId;
        bestScore = score;
      }
    }
    return this.clusterToAgent(entries, fresh, best, attempt + 1);
  }

  /** Cluster: a broker that did not hear a message meant for it (set by broker-parts). */
  onSuspect?: (node: string) => void;

  /** Into the name's wait queue, or the client hears why it cannot wait. */
  private queue(entry: WaitEntry, fresh = false): Awaitable<boolean> {
    return andThen(this.waitQueues.offer(entry, fresh), (result) => {
      if (result === 'full') this.reject(entry);
      else if (result === 'over_capacity') {
        // The broker is full, not this client's bound: say so, so the client backs off and retries.
        this.metrics.capacityRefusals.inc({ budget: 'wait_queue' });
        this.delivery.error(entry.clientId, 'over_capacity', 'the broker holds too many waiting messages; retry later', { ref: entry.ref });
      }
      if (result === 'ok' && this.acceptance?.clustered) this.recheck(entry.agent);
      return result === 'ok';
    });
  }

  /**
   * Cluster: a connection of the name may have arrived (on any broker) and drained its queue
   * while this entry was on its way into it; if the name has a connection now, drain again.
   */
  private recheck(name: string): void {
    settle(
      andThen(this.directory.names(), (names) => (names.includes(name) ? this.drain(name) : undefined)),
      this.onError,
    );
  }

  /** A message that could not reach an agent: its client hears `agent_unavailable`. */
  reject(entry: WaitEntry): void {
    this.delivery.error(entry.clientId, 'agent_unavailable', `no agent "${entry.agent}" took the message`, { ref: entry.ref });
  }

  /** A connection of `name` arrived: everything waiting for the name goes, in order. */
  drain(name: string): Awaitable<void> {
    if (this.acceptance?.clustered) return this.reroute(name, () => this.waitQueues.take(name));
    return andThen(this.waitQueues.take(name), (entries) => {
      for (const e of entries) settle(this.toAgent(e), this.onError);
    });
  }

  /**
   * Messages a gone connection never got: re-pinned among the name's others, else back at the
   * queue's head. (A cluster fenced the name before the connection left its pool: `unfence`.)
   */
  putBack(name: string, entries: WaitEntry[], othersLeft: boolean): Awaitable<void> {
    if (this.acceptance?.clustered) {
      // The caller fenced the name before the connection left its pool; this lifts that fence.
      if (othersLeft) return this.reroute(name, () => entries, true);
      return Promise.resolve(this.waitQueues.requeueFront(name, entries))
        .then(() => this.acceptance!.fence(name, false))
        .then(() => this.recheck(name));
    }
    if (entries.length === 0) return;
    if (othersLeft) {
      for (const e of entries) settle(this.toAgent(e), this.onError);
      return;
    }
    return this.waitQueues.requeueFront(name, entries);
  }

  /**
   * Cluster: older messages of a name routed again one after the other, in order, while fresh ones
   * wait at the fence (so none overtakes them, whichever broker its client is on).
   */
  private async reroute(name: string, take: () => Awaitable<WaitEntry[]>, fenced = false): Promise<void> {
    if (!fenced) await this.acceptance!.fence(name, true);
    try {
      for (const e of await take()) await this.toAgent(e);
    } finally {
      await this.acceptance!.fence(name, false);
    }
  }
}
