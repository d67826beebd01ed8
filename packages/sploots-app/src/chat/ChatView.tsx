/**
 * The chat: one thread per agent name (the agent picker switches between them), replies streamed
 * in as markdown, tool-call and approval cards, and Stop while a run is active. The same store as
 * the terminal.
 *
 * Accessibility: the thread is a `role="log"` (new rows are announced politely); a row that is
 * still streaming is `aria-busy`, so a screen reader reads the reply once it is complete instead
 * of every token.
 */
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { DEFAULT_AGENT } from '@agent-bridge/common/protocol';
import { chatPath, Link } from '../router.tsx';
import { useActiveRun, useKnownAgents, useOnline, useServices, useStopping, useThread } from '../store/context.tsx';
import { loadMarkdown, MessageRow } from './MessageRow.tsx';

/** Words the demo agent answers, offered on an empty thread (each sends itself). */
const SUGGESTIONS = ['help', 'story', 'weather Oslo', 'transfer 5'];

function AgentLink({ name, current }: { name: string; current: boolean }) {
  const online = useOnline(name);
  return (
    <li>
      <Link href={chatPath(name, DEFAULT_AGENT)} className="agent-link" data-agent={name} data-online={online} aria-current={current ? 'page' : undefined}>
        <span className={`presence presence-${online ? 'on' : 'off'}`} aria-hidden="true" />
        {name}
        <span className="sr-only">{online ? ' (online)' : ' (offline)'}</span>
      </Link>
    </li>
  );
}

export function AgentPicker({ current }: { current: string }) {
  const known = useKnownAgents();
  const names = known.includes(current) ? known : [...known, current];
  return (
    <nav className="agent-picker" aria-label="Agents" data-testid="agent-picker">
      <ul>
        {names.map((n) => (
          <AgentLink key={n} name={n} current={n === current} />
        ))}
      </ul>
    </nav>
  );
}

function Thread({ agent, onSuggest }: { agent: string; onSuggest: (text: string) => void }) {
  const ids = useThread(agent);
  const list = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  // Follow the conversation (new rows, and a reply growing) unless the person scrolled up to read.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new agent's thread starts at its bottom
  useEffect(() => {
    const el = list.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    let frame = 0;
    const follow = new MutationObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (stick.current) el.scrollTop = el.scrollHeight;
      });
    });
    follow.observe(el, { childList: true, subtree: true, characterData: true });
    return () => {
      cancelAnimationFrame(frame);
      follow.disconnect();
    };
  }, [agent]);

  return (
    <div
      className="chat-list"
      ref={list}
      role="log"
      aria-label={`Conversation with ${agent}`}
      data-testid="chat-list"
      data-agent={agent}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (axe scrollable-region-focusable)
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {ids.length === 0 && (
        <div className="chat-empty">
          {agent === DEFAULT_AGENT ? (
            <>
              <p>No messages yet. Try one of these:</p>
              <p className="suggestions">
                {SUGGESTIONS.map((s) => (
                  <button key={s} type="button" className="suggestion" onClick={() => onSuggest(s)}>
                    {s}
                  </button>
                ))}
              </p>
            </>
          ) : (
            <p>No messages with {agent} yet. Say something, or try “help”.</p>
          )}
        </div>
      )}
      {ids.map((id) => (
        <MessageRow key={id} id={id} />
      ))}
    </div>
  );
}

export function ChatView({ agent = DEFAULT_AGENT, autoFocus = false }: { agent?: string; autoFocus?: boolean }) {
  const { conversation } = useServices();
  const [draft, setDraft] = useState('');
  const active = useActiveRun(agent);
  const stopping = useStopping(active);
  const input = useRef<HTMLTextAreaElement>(null);

  // The first reply should not wait for the markdown chunk.
  useEffect(() => {
    void loadMarkdown().catch(() => undefined);
  }, []);

  const send = (text: string) => {
    conversation.send(text, 'chat', agent);
    input.current?.focus();
  };

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const text = draft.trim();
    if (!text) return;
    send(text);
    setDraft('');
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter sends; Shift+Enter is a new line; Escape stops a streaming reply.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && active) {
      e.preventDefault();
      conversation.stop(agent);
    }
  };

  return (
    <section className="chat" aria-label="Chat">
      <AgentPicker current={agent} />
      <Thread agent={agent} onSuggest={send} />
      <form className="chat-form" onSubmit={submit}>
        <textarea
          ref={input}
          className="chat-input"
          data-testid="chat-input"
          aria-label={`Message ${agent}`}
          placeholder={`Message ${agent}…`}
          title="Enter sends; Shift+Enter adds a line; Escape stops a reply"
          rows={1}
          value={draft}
          autoFocus={autoFocus}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
        />
        {active && (
          <button type="button" className="chat-stop" data-testid="chat-stop" onClick={() => conversation.stop(agent)} disabled={stopping}>
            {stopping ? 'Stopping…' : 'Stop'}
          </button>
        )}
        <button type="submit" className="chat-send" disabled={!draft.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}
