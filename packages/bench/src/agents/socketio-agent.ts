/**
 * The Socket.IO comparator's agent: a socket.io-client in the `agents` room; echoes
 * `client.message` back as `reply`, broadcasts with `broadcast`.
 */
import { io } from 'socket.io-client';
import { emit, serve } from '../rpc.ts';
import { paced, type BroadcastArgs } from './pacer.ts';
import { agUiSink, Streamer } from './streamer.ts';

const socket = io(process.env.BENCH_BROKER_WS!.replace(/^ws/, 'http'), {
  transports: ['websocket'],
  auth: { role: 'agent', token: process.env.BENCH_AGENT_TOKEN ?? 'dev_token' },
  // The same redial policy as ours: 1 s doubling to 60 s, ±20 %.
  reconnectionDelay: 1000,
  reconnectionDelayMax: 60_000,
  randomizationFactor: 0.2,
});
let readyOnce = false;
socket.on('connect', () => {
  if (!readyOnce) emit('ready');
  readyOnce = true;
});
const streamer = new Streamer();
socket.on('client.message', (clientId: string, data: unknown) => {
  const req = Streamer.request(data);
  if (!req) return socket.emit('reply', clientId, data);
  // The same AG-UI events as the SDK sends, one emit per token (unbatched, see streamer.ts).
  streamer.start(req, agUiSink((event) => socket.emit('reply', clientId, event)));
});

serve({
  broadcast: (args: BroadcastArgs) => paced(args, (data) => socket.emit('broadcast', data)),
  streamEmissions: () => streamer.take(),
}, { keepAlive: true });
