import { BrokerPath } from '@agent-bridge/common/protocol';
import { AgentSdkError } from './errors.ts';

/**
 * The broker base URL → the agent endpoint. `ws://host:8080` and `ws://host:8080/` become
 * `ws://host:8080/ws/agent`; a URL already ending in `/ws/agent` is kept. `http(s)` is accepted
 * and mapped to `ws(s)` because people paste the broker's /healthz origin.
 */
export function agentEndpoint(base: string): string {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new AgentSdkError('invalid_option', `url is not a valid URL: ${JSON.stringify(base).slice(0, 200)}`);
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new AgentSdkError('invalid_option', `url must be ws://, wss://, http:// or https:// (got ${u.protocol})`);
  }
  const path = u.pathname.replace(/\/+$/, '');
  if (!path.endsWith(BrokerPath.agent)) u.pathname = path + BrokerPath.agent;
  return u.toString();
}
