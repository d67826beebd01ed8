/**
 * A web server with two brokers as real processes (PROTOCOL §10, testkit clusterStack on the
 * machine's Redis under a prefix of its own): SIGKILL the broker a browser is on, and the browser
 * continues on the other one — bridge.reconnecting, then bridge.reconnected — with messages still
 * flowing both ways. `resumed` must be true exactly when the epoch stayed the same (true of any
 * brokers); these brokers share state, so it must also be the cluster case: same epoch,
 * `resumed:true`, and the frame sent while the browser was between brokers delivered once.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { clusterStack, connectBrowser, connectRawAgent, registerClient, type ClusterStack, type Frame } from '@agent-bridge/testkit';
import { createHash } from 'node:crypto';

let stack: ClusterStack;
beforeAll(async () => {
  stack = await clusterStack({ brokers: 2, webServers: 1, env: { HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '1500', LOG_LEVEL: 'warn' } });
});
afterAll(() => stack?.close());

/** The web server's rendezvous choice (packages/web-server/src/upstream/broker-pool.ts) with every broker ready. */
function firstChoice(clientId: string, urls: string[]): number {
  const score = (url: string) => createHash('sha256').update(clientId).update('\0').update(url).digest().readUIntBE(0, 6);
  return urls.reduce((best, url, i) => (score(url) > score(urls[best]!) ? i : best), 0);
}

test('SIGKILL of the broker a browser is on: it continues on the other broker, messages flow both ways', async () => {
  const session = await registerClient(stack.webUrls[0]!);
  // The web server puts a client on the first ready broker of its rendezvous ranking.
  const victim = firstChoice(session.clientId, stack.brokerWsUrls);
  const survivor = 1 - victim;

  const agent = await connectRawAgent(stack.brokerUrls[survivor]!);
  await agent.next('welcome');
  const browser = await connectBrowser(stack.webUrls[0]!, session);
  try {
    const welcome = await browser.next('welcome');
    agent.send({ type: 'send', to: session.clientId, data: 'before' });
    expect(await browser.next('message')).toMatchObject({ data: 'before' });

    await stack.brokers[victim]!.kill();
    await browser.event('bridge.reconnecting', 10_000);
    browser.send({ type: 'message', id: 'during', data: 'sent while reconnecting' });
    agent.send({ type: 'send', to: session.clientId, data: 'missed' });
    const back = await browser.event('bridge.reconnected', 15_000);
    expect(back).toMatchObject({ epoch: expect.any(String), lastSeq: expect.any(Number) });
    expect(back.resumed).toBe(back.epoch === welcome.epoch);
    // These brokers share Redis: the cluster's epoch, and the session resumed on the survivor.
    expect(back).toMatchObject({ epoch: welcome.epoch, resumed: true });
    expect(browser.closed).toBeUndefined();
    // The frame sent for it while it was between brokers arrives, once.
    await browser.next((f: Frame) => f.type === 'message' && f.data === 'missed', 10_000);

    const fromBrowser = (f: Frame) => f.type === 'client.message' && f.clientId === session.clientId;
    expect(await agent.next(fromBrowser, 10_000)).toMatchObject({ ref: 'during' });
    agent.send({ type: 'send', to: session.clientId, data: 'after' });
    const after = await browser.next((f: Frame) => f.type === 'message' && f.data === 'after', 10_000);
    expect(after.seq as number).toBeGreaterThan(back.lastSeq as number);
    expect(browser.all('message').filter((f) => f.data === 'missed')).toHaveLength(1);
  } finally {
    browser.close();
    agent.close();
  }
});
