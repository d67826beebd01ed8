import type { ErrorCode } from '@agent-bridge/common/protocol';
import type { AgentSdkErrorCode } from './errors.ts';

/** An HTTP answer to our upgrade request instead of `101 Switching Protocols`. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  /** Whether dialing again could ever help. */
  permanent: boolean;
}

/**
 * 401 (bad token) and 400/403/404 (bad name, wrong URL) are configuration errors: redialing
 * would hammer the broker for ever without a chance. Anything else (429, 5xx from a proxy during
 * a deploy …) is treated as transient.
 */
const PERMANENT = new Set([400, 401, 403, 404]);

export function describeRefusal(status: number, body: string): Refusal {
  let code: string = status === 401 ? ('unauthorized' satisfies ErrorCode) : ('upgrade_refused' satisfies AgentSdkErrorCode);
  let message = `the broker refused the WebSocket upgrade with HTTP ${status}`;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code.slice(0, 64);
    if (typeof parsed.error?.message === 'string') message = `${message}: ${parsed.error.message.slice(0, 200)}`;
  } catch {
    // Not our JSON error body (a proxy's HTML page …): keep the generic message.
  }
  return { status, code, message, permanent: PERMANENT.has(status) };
}
