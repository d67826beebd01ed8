/**
 * Every second: this broker says it is alive, expires the sessions whose time is up (whoever
 * detached them), and takes over after brokers that died (PROTOCOL §10): their sessions are
 * detached, resumable, and announced `client.disconnected` once; their agent connections leave
 * the directory (`agent.disconnected` when a name's last one goes). In one process only the
 * expiry part has anything to do.
 */
import type { Logger } from '@agent-bridge/common';
import type { ClientLifecycle } from './client-lifecycle.ts';
import type { Acceptance } from './acks.ts';
import type { AgentRouting } from './agent-routing.ts';
import type { LifecycleEvents } from './lifecycle-events.ts';
import type { LocalHub } from './local-hub.ts';
import type { Shutdown } from './shutdown.ts';
import type { BrokerStores } from './store/stores.ts';

export const SWEEP_EVERY_MS = 1000;
/** A suspect broker whose beat is older than this is dead (it beats every SWEEP_EVERY_MS). */
export const SUSPECT_AFTER_MS = 1500;
/** Rounds between two checks of this broker's sockets against their logs (cluster only). */
const GAP_CHECK_ROUNDS = 5;

export class ClusterSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private first = true;
  private rounds = 0;
  /** Brokers that did not hear a message meant for them: claimed once their beat is stale. */
  private readonly suspects = new Set<string>();

  constructor(
    private readonly deps: {
      stores: BrokerStores;
      clients: ClientLifecycle;
      events: LifecycleEvents;
      routing: AgentRouting;
      acceptance: Acceptance;
      shutdown: Shutdown;
      log: Logger;
      sessionTtlMs: number;
      /** A broker silent this long is dead (HEARTBEAT_TIMEOUT_MS, at most 10 s). */
      deadAfterMs: number;
      /** Cluster: this broker's sockets, checked against their logs now and then. */
      hub?: LocalHub | undefined;
      /** Earlier runs of this broker's NODE_ID (`NODE_ID~`): dead at once, taken over by the first round. */
      predecessors?: string | undefined;
      /** Another broker took this one over while it was cut off from the store (broker-parts.ts). */
      onTakenOver?: () => void;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), SWEEP_EVERY_MS);
    this.timer.unref();
    void this.tick();
  }

  /**
   * A broker did not hear a message published to it (its subscription is gone): likely dead.
   * Checked at once, and taken over if its beat is older than SUSPECT_AFTER_MS (it beats every
   * second: an alive broker that merely lost its subscription for a moment is left alone).
   */
  suspect(node: string): void {
    if (this.suspects.has(node) || !this.timer) return;
    this.suspects.add(node);
    setTimeout(() => void this.tick(), SUSPECT_AFTER_MS).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round (tests call it directly). Errors are logged; the next round tries again. */
  async tick(now = Date.now()): Promise<void> {
    if (this.running || this.deps.shutdown.closing) return;
    this.running = true;
    try {
      const { stores } = this.deps;
      if (!(await stores.nodes.beat())) this.deps.onTakenOver?.();
      await this.deps.clients.sweep(now);
      // Every few rounds: a notification lost for good (its publisher died between storing frames
      // and telling this broker) shows as a log ahead of its socket; the gate reads the gap
      // (sessions that heard a frame since the last check need no look: checkGaps).
      if (this.deps.hub && ++this.rounds % GAP_CHECK_ROUNDS === 0) await this.checkGaps();
      const predecessors = this.first ? this.deps.predecessors : undefined;
      this.first = false;
      const suspects = [...this.suspects];
      this.suspects.clear();
      for (const dead of await stores.nodes.claimDead(this.deps.deadAfterMs, predecessors, suspects, SUSPECT_AFTER_MS)) await this.takeOver(dead, now);
    } catch (err) {
      this.deps.log.debug({ err }, 'sweep failed; retrying next round');
    } finally {
      this.running = false;
    }
  }

  /**
   * One look at the log's seq per session that heard nothing since the last check: a session that
   * did hear a frame would have seen any earlier lost one as a gap and read it (seq-gate.ts), and
   * one that goes quiet after a lost notification is checked the round after (≤ 2 rounds). Busy
   * sessions cost nothing here: asking all of them cost one Redis command per session every 5 s,
   * counted against every broadcast of a fan-out (bench: 100 per broadcast at 1,000 sessions).
   */
  private async checkGaps(): Promise<void> {
    const conns = [...this.deps.hub!.clients()].filter((c) => !c.detached && c.gate.expected > 0 && !c.gate.takeHeard());
    const last = await Promise.all(conns.map((c) => this.deps.stores.log.lastSeq(c.clientId)));
    conns.forEach((c, i) => {
      if (last[i]! >= c.gate.expected) c.gate.poke();
    });
  }

  private async takeOver(dead: { node: string; clients: string[]; agents: { name: string; agentId: string }[] }, now: number): Promise<void> {
    const { stores, events, log } = this.deps;
    let detached = 0;
    for (const clientId of dead.clients) {
      const record = await stores.sessions.orphan(clientId, dead.node, now + this.deps.sessionTtlMs);
      if (!record) continue; // resumed on another broker meanwhile
      detached += 1;
      events.toAllAgents('client.disconnected', { clientId, resumable: true });
    }
    for (const a of dead.agents) {
      // Fresh messages for the name wait until the dead connection's are routed again (putBack).
      await this.deps.acceptance.fence(a.name, true);
      const last = await stores.directory.remove({ name: a.name, agentId: a.agentId, node: dead.node });
      if (last) events.toAllClients('agent.disconnected', { agent: a.name });
      // §8: what the dead broker's connection still held goes to the name's next connection (or
      // its queue), in order, `redelivered:true` (every connection is treated as opted in: its
      // broker cannot say any more which of them had a message written to the socket).
      const held = await this.deps.acceptance.redeliver({ name: a.name, agentId: a.agentId, acks: true });
      await this.deps.routing.putBack(a.name, held, !last);
    }
    // Messages queued for the dead broker's names meanwhile: to the connections left, if any (else
    // they wait for the next one, as always).
    for (const name of new Set(dead.agents.map((a) => a.name))) await this.deps.routing.drain(name);
    await stores.nodes.done(dead.node);
    log.warn({ node: dead.node, sessions: detached, agents: dead.agents.length }, 'took over after a dead broker');
  }
}
