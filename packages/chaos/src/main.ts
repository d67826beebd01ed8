/**
 * `pnpm chaos [--mode cluster|single] [--duration 60s] [--clients 4] [--kill-every 3s] [--seed N]
 *             [--max-kills N] [--kinds broker,web,agent] [--message-every 250ms] [--drain-timeout 90s]
 *             [--broker-signal SIGTERM|SIGKILL] [--redis-url URL] [--logs-dir DIR] [--json]`
 *
 * Exit code 0 when every message was delivered exactly once and in order or refused with a code;
 * 1 when anything was lost, duplicated or reordered (or the run could not drain); 2 on bad options.
 */
import { parseArgs } from 'node:util';
import { formatReport } from './report.ts';
import { newSeed } from './random.ts';
import { KILL_KINDS, runChaos, type KillKind, type Mode } from './run.ts';

const USAGE = `usage: pnpm chaos [--mode cluster|single] [--duration 60s] [--clients 4] [--kill-every 3s] [--seed N]
                  [--max-kills N] [--kinds broker,web,agent] [--message-every 250ms] [--drain-timeout 90s]
                  [--broker-signal SIGTERM|SIGKILL (single mode)] [--redis-url URL (cluster mode)]
                  [--logs-dir DIR] [--json]`;

/** "30s", "2m", "500ms" or a bare number of seconds → ms. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new Error(`not a duration: ${s}`);
  const v = Number(m[1]);
  return Math.round(m[2] === 'ms' ? v : m[2] === 'm' ? v * 60_000 : v * 1000);
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      mode: { type: 'string', default: 'cluster' },
      duration: { type: 'string', default: '60s' },
      clients: { type: 'string', default: '4' },
      'kill-every': { type: 'string', default: '3s' },
      seed: { type: 'string' },
      'max-kills': { type: 'string' },
      kinds: { type: 'string' },
      'message-every': { type: 'string', default: '250ms' },
      'drain-timeout': { type: 'string', default: '90s' },
      'broker-signal': { type: 'string', default: 'SIGTERM' },
      'logs-dir': { type: 'string' },
      'redis-url': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
}
try {
  args = parse();
} catch (err) {
  fail(String((err as Error).message));
}
const v = args.values;
if (v.help) {
  console.log(USAGE);
  process.exit(0);
}
if (v.mode !== 'cluster' && v.mode !== 'single') fail(`--mode must be cluster or single (got ${v.mode})`);
const int = (name: string, s: string | undefined, min: number): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer ≥ ${min} (got ${s})`);
  return n;
};
let durationMs = 0;
let killEveryMs = 0;
let messageEveryMs = 0;
let drainTimeoutMs = 0;
try {
  durationMs = parseDuration(v.duration!);
  killEveryMs = parseDuration(v['kill-every']!);
  messageEveryMs = parseDuration(v['message-every']!);
  drainTimeoutMs = parseDuration(v['drain-timeout']!);
} catch (err) {
  fail(String((err as Error).message));
}
if (killEveryMs < 200) fail('--kill-every must be at least 200ms');
if (messageEveryMs < 10) fail('--message-every must be at least 10ms');
const kinds = v.kinds?.split(',').map((k) => k.trim()) as KillKind[] | undefined;
if (kinds && (kinds.length === 0 || kinds.some((k) => !KILL_KINDS.includes(k)))) fail(`--kinds is a list of ${KILL_KINDS.join(', ')}`);
if (v['broker-signal'] !== 'SIGTERM' && v['broker-signal'] !== 'SIGKILL') fail('--broker-signal must be SIGTERM or SIGKILL');
const seed = int('seed', v.seed, 0) ?? newSeed();
const maxKills = int('max-kills', v['max-kills'], 0);

const json = v.json === true;
// Ctrl-C / SIGTERM: exit through process.exit, whose 'exit' hook SIGKILLs every broker and web
// server started (testkit); the agents leave when their IPC channel closes. (The run's Redis keys
// then expire by their TTLs instead of being deleted.)
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
const report = await runChaos({
  mode: v.mode as Mode,
  durationMs,
  clients: int('clients', v.clients, 1)!,
  killEveryMs,
  seed,
  ...(maxKills !== undefined ? { maxKills } : {}),
  ...(kinds ? { kinds } : {}),
  messageEveryMs,
  drainTimeoutMs,
  brokerSignal: v['broker-signal'] as 'SIGTERM' | 'SIGKILL',
  ...(v['logs-dir'] ? { logsDir: v['logs-dir'] } : {}),
  ...(v['redis-url'] ? { redisUrl: v['redis-url'] } : {}),
  // Progress on stderr, so --json output on stdout stays one document.
  log: (line) => console.error(line),
}).catch((err: unknown) => {
  // Could not set the run up (no Redis, a process that never started): one line, not a verdict.
  console.error(`chaos: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  process.exit(1);
});
console.log(json ? JSON.stringify(report, null, 2) : formatReport(report));
process.exit(report.ok ? 0 : 1);
