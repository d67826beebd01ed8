/** The run API (PROTOCOL §9), re-exported in one line from index.ts. */
export { RunWriter, type InterruptAnswer, type InterruptOptions, type RunHost, type RunOptions, type RunTarget, type ToolCallWriter } from './run.ts';
export { RunRegistry, type InterruptReply } from './run-registry.ts';
export { DEFAULT_BATCH_MS, type RunEvent } from './run-sender.ts';
export { streamAgUi, type AgUiRunnable, type AgUiSource, type StreamAgUiOptions, type StreamAgUiResult } from './run-agui.ts';
export type { ClientCancelToAgentFrame } from '@agent-bridge/common/protocol';
