/**
 * A raw agent for the browser tests that streams AG-UI runs by hand (PROTOCOL §9), so a test
 * decides every delta, pause and outcome: no SDK batching, no demo-agent pacing.
 */
import { randomUUID } from 'node:crypto';
import { connectRawAgent, type TestSocket } from '@agent-bridge/testkit';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function scriptedAgent(brokerUrl: string, name: string): Promise<TestSocket> {
  const agent = await connectRawAgent(brokerUrl, { name });
  await agent.next('welcome');
  return agent;
}

export class ScriptedRun {
  private readonly offsets = new Map<string, number>();
  readonly runId = randomUUID();

  constructor(
    private readonly agent: TestSocket,
    private readonly to: string,
    readonly threadId = `th-${to}`,
  ) {}

  emit(data: Record<string, unknown>): void {
    this.agent.send({ type: 'send', to: this.to, data: { ...data, runId: this.runId, threadId: this.threadId } });
  }

  start(extra: Record<string, unknown> = {}): this {
    this.emit({ type: 'RUN_STARTED', ...extra });
    return this;
  }

  /** A text delta with its offset (the message is opened on its first delta). */
  text(messageId: string, delta: string): void {
    if (!this.offsets.has(messageId)) {
      this.emit({ type: 'TEXT_MESSAGE_START', messageId, role: 'assistant' });
      this.offsets.set(messageId, 0);
    }
    const offset = this.offsets.get(messageId)!;
    this.emit({ type: 'TEXT_MESSAGE_CONTENT', messageId, delta, offset });
    this.offsets.set(messageId, offset + delta.length);
  }

  endText(messageId: string): void {
    this.emit({ type: 'TEXT_MESSAGE_END', messageId });
  }

  /** Stream `text` in pieces of `size`, `ms` apart. */
  async type(messageId: string, text: string, size: number, ms: number): Promise<void> {
    for (let i = 0; i < text.length; i += size) {
      this.text(messageId, text.slice(i, i + size));
      await sleep(ms);
    }
  }

  finish(outcome?: Record<string, unknown>, result?: unknown): void {
    this.emit({ type: 'RUN_FINISHED', ...(outcome ? { outcome } : {}), ...(result === undefined ? {} : { result }) });
  }
}
