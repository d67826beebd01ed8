/**
 * The chaos run's book-keeping and its verdict (pure logic, no sockets): what each sender sent,
 * what each receiver got, what was refused with which code, and then, per client and per
 * direction, whether every message was delivered exactly once, in order, or refused.
 *
 * Three streams per client:
 * - `c2a`: the client's numbered messages to the agent name (delivered = an agent process handled
 *   it; the time is the agent's receive time, so deliveries to two processes sort correctly);
 * - `reply`: the agent's answer to each of those (expected once per client message that reached
 *   an agent);
 * - `push`: the agent side's own numbered messages to the client.
 *
 * A second delivery to the agent side of the same message is allowed only as §8 says: same
 * bridge id, `redelivered: true`, to another agent process than the one that got it first
 * (which died before its ack). Everything else repeated is a duplicate.
 */

export type Stream = 'c2a' | 'reply' | 'push';
export const STREAMS: readonly Stream[] = ['c2a', 'reply', 'push'];

export interface Delivery {
  n: number;
  /** Epoch ms (fractional) at the receiver. */
  at: number;
  /** The bridge's frame id (client.message id for c2a). */
  id?: string;
  redelivered?: boolean;
  /** Which receiver instance (agent process) got it. */
  via?: string;
}

export interface Anomaly {
  client: number;
  stream: Stream;
  n: number;
  kind: 'lost' | 'duplicate' | 'reordered' | 'refused_but_delivered' | 'unexpected';
  /** When it was sent (epoch ms), if known. */
  sentAt?: number;
  /** Extra facts (e.g. the delivery before it for a reorder). */
  detail?: string;
}

export interface StreamCounts {
  sent: number;
  delivered: number;
  duplicates: number;
  lost: number;
  reordered: number;
  refused: number;
  refusedByCode: Record<string, number>;
  refusedButDelivered: number;
  unexpected: number;
  /** c2a only: §8 redeliveries to another agent process after the first one died unacknowledged. */
  redelivered: number;
}

export interface Verdict {
  ok: boolean;
  totals: Record<Stream, StreamCounts>;
  perClient: Record<number, Record<Stream, StreamCounts>>;
  anomalies: Anomaly[];
}

interface Book {
  sent: Map<number, number>; // n → sentAt
  refused: Map<number, string>; // n → code
  accepted: Set<number>;
  deliveries: Delivery[];
}

const emptyCounts = (): StreamCounts => ({
  sent: 0,
  delivered: 0,
  duplicates: 0,
  lost: 0,
  reordered: 0,
  refused: 0,
  refusedByCode: {},
  refusedButDelivered: 0,
  unexpected: 0,
  redelivered: 0,
});

export class Ledger {
  private books = new Map<string, Book>();
  private clientsSeen = new Set<number>();

  private book(client: number, stream: Stream): Book {
    const key = `${client}/${stream}`;
    let b = this.books.get(key);
    if (!b) {
      b = { sent: new Map(), refused: new Map(), accepted: new Set(), deliveries: [] };
      this.books.set(key, b);
      this.clientsSeen.add(client);
    }
    return b;
  }

  sent(stream: Stream, client: number, n: number, at = Date.now()): void {
    const b = this.book(client, stream);
    if (!b.sent.has(n)) b.sent.set(n, at);
  }

  refused(stream: Stream, client: number, n: number, code: string): void {
    const b = this.book(client, stream);
    if (!b.refused.has(n)) b.refused.set(n, code);
  }

  /** The bridge answered `accepted` to the sender (§8). */
  accepted(stream: Stream, client: number, n: number): void {
    this.book(client, stream).accepted.add(n);
  }

  delivered(stream: Stream, client: number, d: Delivery): void {
    this.book(client, stream).deliveries.push(d);
  }

  isSent(stream: Stream, client: number, n: number): boolean {
    return this.book(client, stream).sent.has(n);
  }

  /** Delivered at least once. */
  isDelivered(stream: Stream, client: number, n: number): boolean {
    return this.book(client, stream).deliveries.some((d) => d.n === n);
  }

  isRefused(stream: Stream, client: number, n: number): boolean {
    return this.book(client, stream).refused.has(n);
  }

  /** Sent, neither delivered nor refused yet (what a drain waits for). */
  outstanding(stream: Stream, client: number): number[] {
    const b = this.book(client, stream);
    const got = new Set(b.deliveries.map((d) => d.n));
    return [...b.sent.keys()].filter((n) => !got.has(n) && !b.refused.has(n));
  }

  totalOutstanding(): number {
    let sum = 0;
    for (const c of this.clientsSeen) for (const s of STREAMS) sum += this.outstanding(s, c).length;
    return sum;
  }

  verdict(): Verdict {
    const totals = { c2a: emptyCounts(), reply: emptyCounts(), push: emptyCounts() } as Record<Stream, StreamCounts>;
    const perClient: Record<number, Record<Stream, StreamCounts>> = {};
    const anomalies: Anomaly[] = [];
    for (const client of [...this.clientsSeen].sort((a, b) => a - b)) {
      perClient[client] = { c2a: emptyCounts(), reply: emptyCounts(), push: emptyCounts() };
      for (const stream of STREAMS) {
        const counts = perClient[client]![stream];
        checkStream(client, stream, this.book(client, stream), counts, anomalies);
        add(totals[stream], counts);
      }
    }
    const bad = (c: StreamCounts) => c.duplicates + c.lost + c.reordered + c.refusedButDelivered + c.unexpected;
    return { ok: STREAMS.every((s) => bad(totals[s]) === 0), totals, perClient, anomalies };
  }
}

function checkStream(client: number, stream: Stream, b: Book, counts: StreamCounts, anomalies: Anomaly[]): void {
  counts.sent = b.sent.size;
  const firsts = new Map<number, Delivery>();
  let maxFirst = 0;
  let prev: Delivery | undefined;
  for (const d of [...b.deliveries].sort((x, y) => x.at - y.at)) {
    const first = firsts.get(d.n);
    if (!first) {
      firsts.set(d.n, d);
      if (!b.sent.has(d.n)) {
        counts.unexpected++;
        anomalies.push({ client, stream, n: d.n, kind: 'unexpected', detail: 'delivered but never sent' });
      }
      if (d.n < maxFirst) {
        counts.reordered++;
        anomalies.push({ client, stream, n: d.n, kind: 'reordered', sentAt: b.sent.get(d.n), detail: `arrived after ${maxFirst} (previous delivery n=${prev?.n})` });
      }
      maxFirst = Math.max(maxFirst, d.n);
    } else if (stream === 'c2a' && d.redelivered === true && d.id !== undefined && d.id === first.id && d.via !== first.via) {
      counts.redelivered++;
    } else {
      counts.duplicates++;
      const why = stream === 'c2a' ? ` (redelivered=${d.redelivered === true}, same id=${d.id === first.id}, first via ${first.via}, again via ${d.via})` : '';
      anomalies.push({ client, stream, n: d.n, kind: 'duplicate', sentAt: b.sent.get(d.n), detail: `delivered again${why}` });
    }
    prev = d;
  }
  counts.delivered = firsts.size;
  for (const [n, code] of b.refused) {
    counts.refused++;
    counts.refusedByCode[code] = (counts.refusedByCode[code] ?? 0) + 1;
    if (firsts.has(n)) {
      counts.refusedButDelivered++;
      const after = b.accepted.has(n) ? ' after it was accepted' : '';
      anomalies.push({ client, stream, n, kind: 'refused_but_delivered', sentAt: b.sent.get(n), detail: `refused with ${code}${after}` });
    }
  }
  for (const [n, sentAt] of b.sent) {
    if (firsts.has(n) || b.refused.has(n)) continue;
    counts.lost++;
    anomalies.push({ client, stream, n, kind: 'lost', sentAt });
  }
}

function add(into: StreamCounts, c: StreamCounts): void {
  into.sent += c.sent;
  into.delivered += c.delivered;
  into.duplicates += c.duplicates;
  into.lost += c.lost;
  into.reordered += c.reordered;
  into.refused += c.refused;
  into.refusedButDelivered += c.refusedButDelivered;
  into.unexpected += c.unexpected;
  into.redelivered += c.redelivered;
  for (const [code, n] of Object.entries(c.refusedByCode)) into.refusedByCode[code] = (into.refusedByCode[code] ?? 0) + n;
}
