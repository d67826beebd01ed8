/**
 * A TCP proxy between two of our processes, so a test can cut live connections (a network
 * failure, not a process exit) or refuse new ones for a while.
 */
import net from 'node:net';

export class TcpProxy {
  private server = net.createServer((c) => this.onConnection(c));
  private pairs = new Set<[net.Socket, net.Socket]>();
  private blocked = false;
  port = 0;

  constructor(private targetPort: number, private targetHost = '127.0.0.1') {}

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  setTarget(port: number): void {
    this.targetPort = port;
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Destroy every live connection (both ends see a drop). */
  cut(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Refuse new connections (they are closed at once) until unblock(). */
  block(): void {
    this.blocked = true;
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private onConnection(client: net.Socket): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
