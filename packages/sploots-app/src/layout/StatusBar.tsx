/** Always visible: where the connection stands, whether the agent is there, who is signed in. */
import { useEffect, useState } from 'react';
import { DEFAULT_AGENT } from '@agent-bridge/common/protocol';
import type { BridgeStatus } from '@agent-bridge/browser-client';
import { useMeta, useServices } from '../store/context.tsx';
import { chatAgentOf, Link, usePath } from '../router.tsx';
import { SignInButton } from '../siwe/SignInButton.tsx';

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

function describe(status: BridgeStatus, now: number): { text: string; tone: string } {
  switch (status.state) {
    case 'connecting':
      return { text: 'connecting…', tone: 'warn' };
    case 'connected':
      return { text: 'connected', tone: 'ok' };
    case 'reconnecting': {
      const s = Math.max(0, Math.ceil((status.at - now) / 1000));
      return { text: s > 0 ? `reconnecting in ${s} s` : 'reconnecting…', tone: 'warn' };
    }
    case 'offline':
      return { text: status.refusal ? 'refused' : 'offline', tone: 'bad' };
  }
}

export function StatusBar() {
  const { client, conversation } = useServices();
  const { status, agents, gap } = useMeta();
  const now = useNow(status.state === 'reconnecting');
  const conn = describe(status, now);
  // On an agent's chat thread, that agent's presence; elsewhere the default agent's.
  const agent = chatAgentOf(usePath(), DEFAULT_AGENT) ?? DEFAULT_AGENT;
  const agentOnline = agents.includes(agent);
  const showAgent = status.state === 'connected';

  return (
    <header className="statusbar">
      <Link href="/" className="brand">
        <span className="brand-dot" aria-hidden="true" />
        Sploots
      </Link>
      <nav className="nav" aria-label="Views">
        <Link href="/">All</Link>
        <Link href="/terminal">Terminal</Link>
        <Link href="/chat" section>
          Chat
        </Link>
      </nav>
      <div className="status" role="status" data-testid="status" data-state={status.state}>
        <span className={`pill pill-${conn.tone}`} data-testid="connection">
          {conn.text}
        </span>
        {showAgent && (
          <span className={`pill pill-${agentOnline ? 'ok' : 'bad'}`} data-testid="agent-status" data-agent={agent} title={`agent ${agent}`}>
            {agentOnline ? 'agent online' : 'agent offline'}
          </span>
        )}
        {status.state === 'offline' && !status.refusal && <span className="status-note">{status.reason}</span>}
        {gap && (
          <button type="button" className="pill pill-warn gap" onClick={() => conversation.dismissGap()} title="Dismiss">
            some messages may be missing ✕
          </button>
        )}
      </div>
      <div className="account">
        <SignInButton client={client} />
      </div>
      {status.state === 'offline' && status.refusal && (
        // A refused upgrade does not heal by waiting: say why and what to do, instead of "reconnecting".
        <div className="refusal" role="alert" data-testid="refusal" data-status={status.refusal.status}>
          <strong>Not connected: the server refused this page ({status.refusal.status} {status.refusal.code}).</strong>{' '}
          {status.refusal.message && <span className="refusal-message">{status.refusal.message}. </span>}
          <span className="refusal-hint">{status.refusal.hint}</span>
        </div>
      )}
    </header>
  );
}
