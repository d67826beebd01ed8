import { createContext, useContext, useSyncExternalStore } from 'react';
import type { BridgeClient } from '@agent-bridge/browser-client';
import type { ConversationState, ConversationStore } from './conversation.ts';

export interface AppServices {
  client: BridgeClient;
  conversation: ConversationStore;
}

export const ServicesContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('ServicesContext missing');
  return s;
}

export function useConversation(): ConversationState {
  const { conversation } = useServices();
  return useSyncExternalStore(conversation.subscribe, conversation.getSnapshot);
}
