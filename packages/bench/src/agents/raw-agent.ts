/**
 * The raw relay's echo agent: plain `ws`, frames are `<clientId>\n<payload>`; it sends the bytes
 * straight back (no parse), and broadcasts as `*\n<payload>`. A `{"stream":…}` request gets a
 * reply of AG-UI events, one frame per token (unbatched, see streamer.ts).
 */
import WebSocket from 'ws';
import { Backoff } from '@agent-bridge/common/protocol';
import { emit, serve } from '../rpc.ts';
import { paced, type BroadcastArgs } from './pacer.ts';
import { agUiSink, Streamer, type StreamRequest } from './streamer.ts';

const url = `${process.env.BENCH_BROKER_WS!}/agent`;
const backoff = new Backoff();
let ws: WebSocket | undefined;
let readyOnce = false;
const streamer = new Streamer();
const NL = 0x0a;
const STREAM = Buffer.from('{"stream"');

/** Echo the bytes back unparsed, unless it is a `{"stream":…}` request (parsed only then). */
function onMessage(sock: WebSocket, data: Buffer): void {
  const i = data.indexOf(NL);
  const isStream = i >= 0 && data.length >= i + 1 + STREAM.length && data.compare(STREAM, 0, STREAM.length, i + 1, i + 1 + STREAM.length) === 0;
  let req: StreamRequest | undefined;
  try {
    req = isStream ? Streamer.request(JSON.parse(data.toString('utf8', i + 1))) : undefined;
  } catch {
    req = undefined;
  }
  if (!req) return sock.send(data, { binary: false });
  const prefix = data.toString('latin1', 0, i + 1);
  streamer.start(req, agUiSink((event) => ws?.send(`${prefix}${JSON.stringify(event)}`)));
}

function dial(): void {
  const sock = new WebSocket(url);
  sock.on('open', () => {
    ws = sock;
    backoff.reset();
    if (!readyOnce) emit('ready');
    readyOnce = true;
  });
  sock.on('message', (data: Buffer) => onMessage(sock, data));
  sock.on('error', () => undefined);
  sock.on('close', () => {
    if (ws === sock) ws = undefined;
    setTimeout(dial, backoff.next());
  });
}
dial();

serve({
  broadcast: (args: BroadcastArgs) => paced(args, (data) => ws?.send(`*\n${JSON.stringify(data)}`)),
  streamEmissions: () => streamer.take(),
}, { keepAlive: true });
