export { Agent, connectAgent, type AgentState } from './agent.ts';
export type { ConnectAgentOptions } from './options.ts';
export type { ClientMessageEvent } from './message-acks.ts';
export { createAgentTracer, type AgentSpan, type AgentSpanInput, type AgentTracer, type AgentTracerOptions } from './tracing.ts';
export type { MetricsRegistry } from './metrics.ts';
export type { AgentEvents, AgentErrorEvent, CloseEvent, ReconnectingEvent, UnauthorizedEvent } from './events.ts';
export type {
  ClientAuthenticatedEvent,
  ClientConnectedEvent,
  ClientDisconnectedEvent,
  ClientEvent,
  ClientExpiredEvent,
  ClientSignedOutEvent,
} from './client-events.ts';
export type { KnownClient } from './client-registry.ts';
export { AgentSdkError, AgentSdkErrorCode } from './errors.ts';
export { agentEndpoint, agentEndpoints } from './url.ts';
export * from './runs.ts';
// Frame types an agent author needs, so they need not depend on @agent-bridge/common directly.
export type {
  AgentWelcomeFrame,
  ClientMessageToAgentFrame,
  ErrorFrame,
  SystemFrame,
  BackoffOptions,
} from '@agent-bridge/common/protocol';
