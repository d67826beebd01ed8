export * from './protocol/index.ts';
export * from './config.ts';
export * from './logger.ts';
export * from './timing-safe.ts';
export * from './service.ts';
export * from './socket-batcher.ts';
export * from './rate-limit.ts';
export * from './upgrade-refusal.ts';
