export { startBroker, type BrokerHandle, type BrokerOptions } from './server.ts';
