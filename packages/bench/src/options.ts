/**
 * Scenario sizes for `pnpm bench` (full), `--quick` (whole run under a minute) and the tiny
 * configuration the harness test uses. Every loop is bounded by these counts and times.
 */
import { ALL_TARGETS, TARGETS, type TargetName } from './targets/index.ts';

// Idle first: fresh processes give the cleanest memory readings.
export const SCENARIOS = ['idle', 'latency', 'echo', 'fanout', 'stream', 'storm'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export type Mode = 'full' | 'quick' | 'tiny';

export interface BenchOptions {
  mode: Mode;
  targets: TargetName[];
  scenarios: ScenarioName[];
  /** Where `*.jsonl`, `*.md`, logs and profiles go. */
  outDir: string;
  /** CPU-profile the servers during the echo window (and the agent too during the stream's replies). */
  profile: boolean;
  /** Write progress to stderr. */
  verbose: boolean;
  /**
   * Rounds per scenario (default 1). Each round runs every target once, on fresh processes, in
   * reverse order every other round (A B, B A, …), so drift in the machine's load falls on both
   * sides of a comparison; the cost tables report the median over the rounds.
   */
  repeat: number;
  /**
   * Run the targets of a round at the same time instead of one after the other: both sides of a
   * comparison then share the machine's load at the same moments (their absolute figures are for
   * half a machine each; read the ratio). For A/B pricing on a shared machine.
   */
  parallel: boolean;
  connectConcurrency: number;
  echo: { clients: number; window: number; size: number; warmupMs: number; durationMs: number; drainMs: number };
  latency: { size: number; warmupMs: number; durationMs: number; drainMs: number };
  fanout: { clients: number; startRate: number; growth: number; maxSteps: number; stepMs: number; drainMs: number; size: number };
  /** cpuWindowMs: how long CPU is measured with everyone connected and silent (heartbeats only). */
  idle: { clients: number; settleMs: number; cpuWindowMs: number };
  /** quietMs: once all are back, how long without a probe echo before the rest count as lost. */
  storm: { clients: number; timeoutMs: number; quietMs: number };
  /** Streamed replies: `reconnects` of the clients drop after `dropAtToken` tokens, redial after `awayMs`. */
  stream: { clients: number; tokens: number; rate: number; reconnects: number; dropAtToken: number; awayMs: number };
}

const PRESETS: Record<Mode, Omit<BenchOptions, 'targets' | 'scenarios' | 'outDir' | 'profile' | 'verbose' | 'mode' | 'repeat' | 'parallel'>> = {
  full: {
    connectConcurrency: 64,
    echo: { clients: 50, window: 4, size: 256, warmupMs: 2000, durationMs: 10_000, drainMs: 5000 },
    latency: { size: 256, warmupMs: 1000, durationMs: 5000, drainMs: 2000 },
    fanout: { clients: 1000, startRate: 25, growth: 2, maxSteps: 8, stepMs: 3000, drainMs: 3000, size: 128 },
    idle: { clients: 10_000, settleMs: 2000, cpuWindowMs: 10_000 },
    storm: { clients: 5000, timeoutMs: 60_000, quietMs: 5000 },
    stream: { clients: 100, tokens: 1000, rate: 100, reconnects: 10, dropAtToken: 300, awayMs: 500 },
  },
  quick: {
    connectConcurrency: 64,
    echo: { clients: 20, window: 4, size: 256, warmupMs: 400, durationMs: 2000, drainMs: 2000 },
    latency: { size: 256, warmupMs: 200, durationMs: 1000, drainMs: 1000 },
    fanout: { clients: 200, startRate: 100, growth: 2, maxSteps: 5, stepMs: 600, drainMs: 1000, size: 128 },
    idle: { clients: 500, settleMs: 500, cpuWindowMs: 1000 },
    storm: { clients: 300, timeoutMs: 15_000, quietMs: 1500 },
    stream: { clients: 20, tokens: 200, rate: 100, reconnects: 2, dropAtToken: 60, awayMs: 300 },
  },
  tiny: {
    connectConcurrency: 8,
    echo: { clients: 3, window: 2, size: 64, warmupMs: 100, durationMs: 400, drainMs: 2000 },
    latency: { size: 64, warmupMs: 50, durationMs: 300, drainMs: 1000 },
    fanout: { clients: 5, startRate: 50, growth: 2, maxSteps: 2, stepMs: 300, drainMs: 1000, size: 32 },
    idle: { clients: 5, settleMs: 100, cpuWindowMs: 200 },
    storm: { clients: 5, timeoutMs: 10_000, quietMs: 1500 },
    stream: { clients: 3, tokens: 40, rate: 200, reconnects: 1, dropAtToken: 10, awayMs: 50 },
  },
};

export function presetOptions(mode: Mode, overrides: Partial<BenchOptions> = {}): BenchOptions {
  return {
    mode,
    targets: [...TARGETS],
    scenarios: [...SCENARIOS],
    outDir: 'bench-results',
    profile: false,
    verbose: true,
    repeat: 1,
    parallel: false,
    ...structuredClone(PRESETS[mode]),
    ...overrides,
  };
}

const HELP = `pnpm bench [--quick] [--targets a,b] [--scenarios latency,echo,fanout,idle,stream,storm] [--repeat N] [--parallel] [--profile] [--out DIR]
  --quick      small sizes, whole run under a minute
  --targets    agent-bridge, raw-relay, socket.io, agent-bridge-cluster (default: these four; the cluster = 2 brokers + 2 web servers
               + a private redis-server, or BENCH_REDIS_URL; tiny sizes in --quick; "not measured" without Redis);
               agent-bridge-cluster-noacks = the cluster with §8 acks off; agent-bridge-noacks = §8 acks off
               (SDK acks:false, client messages without ids), to price them: --targets agent-bridge,agent-bridge-noacks --scenarios echo;
               agent-bridge-bare = metrics and
               trace context off, to price them: --targets agent-bridge,agent-bridge-bare --scenarios echo,fanout
  --scenarios  default: all
  --repeat     rounds per scenario, fresh processes each round, targets in alternating order (A B, B A, …); the cost tables give medians
  --parallel   the targets of a round at the same time (A/B pricing on a shared machine: read the ratios)
  --profile    CPU-profile the servers during the echo window, the fan-out ramp and the measured stream replies (writes *.cpuprofile)
  --out        results directory (default bench-results)
Every process runs bundled as pnpm build bundles the services (BENCH_SOURCE=1: the TypeScript through tsx).`;

export function parseArgs(argv: string[]): BenchOptions | { help: string } {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') continue;
    if (!a.startsWith('--')) return { help: `unexpected argument ${a}\n${HELP}` };
    const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (v !== undefined) flags.set(k, v);
    else if (['targets', 'scenarios', 'out', 'repeat'].includes(k)) flags.set(k, argv[++i] ?? '');
    else flags.set(k, true);
  }
  if (flags.has('help')) return { help: HELP };
  const o = presetOptions(flags.has('quick') ? 'quick' : flags.has('tiny') ? 'tiny' : 'full');
  const list = (k: string) => String(flags.get(k)).split(',').map((s) => s.trim()).filter(Boolean);
  if (flags.has('targets')) {
    const t = list('targets');
    const bad = t.filter((x) => !(ALL_TARGETS as string[]).includes(x));
    if (bad.length) return { help: `unknown target ${bad.join(', ')}\n${HELP}` };
    o.targets = t as TargetName[];
  }
  if (flags.has('scenarios')) {
    const s = list('scenarios');
    const bad = s.filter((x) => !(SCENARIOS as readonly string[]).includes(x));
    if (bad.length) return { help: `unknown scenario ${bad.join(', ')}\n${HELP}` };
    o.scenarios = s as ScenarioName[];
  }
  if (flags.has('out')) o.outDir = String(flags.get('out'));
  o.profile = flags.has('profile');
  o.parallel = flags.has('parallel');
  if (flags.has('repeat')) {
    const n = Number(flags.get('repeat'));
    if (!Number.isInteger(n) || n < 1 || n > 20) return { help: `--repeat takes a whole number from 1 to 20\n${HELP}` };
    o.repeat = n;
  }
  for (const k of flags.keys()) {
    if (!['quick', 'tiny', 'targets', 'scenarios', 'out', 'profile', 'repeat', 'parallel'].includes(k)) return { help: `unknown option --${k}\n${HELP}` };
  }
  return o;
}
