export * from './service-process.ts';
export * from './tcp-proxy.ts';
export * from './stack.ts';
export * from './test-socket.ts';
export * from './clients.ts';
export * from './raw-http.ts';
export * from './redis-server.ts';
export * from './cluster.ts';
