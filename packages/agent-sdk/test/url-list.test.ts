// agentEndpoints: the forms `url` accepts for several brokers (pure logic).
import { expect, test } from 'vitest';
import { AgentSdkError, agentEndpoints } from '../src/index.ts';

test('one URL, an array, or a comma-separated string; each gets /ws/agent; duplicates dropped', () => {
  expect(agentEndpoints('ws://a:1')).toEqual(['ws://a:1/ws/agent']);
  expect(agentEndpoints(['ws://a:1', 'http://b:2/'])).toEqual(['ws://a:1/ws/agent', 'ws://b:2/ws/agent']);
  expect(agentEndpoints(' ws://a:1 , ws://b:2,ws://a:1/ws/agent ')).toEqual(['ws://a:1/ws/agent', 'ws://b:2/ws/agent']);
});

test('an empty list or a bad member fails up front with invalid_option', () => {
  for (const bad of ['', ' , ', [], ['ws://a:1', 'ftp://b'], ['not a url']]) {
    expect(() => agentEndpoints(bad as string | string[])).toThrow(AgentSdkError);
  }
});
