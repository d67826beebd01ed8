/**
 * One socket of a client session (the web server's upstream for one browser). Owns the socket's
 * mailbox; everything that must outlive the socket is in the stores (session record, log, bucket).
 */
import type WebSocket from 'ws';
import { Mailbox, type MailboxOptions, type OutItem, type DropReport } from './mailbox.ts';
import { SeqGate } from './seq-gate.ts';
import type { LoggedFrame } from './store/session-log.ts';

export interface ClientConnectionHooks {
  /** A direct or system frame did not fit: close 1013, keep the session. */
  onOverflow(conn: ClientConnection): void;
  onSent(item: OutItem, text: string, carried?: number): void;
  onDrop(): void;
  onDropReport(conn: ClientConnection, report: DropReport): void;
  /** The session's frames after `seq`, from its log (a gap the gate could not fill by waiting). */
  readAfter(clientId: string, seq: number): Promise<LoggedFrame[] | undefined>;
  /** Frames the socket needs are gone: close it (1013), the session stays for its resume. */
  onHole(conn: ClientConnection): void;
  onError(err: unknown): void;
}

export class ClientConnection {
  readonly mailbox: Mailbox;
  /** Seq'd frames reach the mailbox through here: in order, each once (seq-gate.ts). */
  readonly gate: SeqGate;
  /**
   * Cluster: frames read while earlier ones are being routed; routed together next, in order
   * (router.ts). Bounded by what the web server may send: CLIENT_RATE_BURST frames get tokens,
   * and the socket's reads pause with the event loop like any other.
   */
  readonly inbox: { text: string; receivedAt: number }[] = [];
  /** Cluster: a batch of this socket's frames is being routed. */
  routing = false;
  /** No longer the session's socket (replaced, closed or cut): ignore what it still sends. */
  detached = false;

  constructor(
    readonly ws: WebSocket,
    readonly clientId: string,
    mailboxOpts: MailboxOptions,
    private readonly hooks: ClientConnectionHooks,
  ) {
    this.mailbox = new Mailbox(ws, mailboxOpts, {
      onSent: (item, text, carried) => hooks.onSent(item, text, carried),
      onDrop: () => hooks.onDrop(),
      onDropReport: (report) => hooks.onDropReport(this, report),
    });
    this.gate = new SeqGate({
      emit: (item) => this.push(item),
      readAfter: (seq) => hooks.readAfter(clientId, seq),
      onError: (err) => hooks.onError(err),
      onHole: () => hooks.onHole(this),
    });
  }

  /** A seq'd frame of the session (delivered now, or held until the gap before it fills). */
  deliver(item: OutItem): void {
    if (!this.detached) this.gate.push(item);
  }

  push(item: OutItem): void {
    if (this.detached) return;
    if (!this.mailbox.push(item)) this.hooks.onOverflow(this);
  }
}
