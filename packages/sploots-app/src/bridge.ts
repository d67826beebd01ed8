/** The app's single browser client and conversation store. */
import { createBridgeClient } from '@agent-bridge/browser-client';
import { ConversationStore } from './store/conversation.ts';
import type { AppServices } from './store/context.tsx';

export function createServices(): AppServices {
  const client = createBridgeClient();
  const conversation = new ConversationStore(client);
  return { client, conversation };
}
