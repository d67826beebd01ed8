/**
 * `/ops`: the operator's view (issue 15 item 4). Not linked from anywhere an ordinary user sees;
 * it asks for the OPS_TOKEN, keeps it for this tab only, and polls `GET /api/ops` every few
 * seconds while the tab is visible.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { OpsEvent, OpsNode, OpsSnapshot } from '@agent-bridge/common/protocol';
import { fetchOps, loadToken, saveToken, type OpsResult } from './ops-api.ts';
import { formatValue, type Series } from './graph.ts';
import { LineGraph } from './LineGraph.tsx';
import './ops.css';

export const OPS_POLL_MS = 5000;

export function OpsPage({ fetchFn = fetch, pollMs = OPS_POLL_MS }: { fetchFn?: typeof fetch; pollMs?: number }) {
  const [token, setToken] = useState(loadToken);
  const [result, setResult] = useState<OpsResult | undefined>();
  const [loading, setLoading] = useState(false);
  const abort = useRef<AbortController | undefined>(undefined);

  const load = useCallback(
    async (t: string) => {
      abort.current?.abort();
      const ctl = new AbortController();
      abort.current = ctl;
      setLoading(true);
      const r = await fetchOps(t, fetchFn, ctl.signal);
      if (ctl.signal.aborted) return;
      setLoading(false);
      setResult(r);
      // A refused token is forgotten, so a reload asks again instead of failing again.
      if (!r.ok && r.reason === 'unauthorized') {
        saveToken('');
        setToken('');
      }
    },
    [fetchFn],
  );

  useEffect(() => {
    if (!token) return;
    void load(token);
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load(token);
    }, pollMs);
    return () => {
      clearInterval(timer);
      abort.current?.abort();
    };
  }, [token, load, pollMs]);

  if (!token) return <TokenForm error={result && !result.ok ? result.message : undefined} onToken={(t) => (saveToken(t), setToken(t))} />;

  return (
    <main className="ops" data-testid="ops-page">
      <header className="ops-head">
        <h1>Operations</h1>
        <span className="ops-muted" aria-live="polite">
          {loading && !result ? 'loading…' : result?.ok ? `updated ${new Date(result.snapshot.generatedAt).toLocaleTimeString()}` : ''}
        </span>
        <button type="button" onClick={() => (saveToken(''), setToken(''), setResult(undefined))}>
          Forget token
        </button>
      </header>
      {result && !result.ok && (
        <p role="alert" className="ops-error">
          {result.message}
        </p>
      )}
      {result?.ok && <Snapshot snapshot={result.snapshot} />}
    </main>
  );
}

function TokenForm({ onToken, error }: { onToken: (t: string) => void; error?: string | undefined }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onToken(value.trim());
  };
  return (
    <main className="ops ops-login" data-testid="ops-login">
      <form onSubmit={submit}>
        <h1>Operations</h1>
        <label htmlFor="ops-token">Ops token</label>
        <input id="ops-token" type="password" autoComplete="off" spellCheck={false} value={value} onChange={(e) => setValue(e.target.value)} />
        <button type="submit">Open</button>
        {error && (
          <p role="alert" className="ops-error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

/** The snapshot's rendering, apart from fetching (exported for tests). */
export function Snapshot({ snapshot }: { snapshot: OpsSnapshot }) {
  const brokers = snapshot.nodes.filter((n) => n.service === 'broker');
  const sum = (pick: (n: OpsNode) => number | undefined) => snapshot.nodes.reduce((s, n) => s + (pick(n) ?? 0), 0);
  const frames: Series[] = snapshot.nodes.map((n) => ({ label: nodeLabel(n), points: n.history.map((h) => ({ t: h.t, v: h.framesInPerSec })) }));
  const latency: Series[] = brokers.map((n) => ({ label: `${nodeLabel(n)} p99`, points: n.history.map((h) => ({ t: h.t, v: h.deliveryP99Ms })) }));
  return (
    <>
      <section className="ops-cards" aria-label="Summary">
        <Card label="nodes ready" value={`${snapshot.nodes.filter((n) => n.ready).length} / ${snapshot.nodes.length}`} bad={snapshot.nodes.some((n) => !n.ready)} />
        <Card label="browser sockets" value={formatValue(sum((n) => (n.service === 'web' ? n.connections.client : 0)))} />
        <Card label="agent connections" value={formatValue(sum((n) => n.connections.agent))} />
        <Card label="sessions connected" value={formatValue(sum((n) => n.sessions?.connected))} />
        <Card label="sessions detached" value={formatValue(sum((n) => n.sessions?.detached))} />
        <Card label="frames/s in" value={formatValue(sum((n) => n.now.framesInPerSec ?? 0))} />
        <Card label="delivery p99" value={maxOf(brokers.map((n) => n.now.deliveryP99Ms))} />
      </section>
      {snapshot.unreachable.length > 0 && (
        <p role="alert" className="ops-error">
          Not reachable: {snapshot.unreachable.map((u) => `${u.node} (${u.error})`).join(', ')}
        </p>
      )}
      <section className="ops-graphs">
        <LineGraph title="Frames received per second" unit="frames/s" series={frames} />
        <LineGraph title="Delivery latency, broker in → socket out" unit="ms" series={latency} />
      </section>
      <AgentsTable nodes={brokers} />
      <section className="ops-nodes">
        <h2>Nodes</h2>
        {snapshot.nodes.map((n) => (
          <NodeDetails key={`${n.service}:${n.nodeId}`} node={n} />
        ))}
      </section>
    </>
  );
}

function Card({ label, value, bad }: { label: string; value: string; bad?: boolean }) {
  return (
    <div className={`ops-card${bad ? ' ops-bad' : ''}`}>
      <div className="ops-card-value">{value}</div>
      <div className="ops-muted">{label}</div>
    </div>
  );
}

/** Agents and pools, and the wait queues of names nobody serves: one row per name across brokers. */
function AgentsTable({ nodes }: { nodes: OpsNode[] }) {
  const byName = new Map<string, { connections: number; waiting: number }>();
  for (const n of nodes)
    for (const a of n.agents ?? []) {
      const row = byName.get(a.name) ?? { connections: 0, waiting: 0 };
      row.connections += a.connections;
      row.waiting += a.waiting;
      byName.set(a.name, row);
    }
  const rows = [...byName].sort(([a], [b]) => a.localeCompare(b));
  return (
    <section>
      <h2>Agents and wait queues</h2>
      {rows.length === 0 ? (
        <p className="ops-muted">No agent connected and nothing waiting.</p>
      ) : (
        <table className="ops-table">
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">connections</th>
              <th scope="col">waiting messages</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([name, r]) => (
              <tr key={name} className={r.connections === 0 && r.waiting > 0 ? 'ops-bad' : undefined}>
                <th scope="row">{name}</th>
                <td>{r.connections}</td>
                <td>{r.waiting}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function NodeDetails({ node }: { node: OpsNode }) {
  return (
    <details className="ops-node" open={!node.ready}>
      <summary>
        <span className={node.ready ? 'ops-ok' : 'ops-bad'}>{node.ready ? 'ready' : 'not ready'}</span> {nodeLabel(node)} · up{' '}
        {formatDuration(node.uptimeS)} · {Object.entries(node.connections).map(([k, v]) => `${k} ${v}`).join(', ')}
      </summary>
      {!node.ready && node.reasons.length > 0 && <p className="ops-error">{node.reasons.join('; ')}</p>}
      <EventTable title="Recent errors" events={node.recentErrors} />
      <EventTable title="Recent closes" events={node.recentCloses} />
    </details>
  );
}

function EventTable({ title, events }: { title: string; events: OpsEvent[] }) {
  return (
    <>
      <h3>{title}</h3>
      {events.length === 0 ? (
        <p className="ops-muted">none</p>
      ) : (
        <table className="ops-table">
          <thead>
            <tr>
              <th scope="col">time</th>
              <th scope="col">code</th>
              <th scope="col">kind</th>
              <th scope="col">agent</th>
              <th scope="col">trace id</th>
              <th scope="col">detail</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: events carry no id; the list is replaced whole on every poll
              <tr key={i}>
                <td>{new Date(e.ts).toLocaleTimeString()}</td>
                <td>
                  <code>{e.code}</code>
                </td>
                <td>{e.kind}</td>
                <td>{e.agent ?? ''}</td>
                <td>{e.traceId ? <code>{e.traceId}</code> : ''}</td>
                <td>{e.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

const nodeLabel = (n: OpsNode) => `${n.service} ${n.nodeId}`;

function maxOf(values: Array<number | null>): string {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? `${formatValue(Math.max(...known))} ms` : '–';
}

function formatDuration(s: number): string {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
