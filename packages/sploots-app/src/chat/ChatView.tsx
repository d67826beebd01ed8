/** The conversation as chat bubbles; the same store as the terminal. */
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { stripAnsi } from '../ansi.ts';
import { useConversation, useServices } from '../store/context.tsx';
import type { Entry } from '../store/entry.ts';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function Message({ e }: { e: Entry }) {
  const time = new Date(e.ts);
  return (
    <li className={`msg msg-${e.kind}`} data-kind={e.kind}>
      <div className="msg-meta">
        <span className="msg-from">{e.from}</span>
        <time dateTime={time.toISOString()}>{timeFormat.format(time)}</time>
      </div>
      <div className="msg-text">{stripAnsi(e.text)}</div>
    </li>
  );
}

export function ChatView({ autoFocus = false }: { autoFocus?: boolean }) {
  const { conversation } = useServices();
  const { entries } = useConversation();
  const [draft, setDraft] = useState('');
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);

  // Follow new messages unless the person scrolled up to read.
  useEffect(() => {
    const el = list.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [entries]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const text = draft.trim();
    if (!text) return;
    conversation.send(text, 'chat');
    setDraft('');
    stick.current = true;
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter sends; Shift+Enter is a new line.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <section className="chat" aria-label="Chat">
      <ol
        className="chat-list"
        ref={list}
        data-testid="chat-list"
        aria-live="polite"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {entries.length === 0 && <li className="chat-empty">No messages yet. Say hello, or try “help”.</li>}
        {entries.map((e) => (
          <Message key={e.key} e={e} />
        ))}
      </ol>
      <form className="chat-form" onSubmit={submit}>
        <textarea
          className="chat-input"
          data-testid="chat-input"
          aria-label="Message"
          placeholder="Message the agent…"
          title="Enter sends; Shift+Enter adds a line"
          rows={1}
          value={draft}
          autoFocus={autoFocus}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="chat-send" disabled={!draft.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}
