export * from './codes.ts';
export * from './frames.ts';
export * from './parse.ts';
export * from './backoff.ts';
export * from './http.ts';
export * from './coalesce.ts';
export * from './trace.ts';
export * from './ops.ts';
