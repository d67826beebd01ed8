/**
 * The bench run: start every target's processes, run each scenario against each target in turn
 * (interleaved, so background load on a shared machine hits all alike), write results, end
 * every child whatever happens.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { killAllChildren, REPO_ROOT } from './child.ts';
import { hardFdLimit, machineInfo } from './machine.ts';
import type { BenchOptions, ScenarioName } from './options.ts';
import { markdownTable, processTable, type ResultLine } from './report.ts';
import { echo, latency } from './scenarios/echo.ts';
import { fanout } from './scenarios/fanout.ts';
import { idle } from './scenarios/idle.ts';
import { storm } from './scenarios/storm.ts';
import { stream } from './scenarios/stream.ts';
import type { Scenario } from './scenarios/types.ts';
import { makeTopology, type Topology } from './targets/index.ts';

const RUNNERS: Record<ScenarioName, Scenario> = { latency, echo, fanout, idle, storm, stream };

export interface BenchRun {
  lines: ResultLine[];
  jsonlFile: string;
  markdown: string;
  errors: string[];
}

export async function runBench(opts: BenchOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<BenchRun> {
  const log = (m: string) => opts.verbose && process.stderr.write(`${m}\n`);
  const outDir = path.resolve(REPO_ROOT, opts.outDir);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logDir = path.join(outDir, 'logs', stamp);
  mkdirSync(logDir, { recursive: true });
  opts = { ...opts, outDir };
  const jsonlFile = path.join(outDir, `${stamp}-${opts.mode}.jsonl`);
  // The web server holds two sockets per client: keep the idle population within the fd limit.
  const hard = hardFdLimit() ?? 1024;
  const fdCap = Math.floor((hard - 400) / 2);
  const capped = opts.idle.clients > fdCap;
  if (capped) opts = { ...opts, idle: { ...opts.idle, clients: fdCap } };
  const maxClients = Math.max(opts.idle.clients, opts.storm.clients, opts.fanout.clients, opts.echo.clients, opts.stream.clients);
  const lines: ResultLine[] = [];
  const errors: string[] = [];
  /** Target × scenario pairs a target does not run here (e.g. the cluster targets without Redis). */
  const notMeasured: string[] = [];
  const topologies: Topology[] = [];
  const onSigint = () => {
    log('interrupted: stopping every child');
    killAllChildren();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  try {
    for (const name of opts.targets) {
      const topo = makeTopology(name, { logDir: path.join(logDir, name), maxClients });
      mkdirSync(path.join(logDir, name), { recursive: true });
      topologies.push(topo);
      log(`starting ${name}`);
      await topo.start();
    }
    const broken = new Set<Topology>();
    for (const scenario of opts.scenarios) {
      for (let round = 1; round <= opts.repeat; round++) {
        // Every other round in reverse order (A B, B A, …): drift in the machine's load falls on both sides.
        const order = round % 2 === 1 ? topologies : [...topologies].reverse();
        if (round > 1) {
          // Fresh processes per round: a process's own luck (what V8 inlined, its heap's layout)
          // lasts as long as the process, so rounds on the same processes are not independent
          // samples (two identical targets differed by a steady 5 % over four rounds).
          log(`restarting ${topologies.map((t) => t.name).join(', ')} for round ${round}`);
          await Promise.all(topologies.map((t) => t.stop().catch(() => undefined)));
          // Started in this round's order too: in an A/A run the target started second was
          // steadily ~2 µs per round trip dearer in the broker when the start order never changed.
          for (const t of order) {
            if (broken.has(t)) continue;
            try {
              await t.start();
            } catch (err) {
              const msg = `restarting ${t.name} for round ${round} failed: ${err instanceof Error ? err.message : String(err)}`;
              errors.push(msg);
              log(msg);
              broken.add(t);
            }
          }
        }
        const runOne = async (topo: Topology): Promise<void> => {
          if (broken.has(topo)) return;
          const skip = topo.notMeasured(scenario);
          if (skip) {
            if (round === 1) notMeasured.push(`${scenario} × ${topo.name}: not measured (${skip})`);
            process.stderr.write(`${scenario} × ${topo.name}: not measured (${skip})\n`);
            return;
          }
          log(`${scenario} × ${topo.name}${opts.repeat > 1 ? ` (round ${round}/${opts.repeat})` : ''}`);
          try {
            const r = await (topo.runner(scenario) ?? RUNNERS[scenario])({ topo, opts, log, round });
            if (scenario === 'idle' && capped) r.notes.push(`idle clients capped at ${fdCap} by the open-files limit (${hard}): the web server holds 2 sockets per client`);
            if (opts.parallel && order.length > 1) r.notes.push(`ran at the same time as ${order.filter((t) => t !== topo).map((t) => t.name).join(', ')} (--parallel): read the ratio, not the figure`);
            const line: ResultLine = {
              ts: new Date().toISOString(),
              mode: opts.mode,
              target: topo.name,
              topology: topo.note,
              ...(opts.repeat > 1 ? { round } : {}),
              ...(opts.parallel ? { parallel: true } : {}),
              ...r,
              machine: machineInfo(),
            };
            lines.push(line);
            const text = JSON.stringify(line);
            out(text);
            appendFileSync(jsonlFile, `${text}\n`);
          } catch (err) {
            const msg = `${scenario} × ${topo.name} failed: ${err instanceof Error ? err.message : String(err)}`;
            errors.push(msg);
            log(msg);
            // A broken topology stays broken: drop it from later scenarios.
            if (!topo.all.every((c) => c.running)) broken.add(topo);
          }
        };
        if (opts.parallel) await Promise.all(order.map(runOne));
        else for (const topo of order) await runOne(topo);
      }
    }
  } finally {
    await Promise.all(topologies.map((t) => t.stop().catch(() => undefined)));
    killAllChildren();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  const markdown = [markdownTable(lines), ...(notMeasured.length ? ['', ...notMeasured] : [])].join('\n');
  appendFileSync(jsonlFile.replace(/\.jsonl$/, '.md'), `${markdown}\n\nPer process (CPU per op: per round trip in echo/latency, per delivery in fan-out, per connect in idle):\n\n${processTable(lines)}\n`);
  return { lines, jsonlFile, markdown, errors };
}
