/**
 * Streamed replies (issue 14): C clients each ask the agent for a reply of T tokens at R tokens/s,
 * all at once. The agent records when it handed each token to its transport; each client records
 * when each token's text was complete there (same CLOCK_MONOTONIC in every process). A few
 * clients drop mid-reply and resume (Agent Bridge only: the comparators have no resume).
 *
 * Figures, over the clients that stayed connected:
 * - time to first token: the client's request sent → the first token's text at the client;
 * - token delay ("inter-token latency" here): for every token after the first, its arrival at the
 *   client − its emission at the agent. With batching, tokens arrive in groups: this is the delay
 *   of each token, not the gap between frames. The client-side gap between consecutive tokens'
 *   arrivals is reported too (`gap*`: near 0 inside a batch);
 * - frames and bytes per token on the wire to the client (WebSocket payloads, every frame of the
 *   run, envelope included), and text frames per stream per 20 ms of its emission span;
 * - text frames per stream per 20 ms: a stream's text frames ÷ the 20 ms windows from its first
 *   token's emission to its last (both ends counted: 1 + ⌈span / 20 ms⌉);
 * - reconnect: for each client that dropped, time from its new welcome until it held every token
 *   the agent had emitted before that welcome, and whether the welcome said resumed:true.
 *
 * Phases: a 10-token warm-up reply per client (not measured: first-call costs of every process),
 * the measured replies, and for Agent Bridge the same replies again with the SDK's batching off
 * (`batchMs: 0`), to separate what the bridge costs from what batching costs. The comparators'
 * agents never batch, so their unbatched figures are their measured ones.
 */
import path from 'node:path';
import { Histogram, type LatencySummary } from '../histogram.ts';
import { byPackage, topFunctions } from '../profile-summary.ts';
import { round, sleep, Window } from '../measure.ts';
import type { StreamRecord, StreamStartArgs } from '../loadgen/streams.ts';
import type { ScenarioContext, ScenarioResult } from './types.ts';

/** Pause between the warm-up replies and the measured ones. */
const SETTLE_MS = 500;
/** Batching target: at most one text frame per stream per this many ms. */
const BATCH_WINDOW_MS = 20;

interface Phase {
  records: StreamRecord[];
  emitted: Record<string, number[]>;
  unfinished: number;
}

/** Start one reply per client and wait (bounded) until every one finished. */
async function phase(ctx: ScenarioContext, args: StreamStartArgs): Promise<Phase & { reconnecting: number }> {
  const lg = ctx.topo.loadgen;
  const started = await lg.call<{ streams: number; reconnecting: number }>('streamStart', args);
  // Bounded wait: the reply's own length, twice, plus the away time and 10 s.
  const deadline = performance.now() + ((args.tokens / args.rate) * 1000 + args.awayMs) * 2 + 10_000;
  let st = await lg.call<{ streams: number; finished: number }>('streamStatus');
  while (st.finished < st.streams && performance.now() < deadline) {
    await sleep(50);
    st = await lg.call<{ streams: number; finished: number }>('streamStatus');
  }
  const records = await lg.call<StreamRecord[]>('streamResults', undefined, 60_000);
  const emitted = await ctx.topo.agent.call<Record<string, number[]>>('streamEmissions', undefined, 60_000);
  return { records, emitted, unfinished: st.streams - st.finished, reconnecting: started.reconnecting };
}

const summary = (h: Histogram): LatencySummary | null => (h.count ? h.summary() : null);

/** Time to first token, token delay and gaps over the streams that stayed connected. */
function latencies({ records, emitted }: Phase) {
  const steady = records.filter((r) => !r.reconnect);
  const ttft = new Histogram();
  // TTFT split at the agent: request → first token emitted, first token emitted → at the client.
  const upstream = new Histogram();
  const firstDown = new Histogram();
  const delay = new Histogram();
  const gap = new Histogram();
  let frames = 0;
  let bytes = 0;
  let tokens = 0;
  let worstFramesPerWindow = 0;
  let sumFramesPerWindow = 0;
  for (const r of steady) {
    const e = emitted[r.key] ?? [];
    const a = r.arrivalsUs;
    if (a.length) ttft.record(a[0]! - r.requestUs);
    if (a.length && e.length) {
      upstream.record(e[0]! - r.requestUs);
      firstDown.record(a[0]! - e[0]!);
    }
    for (let i = 1; i < a.length; i++) {
      if (e[i] !== undefined) delay.record(a[i]! - e[i]!);
      gap.record(a[i]! - a[i - 1]!);
    }
    frames += r.frames;
    bytes += r.bytes;
    tokens += a.length;
    const spanMs = e.length > 1 ? (e.at(-1)! - e[0]!) / 1000 : 0;
    const perWindow = r.contentFrames / (1 + Math.ceil(spanMs / BATCH_WINDOW_MS));
    worstFramesPerWindow = Math.max(worstFramesPerWindow, perWindow);
    sumFramesPerWindow += perWindow;
  }
  return {
    steady: steady.length,
    ttft: summary(ttft),
    upstream: summary(upstream),
    firstDown: summary(firstDown),
    delay: summary(delay),
    gap: summary(gap),
    framesPerToken: tokens ? round(frames / tokens, 3) : null,
    bytesPerToken: tokens ? round(bytes / tokens, 1) : null,
    worstFramesPerWindow: steady.length ? round(worstFramesPerWindow, 3) : null,
    meanFramesPerWindow: steady.length ? round(sumFramesPerWindow / steady.length, 3) : null,
  };
}

/** For each client that dropped: did it resume, and when after its welcome did it hold the missed text. */
function reconnectCost({ records, emitted }: Phase) {
  const reconnects = records.filter((r) => r.reconnect);
  const missedText = new Histogram();
  let resumed = 0;
  let recovered = 0;
  let missedTokens = 0;
  for (const r of reconnects) {
    const { welcomeUs, droppedUs } = r.reconnect!;
    if (r.reconnect!.resumed) resumed++;
    if (welcomeUs === null) continue;
    // The missed text: every token emitted before the new welcome that had not arrived at the drop.
    const e = emitted[r.key] ?? [];
    let last = welcomeUs;
    let complete = true;
    for (let i = 0; i < e.length && e[i]! < welcomeUs; i++) {
      const at = r.arrivalsUs[i];
      if (at === undefined) complete = false;
      else if (at >= droppedUs) {
        missedTokens++;
        last = Math.max(last, at);
      }
    }
    if (complete) {
      recovered++;
      missedText.record(last - welcomeUs);
    }
  }
  const all = reconnects.length > 0 && recovered === reconnects.length && resumed === reconnects.length;
  const m = summary(missedText);
  return {
    reconnects: reconnects.length,
    resumed,
    recovered,
    missedTokens,
    // Null unless every reconnecting client resumed and got all its missed text.
    maxUs: all ? (m?.maxUs ?? 0) : null,
    p50Us: all ? (m?.p50Us ?? 0) : null,
  };
}

export async function stream(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { topo, opts } = ctx;
  const p = opts.stream;
  const lg = topo.loadgen;
  const notes: string[] = [];
  const conn = await lg.call<{ connected: number; failed: number; firstError?: string }>(
    'connect',
    { n: p.clients, concurrency: opts.connectConcurrency, deadlineMs: 60_000 },
    90_000,
  );
  if (conn.failed) notes.push(`${conn.failed} clients failed to connect: ${conn.firstError}`);
  await phase(ctx, { ...p, tokens: Math.min(10, p.tokens), reconnects: 0 });
  // Let the warm-up's wake pass (its last frames, any GC) so the measured replies start on settled
  // processes. Agent Bridge's slow first token is not this: docs/performance.md, "Streamed replies".
  await sleep(SETTLE_MS);
  // --profile: the servers and the agent over the measured replies, as the echo scenario does.
  const profiled = opts.profile ? [...topo.servers, topo.agent] : [];
  await Promise.all(profiled.map((c) => c.call('probe.profileStart')));
  const win = new Window(topo.all);
  await win.start();
  const main = await phase(ctx, p);
  const tokensDelivered = main.records.reduce((a, r) => a + r.arrivalsUs.length, 0);
  const processes = await win.stop(tokensDelivered);
  for (const c of profiled) {
    const file = path.resolve(opts.outDir, `${topo.name}-${c.spec.name}-stream.cpuprofile`);
    await c.call('probe.profileStop', { path: file }, 60_000);
    notes.push(`CPU profile: ${file}`);
    notes.push(`${c.spec.name} top self time (% of busy): ${topFunctions(file, 8).map((t) => `${t.fn} (${t.where}) ${t.selfPct}%`).join('; ')}`);
    notes.push(`${c.spec.name} self time by package (% of busy): ${Object.entries(byPackage(file)).map(([k, v]) => `${k} ${v}%`).join('; ')}`);
  }
  // Only the SDK agent batches: the comparators' measured replies are already unbatched.
  const unbatched = topo.name === 'agent-bridge' ? await phase(ctx, { ...p, reconnects: 0, batchMs: 0 }) : undefined;
  await lg.call('closeAll', undefined, 60_000);
  if (main.unfinished) notes.push(`${main.unfinished} of ${main.records.length} replies not finished at the deadline`);
  if (unbatched?.unfinished) notes.push(`unbatched: ${unbatched.unfinished} replies not finished at the deadline`);
  if (main.reconnecting === 0 && p.reconnects > 0) notes.push('reconnect mid-reply not measured: this target has no resume');
  if (unbatched) notes.push('unbatched*: the same replies again with the SDK\'s batching off (batchMs 0); for the comparators these are the measured figures');

  const l = latencies(main);
  const u = unbatched ? latencies(unbatched) : l;
  const rc = reconnectCost(main);
  return {
    scenario: 'stream',
    params: { ...p, clientsConnected: conn.connected, batchWindowMs: BATCH_WINDOW_MS },
    metrics: {
      streams: main.records.length,
      finished: main.records.length - main.unfinished,
      textIntact: main.records.filter((r) => r.textIntact).length,
      steadyStreams: l.steady,
      tokensDelivered,
      ttftP50Us: l.ttft?.p50Us ?? null,
      ttftP99Us: l.ttft?.p99Us ?? null,
      ttftMaxUs: l.ttft?.maxUs ?? null,
      ttftRequestToAgentP50Us: l.upstream?.p50Us ?? null,
      ttftAgentToClientP50Us: l.firstDown?.p50Us ?? null,
      tokenDelayP50Us: l.delay?.p50Us ?? null,
      tokenDelayP99Us: l.delay?.p99Us ?? null,
      tokenDelayMaxUs: l.delay?.maxUs ?? null,
      gapP50Us: l.gap?.p50Us ?? null,
      gapP99Us: l.gap?.p99Us ?? null,
      framesPerToken: l.framesPerToken,
      bytesPerToken: l.bytesPerToken,
      textFramesPerStreamPer20Ms: l.worstFramesPerWindow,
      textFramesPerStreamPer20MsMean: l.meanFramesPerWindow,
      unbatchedTtftP50Us: u.ttft?.p50Us ?? null,
      unbatchedTokenDelayP50Us: u.delay?.p50Us ?? null,
      unbatchedTokenDelayP99Us: u.delay?.p99Us ?? null,
      unbatchedFramesPerToken: u.framesPerToken,
      unbatchedBytesPerToken: u.bytesPerToken,
      unbatchedTextIntact: (unbatched ?? main).records.filter((r) => r.textIntact).length,
      reconnects: rc.reconnects,
      reconnectsResumed: rc.resumed,
      reconnectsRecovered: rc.recovered,
      reconnectMissedTokens: rc.missedTokens,
      reconnectMissedTextMaxUs: rc.maxUs,
      reconnectMissedTextP50Us: rc.p50Us,
      serverCpuUsPerToken: tokensDelivered ? round(topo.servers.reduce((a, c) => a + (processes[c.spec.name]?.cpuUs ?? 0), 0) / tokensDelivered, 2) : null,
    },
    processes,
    notes,
  };
}
