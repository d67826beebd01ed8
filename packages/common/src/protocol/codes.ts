/**
 * Every protocol constant lives here, once. Servers, SDKs, tests and the docs test import
 * these tables; nothing else spells a code as a string literal.
 */

/** Error codes carried by `error` frames and HTTP error bodies (PROTOCOL §3). */
export const ErrorCode = {
  invalid_json: 'the frame is not a single JSON object',
  invalid_message: 'the frame failed validation (unknown type, missing or wrong field)',
  payload_too_large: 'a frame or body that would have to be forwarded is over a size limit',
  rate_limited: 'too many frames or requests; slow down',
  agent_unavailable: 'no agent of the requested name took the message within the wait bound',
  unknown_client: 'a send named clients whose sessions are not known (listed in clientIds)',
  unauthorized: 'missing, invalid or expired credentials',
  internal: 'an unexpected error inside the bridge',
  over_capacity: 'a global budget of the bridge is full (memory, sessions, sockets); retry later (HTTP 503, close 1013)',
  unavailable: 'cluster mode: the shared store (Redis) cannot be reached, so the frame was not stored (HTTP 503 for upgrades); resend later',
} as const;
export type ErrorCode = keyof typeof ErrorCode;
export const ERROR_CODES = Object.keys(ErrorCode) as ErrorCode[];

/**
 * Codes that appear only in HTTP error bodies, in addition to ErrorCode (which HTTP uses too:
 * `unauthorized`, `rate_limited`, `payload_too_large`, `internal`). Sign-in codes (`siwe_*`)
 * are added here by the SIWE module.
 */
export const HttpErrorCode = {
  bad_request: 'the request is malformed (query, headers or JSON body)',
  forbidden: 'the request is understood but not allowed (e.g. a WebSocket Origin not allowed)',
  not_found: 'no such resource',
  method_not_allowed: 'the path exists but not for this method',
  upgrade_required: 'this path only accepts WebSocket upgrades',
  unknown_client: 'no live or resumable session has that clientId',
  broker_unavailable: 'the web server cannot reach the broker right now',
  unsupported_media_type: 'a POST body that is not application/json (415)',
  // Sign-In With Ethereum (/auth/*): 400 for input that is not a sign-in request at all,
  // 401 for a well-formed one that fails a check.
  siwe_invalid_address: 'challenge: the address is not a valid Ethereum address (400)',
  siwe_chain_not_allowed: 'challenge: the chain id is not in SIWE_CHAIN_IDS (400)',
  siwe_invalid_message: 'verify: the message is not a canonical EIP-4361 message (400)',
  siwe_invalid_signature: 'verify: the signature is malformed or not made by the message address (401)',
  siwe_domain_mismatch: 'verify: the message domain or scheme is not PUBLIC_ORIGIN (401)',
  siwe_uri_mismatch: 'verify: the message URI is not PUBLIC_ORIGIN (401)',
  siwe_chain_mismatch: 'verify: the message chain id is not in SIWE_CHAIN_IDS (401)',
  siwe_nonce_unknown: 'verify: the nonce was not issued by this server (401)',
  siwe_nonce_used: 'verify: the nonce was already used (401)',
  siwe_expired: 'verify: the message or its challenge has expired (401)',
  siwe_not_yet_valid: 'verify: the message not-before time is in the future (401)',
  siwe_issued_in_future: 'verify: the message issued-at time is in the future (401)',
  siwe_message_mismatch: 'verify: the message is not exactly the one issued with its nonce (401)',
} as const;
export type HttpErrorCode = keyof typeof HttpErrorCode | ErrorCode;

/** WebSocket close codes (PROTOCOL §3). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  serviceRestart: 1012,
  slowConsumer: 1013,
  replaced: 4500,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What each close code means to the peer, and whether it should redial. */
export const CloseCodeInfo: Record<CloseCode, { meaning: string; reconnect: boolean }> = {
  1000: { meaning: 'normal closure', reconnect: false },
  1001: { meaning: 'server shutting down', reconnect: true },
  1008: { meaning: 'policy violation (abuse)', reconnect: false },
  1009: { meaning: 'frame too big', reconnect: false },
  1011: { meaning: 'internal error', reconnect: true },
  1012: { meaning: 'service restart: the cluster lost its state (new epoch); redial', reconnect: true },
  1013: { meaning: 'slow consumer: reconnect and resume', reconnect: true },
  4500: { meaning: 'replaced: a newer connection took over this clientId', reconnect: false },
};

/**
 * Range rule: 4000–4499 mean "reconnect", 4500–4999 mean "do not reconnect automatically"
 * (two tabs of one session would otherwise take turns for ever).
 */
export function shouldReconnect(code: number): boolean {
  if (code >= 4500 && code <= 4999) return false;
  if (code >= 4000 && code <= 4499) return true;
  const info = CloseCodeInfo[code as CloseCode];
  if (info) return info.reconnect;
  // 1006 (dropped), 1012 (restart), 1014 and unknown codes: a network problem, redial.
  return code !== 1008 && code !== 1009 && code !== 1000;
}

/** Close reasons are at most 123 bytes (RFC 6455 control frame limit). */
export function closeReason(text: string): string {
  const buf = new TextEncoder().encode(text);
  if (buf.length <= 123) return text;
  let end = 123;
  // Do not cut a multi-byte character in half.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(buf.subarray(0, end));
}

/** `system` frame events. */
export const SystemEvent = {
  'agent.connected': 'to clients: the first connection of an agent name arrived',
  'agent.disconnected': 'to clients: the last connection of an agent name went',
  'client.connected': 'to agents: a client socket arrived (resumed tells whether its session went on)',
  'client.disconnected': 'to agents: a client socket went (resumable tells whether its session is kept)',
  'client.expired': 'to agents: a client session ended for good',
  'client.authenticated': 'to agents: a client proved a wallet address (address)',
  'client.signed_out': 'to agents: a client signed out; its session goes on anonymously',
  'bridge.reconnecting': "to clients, from the web server: its link to the broker is down (retryInMs)",
  'bridge.reconnected': 'to clients, from the web server: its link to the broker is back (epoch, resumed, lastSeq)',
  'messages.dropped': 'to clients: broadcast frames were dropped for a slow consumer (count, fromSeq, toSeq)',
} as const;
export type SystemEvent = keyof typeof SystemEvent;

/** Frame `type` values, per direction. */
export const FrameType = {
  // client → bridge
  message: 'message',
  ack: 'ack',
  /** Stop a run (§9): `{type,runId,agent?,id?}`; a disconnect never cancels. */
  cancel: 'cancel',
  // bridge → client / agent
  /** §8: a frame with an `id` is stored for delivery: `{type,ref}`; no seq, never replayed. */
  accepted: 'accepted',
  welcome: 'welcome',
  system: 'system',
  error: 'error',
  // bridge → agent
  clientMessage: 'client.message',
  /** A client's `cancel`, to the connection pinned for it: `{type,clientId,address,runId,ts}`. */
  clientCancel: 'client.cancel',
  /** More of the client list after an agent `welcome` with `more:true` (our extension). */
  clients: 'clients',
  // agent → bridge
  send: 'send',
  broadcast: 'broadcast',
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];
