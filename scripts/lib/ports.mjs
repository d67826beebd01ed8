// Before starting anything: are the ports free? A busy port would otherwise show as EADDRINUSE
// from a service while the rest (a demo agent included) happily joins whatever holds the port.
import net from 'node:net';
import { setting, splitAddr } from './settings.mjs';

/** Which bind address setting each service uses. */
export const ADDR_SETTING = { broker: 'WEBSOCKET_SERVER_ADDR', web: 'WEB_SERVER_ADDR' };

function isFree(host, port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (err) => resolve(err.code !== 'EADDRINUSE'));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * One line naming every busy port and the setting to change, or undefined when all are free.
 * Port 0 ("any free port") is never busy.
 */
export async function busyPortsLine(services, command) {
  const addrs = services.filter((svc) => ADDR_SETTING[svc]).map((svc) => [ADDR_SETTING[svc], setting(ADDR_SETTING[svc])]);
  return busyAddrsLine(addrs, command, 10);
}

/**
 * The same for explicit `[setting name, HOST:PORT]` pairs (scripts/cluster.mjs: four addresses);
 * the suggested fix moves each busy port on by `step`.
 */
export async function busyAddrsLine(addrs, command, step) {
  const busy = [];
  for (const [name, value] of addrs) {
    const { host, port } = splitAddr(value);
    if (!Number.isInteger(port) || port === 0) continue;
    if (!(await isFree(host, port))) busy.push({ name, value, host, port });
  }
  if (busy.length === 0) return undefined;
  const ports = busy.map((b) => `${b.port} (${b.name}=${b.value})`).join(' and ');
  const are = busy.length > 1 ? 'ports' : 'port';
  const is = busy.length > 1 ? 'are' : 'is';
  const fix = busy.map((b) => `${b.name}=${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port + step}`).join(' ');
  return `${command}: ${are} ${ports} ${is} already in use, probably by another Agent Bridge; stop it, or choose another port: ${fix} ${command}`;
}
