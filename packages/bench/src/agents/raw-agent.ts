/**
 * The raw relay's echo agent: plain `ws`, frames are `<clientId>\n<payload>`; it sends the bytes
 * straight back (no parse), and broadcasts as `*\n<payload>`.
 */
import WebSocket from 'ws';
import { Backoff } from '@agent-bridge/common/protocol';
import { emit, serve } from '../rpc.ts';
import { paced, type BroadcastArgs } from './pacer.ts';

const url = `${process.env.BENCH_BROKER_WS!}/agent`;
const backoff = new Backoff();
let ws: WebSocket | undefined;
let readyOnce = false;

function dial(): void {
  const sock = new WebSocket(url);
  sock.on('open', () => {
    ws = sock;
    backoff.reset();
    if (!readyOnce) emit('ready');
    readyOnce = true;
  });
  sock.on('message', (data: Buffer) => sock.send(data, { binary: false }));
  sock.on('error', () => undefined);
  sock.on('close', () => {
    if (ws === sock) ws = undefined;
    setTimeout(dial, backoff.next());
  });
}
dial();

serve({
  broadcast: (args: BroadcastArgs) => paced(args, (data) => ws?.send(`*\n${JSON.stringify(data)}`)),
}, { keepAlive: true });
