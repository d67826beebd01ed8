/**
 * Raw relay, web-server side: `GET /ws/:clientId` opens one upstream socket per client to the raw
 * broker (as our web server does) and pipes frames both ways untouched. The upstream is dialed
 * before the browser's upgrade completes, so an open client socket means an end-to-end path.
 */
import http from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';

const port = Number(process.env.BENCH_PORT);
const upstreamBase = process.env.BENCH_UPSTREAM!;
const server = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ noServer: true, maxPayload: 65536 });

server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => undefined);
  const m = /^\/ws\/([^/?]+)/.exec(req.url ?? '');
  if (!m) return socket.destroy();
  const upstream = new WebSocket(`${upstreamBase}/client/${m[1]}`);
  upstream.on('error', () => undefined);
  upstream.once('close', () => {
    if (upstream.readyState !== WebSocket.CLOSED) return;
    if (!socket.destroyed && !(socket as { upgraded?: boolean }).upgraded) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
    }
  });
  upstream.once('open', () => {
    (socket as { upgraded?: boolean }).upgraded = true;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      ws.on('message', (data: Buffer, isBinary) => upstream.send(data, { binary: isBinary }));
      upstream.on('message', (data: Buffer, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('close', () => upstream.close());
      upstream.on('close', () => ws.close(1001));
    });
  });
});
server.listen(port, '127.0.0.1', () => console.log(`raw proxy listening on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => process.exit(0));
