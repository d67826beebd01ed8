/** Open connections per address (CONNECTIONS_PER_IP); an entry goes when its count reaches 0. */
export class IpCounter {
  private readonly counts = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Count one more for `ip`; false (nothing counted) when it already has `limit`. */
  acquire(ip: string): boolean {
    const n = this.counts.get(ip) ?? 0;
    if (n >= this.limit) return false;
    this.counts.set(ip, n + 1);
    return true;
  }

  /** Would acquire(ip) succeed? */
  hasRoom(ip: string): boolean {
    return (this.counts.get(ip) ?? 0) < this.limit;
  }

  release(ip: string): void {
    const n = (this.counts.get(ip) ?? 0) - 1;
    if (n <= 0) this.counts.delete(ip);
    else this.counts.set(ip, n);
  }

  count(ip: string): number {
    return this.counts.get(ip) ?? 0;
  }
}
