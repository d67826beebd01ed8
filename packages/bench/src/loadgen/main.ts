/**
 * The load generator process: holds every client of one target and runs the scenario steps the
 * harness asks for over IPC. Its own child process, so its CPU is measured apart.
 */
import { emit, serve } from '../rpc.ts';
import type { ClientFactory } from './client.ts';
import { Pool } from './pool.ts';
import type { StreamStartArgs } from './streams.ts';
import { ProjectClient } from './project-client.ts';
import { RawClient } from './raw-client.ts';
import { SocketIoClient } from './socketio-client.ts';

// Cluster targets list several web servers: client i goes to the (i mod n)-th, as a load balancer spreads them.
const urls = process.env.BENCH_URL!.split(',');
const url = urls[0]!;
const spread = (i: number) => urls[i % urls.length]!;
const factories: Record<string, ClientFactory> = {
  'agent-bridge': (i, h) => new ProjectClient(i, h, url),
  'agent-bridge-bare': (i, h) => new ProjectClient(i, h, url),
  // §8 off: messages without ids, as a v1 client sends them.
  'agent-bridge-noacks': (i, h) => new ProjectClient(i, h, url, false),
  'agent-bridge-cluster': (i, h) => new ProjectClient(i, h, spread(i)),
  'agent-bridge-cluster-noacks': (i, h) => new ProjectClient(i, h, spread(i), false),
  'raw-relay': (i, h) => new RawClient(i, h, url),
  'socket.io': (i, h) => new SocketIoClient(i, h, url),
};
const factory = factories[process.env.BENCH_TARGET!];
if (!factory) throw new Error(`unknown BENCH_TARGET ${process.env.BENCH_TARGET}`);
const pool = new Pool(factory);

serve({
  connect: (a: { n: number; concurrency: number; deadlineMs: number }) => pool.connect(a.n, a.concurrency, a.deadlineMs),
  closeAll: () => pool.closeAll(),
  count: () => pool.clients.length,
  mark: () => pool.mark(),
  echoStart: (a: { clients: number; window: number; padding: number }) => pool.echoStart(a.clients, a.window, a.padding),
  echoStop: (a: { drainMs: number }) => pool.echoStop(a.drainMs),
  broadcastCounts: () => pool.broadcastCounts(),
  stormArm: () => pool.stormArm(),
  stormProbe: () => pool.stormProbe(),
  stormStatus: (a: { t0Us: number }) => pool.stormStatus(a.t0Us),
  streamStart: (a: StreamStartArgs) => pool.streams.start(pool.clients, a),
  streamStatus: () => pool.streams.status(),
  streamResults: () => pool.streams.results(),
}, { keepAlive: true });
emit('ready');
