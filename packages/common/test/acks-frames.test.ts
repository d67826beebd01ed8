// §8 frames: accepted (bridge → client/agent), the agent's ack by id, redelivered on client.message.
import { describe, expect, test } from 'vitest';
import {
  AcceptedFrame,
  AgentFrame,
  AgentInboundFrame,
  AgentWelcomeFrame,
  BridgeToAgentFrame,
  BridgeToClientFrame,
  ClientMessageToAgentFrame,
  FrameType,
  Header,
  AGENT_ACKS_QUERY,
  AGENT_ACKS_ON,
} from '../src/protocol/index.ts';

describe('§8 frames', () => {
  test('accepted carries a ref and nothing else is required; both peers parse it', () => {
    const f = { type: FrameType.accepted, ref: 'c-1' };
    expect(AcceptedFrame.parse(f)).toEqual(f);
    expect(BridgeToClientFrame.parse(f)).toEqual(f);
    expect(BridgeToAgentFrame.parse(f)).toEqual(f);
    expect(AcceptedFrame.safeParse({ type: 'accepted' }).success).toBe(false);
    expect(AcceptedFrame.safeParse({ type: 'accepted', ref: 7 }).success).toBe(false);
  });

  test('an agent ack names a client.message id; AgentFrame (send/broadcast) stays as it was', () => {
    expect(AgentInboundFrame.parse({ type: 'ack', id: 'm-1' })).toEqual({ type: 'ack', id: 'm-1' });
    expect(AgentInboundFrame.safeParse({ type: 'ack' }).success).toBe(false);
    expect(AgentInboundFrame.safeParse({ type: 'ack', id: '' }).success).toBe(false);
    expect(AgentFrame.safeParse({ type: 'ack', id: 'm-1' }).success).toBe(false);
    expect(AgentInboundFrame.parse({ type: 'send', id: 'a-1', to: 'x', data: 1 })).toMatchObject({ type: 'send' });
  });

  test('client.message may say redelivered; the welcome may say acks', () => {
    const m = { type: 'client.message', id: 'u', clientId: 'c', address: null, data: 1, ts: 't', redelivered: true };
    expect(ClientMessageToAgentFrame.parse(m).redelivered).toBe(true);
    expect(ClientMessageToAgentFrame.safeParse({ ...m, redelivered: 'yes' }).success).toBe(false);
    expect(AgentWelcomeFrame.parse({ type: 'welcome', agent: 'a', agentId: 'i', clients: [], acks: true }).acks).toBe(true);
  });

  test('the opt-in header and query', () => {
    expect(Header.agentAcks).toBe('x-agent-acks');
    expect(`?${AGENT_ACKS_QUERY}=${AGENT_ACKS_ON}`).toBe('?acks=1');
  });
});
