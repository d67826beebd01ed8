import { Component, lazy, Suspense, type ReactNode } from 'react';
import { ChatView } from './chat/ChatView.tsx';
import { StatusBar } from './layout/StatusBar.tsx';
import { NotFound } from './layout/NotFound.tsx';
import { DEFAULT_AGENT } from '@agent-bridge/common/protocol';
import { chatAgentOf, usePath } from './router.tsx';
import { StaticCreature } from './scene/StaticCreature.tsx';
import { useConversation } from './store/context.tsx';
import { TerminalView } from './terminal/TerminalView.tsx';

// three.js is the largest thing we ship: fetch it after the terminal is usable.
const SceneView = lazy(() => import('./scene/Scene.tsx'));
// The ops view (issue 15): its own chunk, never linked; its data needs OPS_TOKEN.
const OpsPage = lazy(() => import('./ops/OpsPage.tsx').then((m) => ({ default: m.OpsPage })));

/** If the 3D chunk fails to load, keep the static creature rather than breaking the page. */
class SceneBoundary extends Component<{ fallback: ReactNode; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  override render() {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}

function Scene() {
  const { pulse, agents } = useConversation();
  const still = (
    <div className="scene" data-renderer="static">
      <StaticCreature pulse={pulse} peers={agents.length + 1} />
    </div>
  );
  return (
    <SceneBoundary fallback={still}>
      <Suspense fallback={still}>
        <SceneView />
      </Suspense>
    </SceneBoundary>
  );
}

function Home() {
  return (
    <main className="layout-home">
      <section className="panel panel-terminal" aria-label="Terminal">
        <TerminalView />
      </section>
      <aside className="side">
        <section className="panel panel-scene" aria-label="Scene">
          <Scene />
        </section>
        <section className="panel panel-chat">
          <ChatView />
        </section>
      </aside>
    </main>
  );
}

export function App() {
  const path = usePath();
  let view: ReactNode;
  switch (path) {
    case '/':
      view = <Home />;
      break;
    case '/ops':
      view = (
        <Suspense fallback={null}>
          <OpsPage />
        </Suspense>
      );
      break;
    case '/terminal':
      view = (
        <main className="layout-single">
          <section className="panel panel-terminal" aria-label="Terminal">
            <TerminalView />
          </section>
        </main>
      );
      break;
    default: {
      // `/chat` is the default agent's thread, `/chat/<name>` another agent's.
      const agent = chatAgentOf(path, DEFAULT_AGENT);
      view = agent ? (
        <main className="layout-single">
          <section className="panel panel-chat">
            <ChatView key={agent} agent={agent} autoFocus />
          </section>
        </main>
      ) : (
        <NotFound path={path} />
      );
    }
  }
  return (
    <div className="app">
      <StatusBar />
      {view}
    </div>
  );
}
