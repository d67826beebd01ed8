export { startWebServer, type WebServer, type WebServerOptions } from './server.ts';
export { createApp, type AppDeps } from './app.ts';
export { SessionTokens, type SessionTokensOptions, type VerifiedSession, type RejectedSession } from './session/tokens.ts';
export { requireSession, type SessionLocals } from './session/require-session.ts';
export { BrokerIdentityClient, type IdentityOutcome } from './upstream/identity-client.ts';
export { ClientPipe } from './upstream/client-pipe.ts';
export { contentSecurityPolicy } from './http/security-headers.ts';
