/**
 * The one place the broker reads what `ws` keeps private. A peer's close frame may have arrived
 * while ws has not emitted 'close' yet (it waits for the TCP end): a replacement arriving in that
 * window must still know the code the peer closed with (1000 ends the session, anything else
 * keeps it), and ws exposes it only as `_closeCode`. Everything else uses public API (the close
 * event's code, bufferedAmount, pause()) or common's wsSocket() for the batcher.
 */
import type WebSocket from 'ws';

/** No close frame received (the connection dropped). */
export const NO_CLOSE_FRAME = 1006;

/** The close code from the peer's close frame, once it arrived; 1006 when none did. */
export function peerCloseCode(ws: WebSocket): number {
  const code = (ws as unknown as { _closeCode?: unknown })._closeCode;
  return typeof code === 'number' ? code : NO_CLOSE_FRAME;
}
