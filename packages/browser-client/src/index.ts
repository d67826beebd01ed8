export { BridgeClient, createBridgeClient, type BridgeClientOptions, type SendOptions } from './client.ts';
export { SessionStore, DEFAULT_STORAGE_KEY, type StoredSession } from './session-store.ts';
export { HttpError, type Registration } from './http.ts';
export * from './types.ts';
export * from './runs.ts';
export { hintFor, isPermanentRefusal } from './refusal.ts';
