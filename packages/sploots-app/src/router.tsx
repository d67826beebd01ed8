/** A router small enough to read: the path is external state, links push history entries. */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const NAVIGATE = 'sploots:navigate';

function subscribe(fn: () => void): () => void {
  window.addEventListener('popstate', fn);
  window.addEventListener(NAVIGATE, fn);
  return () => {
    window.removeEventListener('popstate', fn);
    window.removeEventListener(NAVIGATE, fn);
  };
}

function normalise(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => normalise(window.location.pathname));
}

export function navigate(to: string): void {
  if (to === window.location.pathname) return;
  window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATE));
}

export function Link({
  href,
  onClick,
  section = false,
  ...rest
}: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; /** Current for sub-paths too (`/chat` on `/chat/echo`). */ section?: boolean }) {
  const path = usePath();
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    // Let the browser handle new-tab clicks and the like.
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} aria-current={path === href || (section && path.startsWith(`${href}/`)) ? 'page' : undefined} {...rest} />;
}

/** `/chat` → the default agent, `/chat/<name>` → that agent, anything else → undefined. */
export function chatAgentOf(path: string, defaultAgent: string): string | null | undefined {
  if (path === '/chat') return defaultAgent;
  if (!path.startsWith('/chat/')) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(path.slice('/chat/'.length));
  } catch {
    return null;
  }
  // Agent names: 1–64 of A-Z a-z 0-9 . _ - (null: not a valid name, show not-found).
  return /^[A-Za-z0-9._-]{1,64}$/.test(name) ? name : null;
}

export function chatPath(agent: string, defaultAgent: string): string {
  return agent === defaultAgent ? '/chat' : `/chat/${encodeURIComponent(agent)}`;
}
