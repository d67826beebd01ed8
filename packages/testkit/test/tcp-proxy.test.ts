import net from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { TcpProxy } from '../src/index.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function echoServer(): Promise<number> {
  const srv = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise((r) => srv.close(() => r())));
  return (srv.address() as net.AddressInfo).port;
}

function roundTrip(port: number): Promise<{ sock: net.Socket; data: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write('ping'));
    sock.once('data', (d) => resolve({ sock, data: d.toString() }));
    sock.once('error', reject);
  });
}

test('forwards bytes, cut() drops live connections, block() refuses new ones', async () => {
  const proxy = new TcpProxy(await echoServer());
  await proxy.listen();
  cleanup.push(() => proxy.close());
  const { sock, data } = await roundTrip(proxy.port);
  expect(data).toBe('ping');
  expect(proxy.connections).toBe(1);
  const closed = new Promise((r) => sock.once('close', r));
  proxy.cut();
  await closed;
  proxy.block();
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(proxy.port, '127.0.0.1', () => s.write('x'));
    s.once('data', () => resolve(false));
    s.once('close', () => resolve(true));
    s.once('error', () => resolve(true));
  });
  expect(refused).toBe(true);
  proxy.unblock();
  const again = await roundTrip(proxy.port);
  expect(again.data).toBe('ping');
  again.sock.destroy();
});
