/**
 * The cluster bus on Redis pub/sub (PROTOCOL §10): one channel all brokers listen to (lifecycle
 * events, identity changes, agents coming and going, errors for sockets anywhere) and one per
 * broker (client messages for its agent connections, kicks, and the frame notifications the log's
 * append script publishes). Pub/sub is at-most-once: what must not be lost is in the stores, and
 * the bus only says where to look (seq-gate.ts repairs a missed frame from the log).
 *
 * Wire format: `J` + the message as JSON; `D<ts>\n<clientId>\n<kind>\n<type>\n<seq>\n<frame>` for a
 * frame notification (written by the append script, so the frame text is never re-encoded).
 */
import type { RedisLink } from '@agent-bridge/common/redis';
import type { FrameKind } from '../../mailbox.ts';
import type { BusMessage, ClusterBus } from '../cluster-bus.ts';
import type { Keys } from './keys.ts';

export function decodeBusMessage(raw: string, onLag?: (ms: number) => void): BusMessage | undefined {
  if (raw.startsWith('J')) return JSON.parse(raw.slice(1)) as BusMessage;
  if (!raw.startsWith('D')) return undefined;
  const parts: string[] = [];
  let from = 1;
  for (let i = 0; i < 5; i++) {
    const nl = raw.indexOf('\n', from);
    if (nl < 0) return undefined;
    parts.push(raw.slice(from, nl));
    from = nl + 1;
  }
  const [ts, clientId, kind, type, seq] = parts as [string, string, string, string, string];
  onLag?.(Date.now() - Number(ts));
  return { kind: 'deliver', clientId, frameKind: kind as FrameKind, frame: { seq: Number(seq), type, payload: raw.slice(from) } };
}

export class RedisClusterBus implements ClusterBus {
  private readonly handlers = new Set<(message: BusMessage) => void>();

  constructor(
    private readonly pub: RedisLink,
    private readonly sub: RedisLink,
    private readonly keys: Keys,
    private readonly nodeId: string,
    private readonly onError: (err: unknown) => void,
    /** publish → receipt of frames crossing brokers (agent_bridge_cross_broker_lag_seconds). */
    private readonly onLag?: (ms: number) => void,
  ) {}

  private subscribed = false;
  private readonly resubscribed: (() => void)[] = [];

  /**
   * Subscribe now, or as soon as Redis answers. node-redis subscribes again by itself after a
   * reconnect; whatever was published meanwhile is lost to us, so listeners of `onResubscribed`
   * re-read what they hold from the log.
   */
  async start(): Promise<void> {
    this.sub.whenUp(() => {
      if (!this.subscribed) void this.trySubscribe().catch(this.onError);
      else for (const l of this.resubscribed) l();
    });
    await this.trySubscribe();
  }

  onResubscribed(listener: () => void): void {
    this.resubscribed.push(listener);
  }

  private async trySubscribe(): Promise<void> {
    if (this.subscribed) return;
    const listener = (raw: string) => this.receive(raw);
    await this.sub.client.subscribe([this.keys.busAll, this.keys.busNode(this.nodeId)], listener);
    this.subscribed = true;
  }

  /** How many brokers received it (PUBLISH's answer). */
  publish(message: BusMessage): Promise<number> {
    const node = 'node' in message ? message.node : undefined;
    const channel = node !== undefined ? this.keys.busNode(node) : this.keys.busAll;
    return this.pub.cmd<number>(['PUBLISH', channel, `J${JSON.stringify(message)}`]);
  }

  subscribe(handler: (message: BusMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  private receive(raw: string): void {
    let message: BusMessage | undefined;
    try {
      message = decodeBusMessage(raw, this.onLag);
    } catch (err) {
      return this.onError(err);
    }
    if (!message) return;
    for (const h of this.handlers) {
      try {
        h(message);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
