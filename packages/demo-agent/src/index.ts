export * from './commands.ts';
export { runDemoAgent } from './agent.ts';
