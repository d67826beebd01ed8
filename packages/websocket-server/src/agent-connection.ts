/**
 * One agent socket. Several may share a name (a pool). Client messages handed to it carry their
 * WaitEntry so that, if the socket overflows or goes, the undelivered ones can be put back.
 */
import type WebSocket from 'ws';
import { FrameType } from '@agent-bridge/common';
import { Mailbox, type MailboxOptions, type OutItem } from './mailbox.ts';
import type { WaitEntry } from './agent-wait-queue.ts';
import { InOrder } from './in-order.ts';

export interface AgentConnectionHooks {
  /** A frame did not fit: close 1013 and put the undelivered client messages back. */
  onOverflow(conn: AgentConnection): void;
  /** `carried`: bytes of `accepted`s riding on the frame (accepted=inline) beyond its own. */
  onSent(item: OutItem<WaitEntry>, text: string, carried?: number): void;
}

/** Frames that answer an agent's own frames. */
const ANSWERS = new Set<string>([FrameType.accepted, FrameType.error]);

export class AgentConnection {
  readonly mailbox: Mailbox<WaitEntry>;
  detached = false;
  /** §8: this connection opted in to acknowledging client messages (X-Agent-Acks: 1). */
  acks = false;
  /** Cluster: frames whose effect waits for a shared store's answer take it in arrival order. */
  readonly order = new InOrder();
  /** Client messages that came before the welcome was queued (a shared directory shows the connection first). */
  private early: [WaitEntry, boolean][] | undefined = [];
  /** The frame that did not fit when the mailbox overflowed. */
  private overflowed: OutItem<WaitEntry> | undefined;
  /** Bytes of answers to this connection's own frames (`accepted`, `error`) not yet written. */
  private answerBytes = 0;

  constructor(
    readonly ws: WebSocket,
    readonly name: string,
    readonly agentId: string,
    mailboxOpts: MailboxOptions,
    private readonly hooks: AgentConnectionHooks,
  ) {
    this.answerLimit = mailboxOpts.socketBufferBytes;
    this.mailbox = new Mailbox<WaitEntry>(ws, mailboxOpts, {
      onSent: (item, text, carried) => {
        // The answer's own bytes: an `error` may carry `accepted`s (accepted=inline), counted by onCarried.
        if (item.unbounded && ANSWERS.has(item.type)) this.answerBytes -= (item.payload ?? text).length;
        hooks.onSent(item, text, carried);
      },
      // Answers that rode on a frame (accepted=inline) left with it: they wait no more.
      onCarried: (riders) => {
        for (const r of riders) if (r.unbounded && ANSWERS.has(r.type)) this.answerBytes -= r.payload!.length;
      },
    });
  }

  /** At most this many bytes of answers wait (SOCKET_BUFFER_BYTES): beyond, the agent is a slow consumer. */
  private readonly answerLimit: number;

  /** The welcome is queued: client messages that came meanwhile follow it, in order. */
  open(): void {
    const early = this.early ?? [];
    this.early = undefined;
    for (const [e, again] of early) this.sendClientMessage(e, again);
  }

  /**
   * `unbounded`: not counted against MAILBOX_LIMIT (the welcome's client list pages). Nor are the
   * answers to the agent's own frames (`accepted`, `error`): an agent that answers each of a burst
   * of messages as it reads them (a reconnect storm's queue, thousands of clients at once) gets
   * one per answer queued behind the rest of the burst, and counting them cut it with 1013 and
   * sent the burst round again. They are bounded by bytes instead: SOCKET_BUFFER_BYTES of them.
   */
  send(type: string, payload: string, unbounded = false, ref?: string): void {
    if (!unbounded && ANSWERS.has(type)) {
      if (this.answerBytes + payload.length > this.answerLimit) {
        this.push({ payload, kind: 'system', type });
        return;
      }
      this.answerBytes += payload.length;
      // An `accepted` waits (≤ LAZY_HOLD_MS) for the connection's next frame and shares its write:
      // a busy agent gets a client.message every few ms, and an `accepted` written on its own
      // woke the agent for nothing but that — under load, a read and a smaller batch of replies
      // each time (docs/performance.md, "accepted to agents").
      // `ref`: a socket opened with accepted=inline carries it as a member of that frame (mailbox.ts).
      this.push({ payload, kind: 'system', type, unbounded: true, lazy: type === FrameType.accepted, ref });
      return;
    }
    this.push({ payload, kind: 'system', type, unbounded });
  }

  /**
   * `again`: a message routed a second time (drained from its queue, put back, redelivered): it
   * does not count against MAILBOX_LIMIT — those are bounded by AGENT_QUEUE_LIMIT already, and
   * counting them cut an agent that came back to thousands of waiting messages with 1013, whose
   * redelivery then cut it again (the reconnect storm, docs/performance.md).
   */
  sendClientMessage(entry: WaitEntry, again = false): void {
    if (this.early) {
      this.early.push([entry, again]);
      return;
    }
    this.push({ payload: entry.payload, kind: 'direct', type: entry.type ?? FrameType.clientMessage, meta: entry, unbounded: again });
  }


  /** Stop the mailbox; the client messages never handed to the socket, oldest first. */
  takeUndelivered(): WaitEntry[] {
    const early = this.early ?? [];
    this.early = undefined;
    const rest = this.mailbox.close();
    if (this.overflowed) rest.push(this.overflowed);
    this.overflowed = undefined;
    return [...rest.flatMap((i) => (i.meta ? [i.meta] : [])), ...early.map(([e]) => e)];
  }

  private push(item: OutItem<WaitEntry>): void {
    if (this.detached) return;
    if (!this.mailbox.push(item)) {
      this.overflowed = item;
      this.hooks.onOverflow(this);
    }
  }
}
