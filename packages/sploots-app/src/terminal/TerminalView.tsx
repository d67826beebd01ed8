/**
 * The terminal view: xterm.js with the DOM renderer (no WebGL addon) and screen-reader mode, so
 * its text is in the DOM for assistive technology and for tests.
 */
import { useEffect, useRef } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { useServices } from '../store/context.tsx';
import { LineEditor } from './line-editor.ts';
import { BANNER, PROMPT, PROMPT_TEXT } from './format.ts';
import { terminalFeed } from './feed.ts';

const THEME = {
  background: '#0b0f16',
  foreground: '#d6deeb',
  cursor: '#7fdbca',
  cursorAccent: '#0b0f16',
  selectionBackground: '#1d3b53',
  black: '#1b2230',
  red: '#ef5350',
  green: '#22da6e',
  yellow: '#ffca28',
  blue: '#82aaff',
  magenta: '#c792ea',
  cyan: '#21c7a8',
  white: '#d6deeb',
  brightBlack: '#637777',
  brightRed: '#ff6e6e',
  brightGreen: '#4ee28c',
  brightYellow: '#ffd866',
  brightBlue: '#a5c4ff',
  brightMagenta: '#dcb0ff',
  brightCyan: '#7fdbca',
  brightWhite: '#ffffff',
  scrollbarSliderBackground: 'rgba(42, 56, 80, 0.6)',
  scrollbarSliderHoverBackground: 'rgba(60, 80, 110, 0.8)',
  scrollbarSliderActiveBackground: 'rgba(80, 100, 135, 0.9)',
};

export function TerminalView({ autoFocus = true }: { autoFocus?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const { conversation } = useServices();

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const term = new Terminal({
      screenReaderMode: true,
      convertEol: true,
      cursorBlink: true,
      fontFamily: '"JetBrains Mono", "Fira Code", ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 14,
      lineHeight: 1.15,
      scrollback: 5000,
      theme: THEME,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    const refit = () => {
      try {
        fit.fit();
      } catch {
        /* not laid out yet */
      }
    };
    refit();

    const { render, onInterrupt, onLine, history } = terminalFeed(conversation, () => editor, () => term.clear());
    const editor = new LineEditor({
      write: (d) => term.write(d),
      cols: () => term.cols,
      prompt: PROMPT,
      promptWidth: PROMPT_TEXT.length,
      // Recalled lines are redrawn as typed: no control characters from storage or the chat box.
      history,
      onLine,
      onInterrupt,
    });

    term.writeln(BANNER);
    render(true);
    editor.start();

    const unsubscribe = conversation.subscribe(() => render(false));
    const input = term.onData((d) => editor.handle(d));

    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(refit);
    });
    observer.observe(el);
    if (autoFocus) term.focus();

    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
      input.dispose();
      unsubscribe();
      term.dispose();
    };
  }, [conversation, autoFocus]);

  return <div className="terminal-host" ref={host} data-testid="terminal" />;
}
