/**
 * MAX_SESSIONS and MAX_SESSIONS_PER_IP (issue 9): how many sessions the broker keeps, in total and
 * per browser IP. A session counts from its creation until it expires (connected or resumable:
 * both hold memory). The IP is what the web server reports in X-Client-Ip with its PROXY_TOKEN;
 * a session created without that header is counted in the total only. Only a *new* session is
 * ever refused: resuming or replacing the socket of a known one is always allowed.
 */
export type QuotaRefusal = 'sessions' | 'sessions_per_ip';

export class SessionQuota {
  private readonly perIp = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxSessions: number,
    private readonly maxPerIp: number,
  ) {}

  /** Why a new session from `ip` would be refused, or undefined when it may be created. */
  refusal(ip: string | undefined): QuotaRefusal | undefined {
    if (this.total >= this.maxSessions) return 'sessions';
    if (ip !== undefined && (this.perIp.get(ip) ?? 0) >= this.maxPerIp) return 'sessions_per_ip';
    return undefined;
  }

  opened(ip: string | undefined): void {
    this.total++;
    if (ip !== undefined) this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
  }

  closed(ip: string | undefined): void {
    this.total--;
    if (ip === undefined) return;
    const n = (this.perIp.get(ip) ?? 0) - 1;
    if (n > 0) this.perIp.set(ip, n);
    else this.perIp.delete(ip);
  }
}
