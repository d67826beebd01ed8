/**
 * The app's services and selector hooks over the conversation store. Each hook reads one part
 * (a thread's ids, one row, one run, …); the store returns the same object until that part
 * changes, so React re-renders only the components whose part did.
 */
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { BridgeClient, PendingInterrupt, RunView } from '@agent-bridge/browser-client';
import type { Answer, ConversationMeta, ConversationState, ConversationStore } from './conversation.ts';
import type { Row } from './entry.ts';

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

function useStore<T>(read: (store: ConversationStore) => T): T {
  const { conversation } = useServices();
  // `read` is a fresh closure per render; what it reads is stable between changes.
  return useSyncExternalStore(conversation.subscribe, () => read(conversation));
}

/** Status, agents, gap and the pulse (re-renders on each incoming message). */
export function useConversation(): ConversationState {
  return useStore((s) => s.getSnapshot());
}

/** Status, agents and gap only. */
export function useMeta(): ConversationMeta {
  return useStore((s) => s.getMeta());
}

export function useThread(agent: string): readonly string[] {
  return useStore((s) => s.thread(agent));
}

export function useRow(id: string): Row | undefined {
  return useStore((s) => s.row(id));
}

export function useRun(runId: string): RunView | undefined {
  return useStore((s) => s.run(runId));
}

export function useActiveRun(agent: string): string | undefined {
  return useStore((s) => s.activeRun(agent));
}

export function useStopping(runId: string | undefined): boolean {
  return useStore((s) => (runId ? s.isStopping(runId) : false));
}

export function useAsked(runId: string): readonly PendingInterrupt[] | undefined {
  return useStore((s) => s.askedBy(runId));
}

/** An interrupt's state: waiting for us, answered by us, or gone (answered elsewhere / expired). */
export function useInterruptState(i: PendingInterrupt): 'pending' | Answer | 'closed' {
  return useStore((s) => s.answerOf(i.id) ?? (s.isPending(i) ? 'pending' : 'closed'));
}

export function useKnownAgents(): readonly string[] {
  return useStore((s) => s.knownAgents());
}

export function useOnline(agent: string): boolean {
  return useStore((s) => s.getMeta().agents.includes(agent));
}
