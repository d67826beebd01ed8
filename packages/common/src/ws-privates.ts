/**
 * The one adapter over what `ws` keeps private, for both services (issue 10: ws privates in one
 * small tested place). If a ws upgrade renames these fields, packages/common/test/ws-privates.test.ts
 * fails instead of the batcher silently not corking or a replacement misreading a close.
 */
import type { Socket } from 'node:net';

/** The net.Socket under a `ws` WebSocket (undefined until connected): the batcher corks it. */
export function wsSocket(ws: object): Socket | undefined {
  return (ws as { _socket?: Socket | null })._socket ?? undefined;
}

/** No close frame received (the connection dropped). */
export const NO_CLOSE_FRAME = 1006;

/**
 * The close code from the peer's close frame, once it arrived; 1006 when none did. A peer's
 * close frame may have arrived while ws has not emitted 'close' yet (it waits for the TCP end):
 * a replacement arriving in that window must still know the code (1000 ends the session).
 */
export function peerCloseCode(ws: object): number {
  const code = (ws as { _closeCode?: unknown })._closeCode;
  return typeof code === 'number' ? code : NO_CLOSE_FRAME;
}
