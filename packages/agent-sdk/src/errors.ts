/**
 * Errors the SDK itself raises (as thrown `AgentSdkError`s or as `error` events with these codes).
 * Codes sent by the bridge are the protocol's ErrorCode table; these are local to this SDK.
 */
export const AgentSdkErrorCode = {
  outbox_full: 'send/broadcast while disconnected and the outbox already holds outboxLimit frames',
  invalid_frame: 'the frame to send fails the protocol schema or is not JSON-serialisable',
  invalid_option: 'connectAgent was given an unusable option (url, token, name, limits)',
  closed: 'the agent was closed with close(); it sends nothing any more',
  upgrade_refused: 'the broker answered the WebSocket upgrade with an HTTP error other than 401',
  invalid_bridge_frame: 'the bridge sent a frame this SDK cannot parse (ignored)',
  listener_failed: 'one of your event listeners threw; the SDK caught it and went on',
} as const;
export type AgentSdkErrorCode = keyof typeof AgentSdkErrorCode;

export class AgentSdkError extends Error {
  override name = 'AgentSdkError';
  constructor(
    readonly code: AgentSdkErrorCode,
    message: string,
  ) {
    super(message);
  }
}
