// The children of a script (services, vite, vitest …), and how they all stop.
//
// Each child runs in its own process group (detached), so a terminal's Ctrl-C reaches only the
// script, which then stops every group itself: SIGTERM to the whole group (tsx watch *and* the
// service under it, vite *and* its workers), SIGKILL to whatever is left after a deadline, then
// one calm line. The script also stops when its parent goes away without telling it (pnpm exits
// on SIGHUP without passing it on), so nothing is left running behind a closed terminal.
import { spawn } from 'node:child_process';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class Supervisor {
  /** @param {{ name: string, graceMs?: number }} opts */
  constructor({ name, graceMs = 3500 }) {
    this.name = name;
    this.graceMs = graceMs;
    /** @type {Set<import('node:child_process').ChildProcess>} */
    this.children = new Set();
    this.stopping = false;
    /** Once stopping, children's output is not relayed (their goodbyes are not news). */
    this.quiet = false;
  }

  /**
   * Start a child in its own process group. `onLine(line)` gets each output line (the child
   * also emits it as a 'line' event); without it output is passed through unchanged.
   * @returns {import('node:child_process').ChildProcess}
   */
  spawn(cmd, args, { cwd, env, onLine, inherit = false } = {}) {
    // `inherit`: the child writes to our terminal itself (vitest keeps its colours and progress).
    const stdio = inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'];
    const child = spawn(cmd, args, { cwd, env, stdio, detached: true });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.on('error', () => this.children.delete(child));
    if (inherit) return child;
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      let buf = '';
      stream.on('data', (d) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          child.emit('line', line);
          if (this.quiet) continue;
          if (onLine) onLine(line, out === process.stdout ? 'stdout' : 'stderr');
          else out.write(`${line}\n`);
        }
      });
    }
    return child;
  }

  /** Stop every child's group: SIGTERM, then SIGKILL after graceMs. Resolves when all are gone. */
  async stopAll() {
    this.quiet = true;
    const groups = [...this.children].map((c) => c.pid).filter(Boolean);
    for (const pid of groups) signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + this.graceMs;
    while (groups.some(groupAlive) && Date.now() < deadline) await sleep(50);
    const stragglers = groups.filter(groupAlive);
    for (const pid of stragglers) signalGroup(pid, 'SIGKILL');
    while (groups.some(groupAlive)) await sleep(20);
    return stragglers.length;
  }

  /**
   * On SIGINT/SIGTERM/SIGHUP (or the parent's death): stop everything, print one line, exit 0.
   * `stopped(signal)` may return a different line.
   */
  handleSignals(line = (signal) => `${this.name}: stopped (${signal})`) {
    const stop = (signal) => {
      if (this.stopping) return;
      this.stopping = true;
      this.stopAll().then(
        () => {
          process.stderr.write(`${line(signal)}\n`);
          process.exit(0);
        },
        () => process.exit(1),
      );
    };
    for (const signal of STOP_SIGNALS) process.on(signal, () => stop(signal));
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop('SIGHUP');
    }, 250).unref();
  }

  /** Stop everything after a failure: print `message` (one line) and exit with `code`. */
  async fail(message, code = 1) {
    if (this.stopping) return;
    this.stopping = true;
    await this.stopAll();
    process.stderr.write(`${message}\n`);
    process.exit(code);
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolve with the first line of `child` matching `ready`; reject with the line itself when one
 * matches `failed` first, or when the child exits before either.
 */
export function waitForLine(child, ready, failed, what) {
  return new Promise((resolve, reject) => {
    const onLine = (line) => {
      if (failed?.test(line)) done(reject, new Error(line));
      else if (ready.test(line)) done(resolve, line);
    };
    const onExit = (code) => done(reject, new Error(`${what} exited (${code}) before it was ready`));
    const done = (fn, v) => {
      child.off('line', onLine);
      child.off('exit', onExit);
      fn(v);
    };
    child.on('line', onLine);
    child.on('exit', onExit);
  });
}
