/**
 * Prometheus metrics of one broker, in its own prom-client Registry (several brokers may run in
 * one test process). Labels are bounded: frame types come from the protocol tables, anything
 * else is counted as `invalid`.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ERROR_CODES, FrameType } from '@agent-bridge/common';

export type Peer = 'agent' | 'client';

export interface Snapshot {
  agents: number;
  clients: number;
  sessions: number;
  waiting: number;
  waitingBytes: number;
  resumeBytes: number;
}

const KNOWN_TYPES = new Set<string>(Object.values(FrameType));

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly framesIn: Counter<'peer' | 'type'>;
  readonly framesOut: Counter<'peer' | 'type'>;
  readonly dropped: Counter;
  readonly errors: Counter<'code'>;
  readonly connections: Counter<'peer'>;
  readonly closes: Counter<'peer' | 'code'>;
  readonly resumeEvicted: Counter;
  readonly capacityRefusals: Counter<'budget'>;

  constructor(snapshot: () => Snapshot) {
    const registers = [this.registry];
    // Process metrics (heap, external memory, RSS, event-loop lag): the operator's view of the
    // "memory stays bounded" promise, and what the slow-client test reads.
    collectDefaultMetrics({ register: this.registry });
    const gauge = (name: string, help: string, pick: (s: Snapshot) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(snapshot()));
        },
      });
    gauge('broker_agent_connections', 'open agent connections', (s) => s.agents);
    gauge('broker_client_connections', 'open client connections (web server upstreams)', (s) => s.clients);
    gauge('broker_sessions', 'known client sessions (connected or resumable)', (s) => s.sessions);
    gauge('broker_waiting_messages', 'client messages waiting for an agent name to connect', (s) => s.waiting);
    gauge('broker_waiting_bytes', 'bytes held for waiting client messages (counted against WAIT_QUEUE_BUDGET_BYTES)', (s) => s.waitingBytes);
    gauge('broker_resume_bytes', 'bytes held in all resume buffers (counted against RESUME_BUDGET_BYTES)', (s) => s.resumeBytes);
    this.framesIn = new Counter({ name: 'broker_frames_in_total', help: 'frames received', labelNames: ['peer', 'type'], registers });
    this.framesOut = new Counter({ name: 'broker_frames_out_total', help: 'frames sent', labelNames: ['peer', 'type'], registers });
    this.dropped = new Counter({ name: 'broker_messages_dropped_total', help: 'broadcast frames dropped for slow consumers', registers });
    this.errors = new Counter({ name: 'broker_errors_total', help: 'error frames sent, by code', labelNames: ['code'], registers });
    this.connections = new Counter({ name: 'broker_connections_total', help: 'connections accepted', labelNames: ['peer'], registers });
    this.closes = new Counter({ name: 'broker_closes_total', help: 'connections closed, by close code', labelNames: ['peer', 'code'], registers });
    this.resumeEvicted = new Counter({
      name: 'broker_resume_evicted_frames_total',
      help: 'frames evicted from resume buffers because RESUME_BUDGET_BYTES was reached',
      registers,
    });
    this.capacityRefusals = new Counter({
      name: 'broker_capacity_refusals_total',
      help: 'work refused over_capacity, by budget (sessions, sessions_per_ip, agents, wait_queue)',
      labelNames: ['budget'],
      registers,
    });
    for (const code of ERROR_CODES) this.errors.inc({ code }, 0);
  }

  frameIn(peer: Peer, type: unknown): void {
    this.framesIn.inc({ peer, type: typeof type === 'string' && KNOWN_TYPES.has(type) ? type : 'invalid' });
  }

  frameOut(peer: Peer, type: string): void {
    this.framesOut.inc({ peer, type });
  }
}
