/** Header and path names of the bridge's own hops, shared by broker, web server and SDK. */
export const Header = {
  agentName: 'x-agent-name',
  /** web server → broker: the wallet address the session token carries, if any. */
  clientAddress: 'x-client-address',
  /**
   * web server → broker: the browser's IP address as the web server sees it (after TRUST_PROXY),
   * so the broker can bound sessions per IP. Trusted only with the PROXY_TOKEN.
   */
  clientIp: 'x-client-ip',
  /** agent → broker (§8): `1` opts this connection in to acknowledging each client.message. */
  agentAcks: 'x-agent-acks',
  /**
   * agent → broker (§8, our extension): `inline` (ACCEPTED_INLINE), or `?accepted=inline`, has the
   * `accepted` answers to this connection's sends ride on its next frame, as for a client socket.
   */
  agentAccepted: 'x-agent-accepted',
} as const;

/** §8: the query form of Header.agentAcks (`?acks=1`), and the value that opts in. */
export const AGENT_ACKS_QUERY = 'acks';
export const AGENT_ACKS_ON = '1';

/**
 * §8, our extension: a client socket opened with `?accepted=inline` (browser → web server, passed
 * on to the broker), or an agent socket opened with it (or `X-Agent-Accepted: inline`), gets the
 * `accepted` of its messages carried by the next frame the bridge writes to it, as that frame's
 * last member `"accepted":["<id>",…]` (`ACCEPTED_FIELD`), instead of one `accepted` frame per
 * message: an echo's round trip then carries no frame of its own for it (issue 12 item 5).
 * Nothing follows within the hold (docs/protocol.md): plain `accepted` frames.
 */
export const ACCEPTED_QUERY = 'accepted';
export const ACCEPTED_INLINE = 'inline';
export const ACCEPTED_FIELD = 'accepted';

/** A wallet address as the bridge accepts it (X-Client-Address, identity hop, sign-in): 0x + 40 hex. */
export const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

export const BrokerPath = {
  agent: '/ws/agent',
  client: '/ws/client/', // + clientId
  /** web server → broker (PROXY_TOKEN): set or clear a live session's wallet address. */
  identity: (clientId: string) => `/internal/clients/${encodeURIComponent(clientId)}/identity`,
  healthz: '/healthz',
  /** PROTOCOL §11: 200 when the process can serve, else 503 with reasons. */
  readyz: '/readyz',
  metrics: '/metrics',
} as const;

export const DEFAULT_AGENT = 'default';

/** `{"error":{"code","message"}}` — every HTTP error body. */
export interface HttpErrorBody {
  error: { code: string; message: string };
}
export function httpError(code: string, message: string): HttpErrorBody {
  return { error: { code, message } };
}
