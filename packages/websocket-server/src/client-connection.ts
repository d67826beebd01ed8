/**
 * One socket of a client session (the web server's upstream for one browser). Owns the socket's
 * mailbox; everything that must outlive the socket is in the stores (session record, log, bucket).
 */
import type WebSocket from 'ws';
import { Mailbox, type MailboxOptions, type OutItem, type DropReport } from './mailbox.ts';

export interface ClientConnectionHooks {
  /** A direct or system frame did not fit: close 1013, keep the session. */
  onOverflow(conn: ClientConnection): void;
  onSent(item: OutItem, text: string): void;
  onDrop(): void;
  onDropReport(conn: ClientConnection, report: DropReport): void;
}

export class ClientConnection {
  readonly mailbox: Mailbox;
  /** No longer the session's socket (replaced, closed or cut): ignore what it still sends. */
  detached = false;

  constructor(
    readonly ws: WebSocket,
    readonly clientId: string,
    mailboxOpts: MailboxOptions,
    private readonly hooks: ClientConnectionHooks,
  ) {
    this.mailbox = new Mailbox(ws, mailboxOpts, {
      onSent: (item, text) => hooks.onSent(item, text),
      onDrop: () => hooks.onDrop(),
      onDropReport: (report) => hooks.onDropReport(this, report),
    });
  }

  push(item: OutItem): void {
    if (this.detached) return;
    if (!this.mailbox.push(item)) this.hooks.onOverflow(this);
  }
}
