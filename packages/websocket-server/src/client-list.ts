/**
 * The agent `welcome` lists every known session. With thousands of sessions one frame would pass
 * MAX_MESSAGE_BYTES (64 KiB at ~780 sessions), so a strict agent enforcing the documented limit
 * could not connect (issue 9). The list is paged by bytes: the welcome carries the first page and
 * `"more":true`, then `{"type":"clients","clients":[…],"more":bool}` frames follow until the list
 * is complete (the last has `more:false`). A list that fits is one welcome without `more`, exactly
 * the v1 frame. Every page holds at least one entry, so with an absurdly small limit (one entry is
 * at most ~900 bytes) a page may exceed it rather than never finishing.
 */
import { FrameType, type AgentClientsFrame, type AgentWelcomeFrame, type ClientInfo, type FrameInput } from '@agent-bridge/common';

/** An entry of the list: ClientInfo, with `connected` always set by this broker. */
export type ClientEntry = FrameInput<typeof ClientInfo> & { connected: boolean };

export interface WelcomeHead {
  agent: string;
  agentId: string;
  heartbeatMs: number;
  /** §8: the connection opted in to acks (the welcome says so). */
  acks?: boolean;
}

/** The welcome and the `clients` frames after it, each at most `maxBytes` (UTF-8). */
export function agentWelcomeFrames(head: WelcomeHead, clients: ClientEntry[], maxBytes: number): string[] {
  const welcome = (page: ClientEntry[], more: boolean) =>
    JSON.stringify({
      type: FrameType.welcome,
      agent: head.agent,
      agentId: head.agentId,
      clients: page,
      heartbeatMs: head.heartbeatMs,
      ...(more ? { more: true } : {}),
      // §8 extension: this broker reads an ack's `ids` list (one ack frame per agent turn).
      ...(head.acks ? { acks: true, ackIds: true } : {}),
    } satisfies FrameInput<typeof AgentWelcomeFrame>);
  const single = welcome(clients, false);
  if (Buffer.byteLength(single) <= maxBytes) return [single];

  const pageFrame = (page: ClientEntry[], more: boolean) => JSON.stringify({ type: FrameType.clients, clients: page, more } satisfies FrameInput<typeof AgentClientsFrame>);
  // Envelope sizes with an empty list; `more:false` is the longer form, so it bounds both.
  const welcomeRoom = maxBytes - Buffer.byteLength(welcome([], true));
  const pageRoom = maxBytes - Buffer.byteLength(pageFrame([], false));
  const pages: ClientEntry[][] = [];
  let page: ClientEntry[] = [];
  let used = 0;
  for (const c of clients) {
    const bytes = Buffer.byteLength(JSON.stringify(c));
    const room = pages.length === 0 ? welcomeRoom : pageRoom;
    // Each entry after the first of a page also costs a comma.
    if (page.length > 0 && used + 1 + bytes > room) {
      pages.push(page);
      page = [];
      used = 0;
    }
    used += page.length ? 1 + bytes : bytes;
    page.push(c);
  }
  pages.push(page);
  return pages.map((p, i) => (i === 0 ? welcome(p, pages.length > 1) : pageFrame(p, i < pages.length - 1)));
}
