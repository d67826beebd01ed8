// The runnable services of the repository, in start order. One list for dev, build and start.
export const SERVICES = {
  broker: { entry: 'packages/websocket-server/src/main.ts', out: 'dist/broker.mjs' },
  web: { entry: 'packages/web-server/src/main.ts', out: 'dist/web-server.mjs' },
  agent: { entry: 'packages/demo-agent/src/main.ts', out: 'dist/demo-agent.mjs' },
};
