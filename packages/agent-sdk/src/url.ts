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

/**
 * One or several brokers (PROTOCOL §10): an array of base URLs, or one string with several
 * comma-separated, each mapped by agentEndpoint. Duplicates are dropped; at least one is required.
 */
export function agentEndpoints(urls: string | readonly string[]): string[] {
  const list = typeof urls === 'string' ? urls.split(',') : Array.isArray(urls) ? urls : undefined;
  if (list === undefined) throw new AgentSdkError('invalid_option', 'url must be a string or an array of strings');
  const out: string[] = [];
  for (const raw of list) {
    if (typeof raw !== 'string') throw new AgentSdkError('invalid_option', 'every url must be a string');
    const trimmed = raw.trim();
    if (trimmed === '') continue;
    const endpoint = agentEndpoint(trimmed);
    if (!out.includes(endpoint)) out.push(endpoint);
  }
  if (out.length === 0) throw new AgentSdkError('invalid_option', 'url is required (the broker URL, or several)');
  return out;
}
