/**
 * What the broker remembers about agent runs (PROTOCOL §9), bounded, and nothing more: the events
 * themselves are ordinary `send` / `broadcast` data.
 *
 *  - StreamOffsets stamps `offset` on TEXT_MESSAGE_CONTENT / TOOL_CALL_ARGS deltas an agent sent
 *    without one, so that every delta can be coalesced later.
 *  - RunAgents (one per session) remembers which agent name streams each run to that client, so a
 *    client's `cancel` reaches the agent that runs it.
 */
import { FrameType, deltaStreamKey, offsetOf, runEndId, runIdOf, streamEdge, type ClientCancelToAgentFrame, type FrameInput } from '@agent-bridge/common';
import { nowIso } from './frames-out.ts';

/**
 * Running text length per agent name and stream, in UTF-16 units (what the next delta's offset
 * is). One map for all names, least recently used first, at most `maxStreams` entries; a stream is
 * forgotten at its `_END`.
 *
 * Stricter than common's OffsetTracker on purpose: a stream is only stamped when the broker saw it
 * open (`TEXT_MESSAGE_START` / `TOOL_CALL_START`, or a delta carrying its own offset). A stream it
 * does not know (evicted from the bound, or begun before this broker started) is left unstamped, so
 * its deltas never merge and clients append them whole. Stamping such a stream from 0 would be
 * wrong mid-message: a client holding L units would then cut L units off every later delta.
 */
export class StreamOffsets {
  private readonly next = new Map<string, number>();

  constructor(private readonly maxStreams = 100_000) {}

  get size(): number {
    return this.next.size;
  }

  /** `data` itself, or a copy with `offset` added. */
  stamp<T>(agent: string, data: T): T {
    const edge = streamEdge(data);
    if (edge) {
      const key = `${agent}\0${edge.key}`;
      if (edge.edge === 'end') this.next.delete(key);
      else this.set(key, 0);
      return data;
    }
    const stream = deltaStreamKey(data);
    if (stream === undefined) return data;
    const key = `${agent}\0${stream}`;
    const event = data as { delta: string };
    const given = offsetOf(data);
    if (given !== undefined) {
      // The agent's own offset is kept, and continues the count for its deltas that lack one.
      this.set(key, given + event.delta.length);
      return data;
    }
    const offset = this.next.get(key);
    if (offset === undefined) return data;
    this.set(key, offset + event.delta.length);
    return { ...data, offset } as T;
  }

  private set(key: string, value: number): void {
    this.next.delete(key); // re-insert: Map order is then least recently used first
    this.next.set(key, value);
    if (this.next.size > this.maxStreams) this.next.delete(this.next.keys().next().value!);
  }
}

/**
 * The agent name that streams each run to one client: learnt from every `send` / `broadcast` to the
 * session whose `data.runId` is a string, forgotten at that run's RUN_FINISHED / RUN_ERROR, and
 * with the session itself. At most `maxRuns` per session (least recently streamed first out): a
 * forgotten run's `cancel` goes to the name the client gave, as for any run the broker does not know.
 */
/** The longest runId a client's `cancel` may name (ClientCancelFrame). */
const MAX_RUN_ID = 256;

export class RunAgents {
  private readonly agents = new Map<string, string>();

  constructor(private readonly maxRuns = 64) {}

  get size(): number {
    return this.agents.size;
  }

  /**
   * An event `data` that agent `name` sent to this session. Answers what changed for the run (a
   * new run or agent, or its end; undefined for every other event of a known run).
   */
  note(name: string, data: unknown): { runId: string; agent: string | null } | undefined {
    const ended = runEndId(data);
    if (ended !== undefined) {
      this.agents.delete(ended);
      return { runId: ended, agent: null };
    }
    const runId = runIdOf(data);
    // A longer runId could never be cancelled (a cancel's runId is at most 256 characters), and
    // would make the per-session bound a bound on count only, not on bytes.
    if (runId === undefined || runId.length > MAX_RUN_ID) return undefined;
    const known = this.agents.get(runId);
    this.agents.delete(runId); // re-insert: least recently streamed first
    this.agents.set(runId, name);
    if (this.agents.size > this.maxRuns) this.agents.delete(this.agents.keys().next().value!);
    return known === name ? undefined : { runId, agent: name };
  }

  agentOf(runId: string): string | undefined {
    return this.agents.get(runId);
  }
}

/** The `client.cancel` frame for the agent (PROTOCOL §9), fields in the contract's order. */
export function cancelToAgent(session: { clientId: string; address: string | null }, runId: string): string {
  return JSON.stringify({
    type: FrameType.clientCancel,
    clientId: session.clientId,
    address: session.address,
    runId,
    ts: nowIso(),
  } satisfies FrameInput<typeof ClientCancelToAgentFrame>);
}

/**
 * Cluster: the run → agent records in Redis too, because a run's events pass through the agent's
 * broker and its cancel through the client's (store/redis/run-records-redis.ts).
 */
export interface SharedRunRecords {
  /** A run began (`agent`) or ended (null) for the session. */
  set(clientId: string, runId: string, agent: string | null): void;
  agentOf(clientId: string, runId: string): Promise<string | undefined>;
}

/** Every session's RunAgents, by clientId; a session's runs are forgotten with the session. */
export class SessionRuns {
  private readonly bySession = new Map<string, RunAgents>();

  constructor(private readonly shared?: SharedRunRecords) {}

  /** A `send` / `broadcast` event `data` that agent `name` sent to `clientId`. */
  note(clientId: string, name: string, data: unknown): void {
    // Not a run's event (most frames): nothing to learn or forget, no lookup per recipient.
    if (runIdOf(data) === undefined) return;
    let runs = this.bySession.get(clientId);
    if (!runs) this.bySession.set(clientId, (runs = new RunAgents()));
    const change = runs.note(name, data);
    if (change && this.shared) this.shared.set(clientId, change.runId, change.agent);
  }

  /** The run's agent as this broker saw it, else (cluster) as the agent's broker recorded it. */
  agentOf(clientId: string, runId: string): string | undefined | Promise<string | undefined> {
    const local = this.bySession.get(clientId)?.agentOf(runId);
    if (local !== undefined || !this.shared) return local;
    return this.shared.agentOf(clientId, runId);
  }

  forget(clientId: string): void {
    this.bySession.delete(clientId);
  }
}
