/**
 * Early redials once the broker is back (docs/protocol.md, "Redial"): upstreams waiting for their
 * backoff step are woken by proof that their broker accepts again — another upstream's welcome or
 * a /readyz 200 — instead of each waiting out its own step. A dial that keeps failing still
 * follows the schedule (PROTOCOL §5).
 */
import { connectBrowser, registerClient, type Frame, type TestSocket } from '@agent-bridge/testkit';
import { describe, expect, it } from 'vitest';
import type { WebServer } from '../src/index.ts';
import { pipeFixture } from './helpers.ts';

const { broker, web, proxyTo, track } = pipeFixture();

/** When each frame arrived (performance.now(), taken as it is read). */
const arrived = new WeakMap<Frame, number>();
const at = (f: Frame) => arrived.get(f)!;

async function browserOn(w: WebServer): Promise<TestSocket> {
  const s = track(await connectBrowser(w.url, await registerClient(w.url)));
  s.ws.on('message', () => arrived.set(s.frames[s.frames.length - 1]!, performance.now()));
  await s.next('welcome');
  return s;
}

/** The upstreams drop; each browser's redial is due at (its bridge.reconnecting + retryInMs). */
async function dropAll(proxy: { block(): void; cut(): void }, browsers: TestSocket[]): Promise<number[]> {
  proxy.block();
  proxy.cut();
  return Promise.all(
    browsers.map(async (s) => {
      const f = await s.event('bridge.reconnecting');
      return at(f) + (f.retryInMs as number);
    }),
  );
}

describe('waiting upstreams are woken once their broker is back', () => {
  it("another upstream's welcome wakes them: back within 1 s of it, long before their own step", async () => {
    const b = await broker();
    const proxy = await proxyTo(b.port);
    // Steps of 3 s ±20 % and no background /readyz probes: only a welcome can wake them.
    const w = await web(`ws://127.0.0.1:${proxy.port}`, {}, { backoff: { initialMs: 3000, maxMs: 60_000 }, brokerPollMs: 0 });
    const browsers = [await browserOn(w), await browserOn(w), await browserOn(w)];
    const due = await dropAll(proxy, browsers);
    proxy.unblock();

    // A browser that arrives now dials at once; its welcome proves the broker is back.
    const late = await browserOn(w);
    const proof = at(late.all('welcome')[0]!);
    for (const [i, s] of browsers.entries()) {
      const back = await s.event('bridge.reconnected', 5000);
      expect(back).toMatchObject({ resumed: true, epoch: b.epoch });
      expect(at(back) - proof).toBeLessThan(1000);
      // Its own step (≥ 2.4 s after the drop) was still far off.
      expect(at(back)).toBeLessThan(due[i]! - 1000);
    }
  });

  it('a /readyz 200 of the background probe wakes them when no upstream has come back yet', async () => {
    const b = await broker();
    const proxy = await proxyTo(b.port);
    const w = await web(`ws://127.0.0.1:${proxy.port}`, {}, { backoff: { initialMs: 3000, maxMs: 60_000 }, brokerPollMs: 100 });
    const browsers = [await browserOn(w), await browserOn(w)];
    const due = await dropAll(proxy, browsers);
    const reachable = performance.now();
    proxy.unblock();
    for (const [i, s] of browsers.entries()) {
      const back = await s.event('bridge.reconnected', 5000);
      expect(back).toMatchObject({ resumed: true });
      expect(at(back) - reachable).toBeLessThan(1000);
      expect(at(back)).toBeLessThan(due[i]! - 1000);
    }
  });

  it('while the broker stays unreachable nothing wakes them: every failed dial waits its full step (§5)', async () => {
    const b = await broker();
    const proxy = await proxyTo(b.port);
    const w = await web(`ws://127.0.0.1:${proxy.port}`, {}, { backoff: { initialMs: 300, maxMs: 60_000 }, brokerPollMs: 50 });
    const s = await browserOn(w);
    proxy.block();
    proxy.cut();
    const waits: Frame[] = [];
    for (let i = 0; i < 3; i++) waits.push(await s.event('bridge.reconnecting', 5000));
    const retry = waits.map((f) => f.retryInMs as number);
    expect(retry[0]).toBeGreaterThanOrEqual(240);
    expect(retry[1]).toBeGreaterThanOrEqual(480);
    expect(retry[2]).toBeGreaterThanOrEqual(960);
    // Each failed dial came no sooner than its announced step (timers may fire a little late, never
    // early). Measured on the web server's own stamps (`ts`, ms): the browser's arrival times carry
    // each frame's delivery delay, which on a busy machine made one gap 10 ms short (CI, 2026-11-26).
    const sent = (f: Frame) => Date.parse(f.ts as string);
    for (let i = 1; i < waits.length; i++) expect(sent(waits[i]!) - sent(waits[i - 1]!)).toBeGreaterThanOrEqual(retry[i - 1]! - 2);
  });

  it('once per outage: a broker that answers /readyz but refuses the upgrade is redialled on the schedule after one early dial', async () => {
    const b = await broker();
    // A wrong PROXY_TOKEN: every upgrade is refused 401 while /readyz stays 200.
    const w = await web(b.wsUrl, { PROXY_TOKEN: 'not_the_brokers_token' }, { backoff: { initialMs: 1500, maxMs: 60_000 }, brokerPollMs: 50 });
    const s = track(await connectBrowser(w.url, await registerClient(w.url)));
    s.ws.on('message', () => arrived.set(s.frames[s.frames.length - 1]!, performance.now()));
    const waits: Frame[] = [];
    for (let i = 0; i < 3; i++) waits.push(await s.event('bridge.reconnecting', 10_000));
    // The first wait may be cut short by a /readyz 200; the second runs its full step (2.4–3.6 s).
    expect(at(waits[2]!) - at(waits[1]!)).toBeGreaterThanOrEqual((waits[1]!.retryInMs as number) - 5);
  }, 20_000);
});
