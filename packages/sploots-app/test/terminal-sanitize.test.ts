// Remote text reaches xterm as plain text: only the terminal's own formatting is rendered (issue 9).
import { describe, expect, it } from 'vitest';
import { stripAnsi, stripControlSequences } from '../src/ansi.ts';
import { BANNER, PROMPT, formatRow } from '../src/terminal/format.ts';
import { LineEditor } from '../src/terminal/line-editor.ts';
import type { Row } from '../src/store/entry.ts';

/** The sequences of the finding and their relatives, with what must be left of each. */
const ATTACKS: [name: string, raw: string, clean: string][] = [
  ['screen clear + cursor home', '\x1b[2J\x1b[Hhello', 'hello'],
  ['erase line + cursor up', 'a\x1b[2K\x1b[1Ab', 'ab'],
  ['OSC 0 window title (BEL)', '\x1b]0;pwned\x07after', 'after'],
  ['OSC 2 title (ST)', '\x1b]2;pwned\x1b\\after', 'after'],
  ['OSC 8 hyperlink', '\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\', 'click me'],
  ['OSC 52 clipboard write', '\x1b]52;c;ZXZpbA==\x07x', 'x'],
  ['fake prompt with \\r', 'ok\rsploots> connect wallet at evil.example', 'oksploots> connect wallet at evil.example'],
  ['fake prompt with \\r\\n kept as a newline', 'line\r\nsploots> ', 'line\nsploots> '],
  ['DCS (DECRQSS)', '\x1bP$qm\x1b\\x', 'x'],
  ['APC / PM / SOS strings', '\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\y', 'y'],
  ['8-bit CSI and OSC', '\x9b2J\x9d0;t\x9cz', 'z'],
  ['colours (SGR) from a remote', '\x1b[31mred\x1b[0m \x1b[38;2;1;2;3mrgb\x1b[m', 'red rgb'],
  ['private modes (alt screen, hide cursor)', '\x1b[?1049h\x1b[?25lq', 'q'],
  ['reset, save/restore cursor, charset', '\x1bcR\x1b7S\x1b8\x1b(0T', 'RST'],
  ['bell, backspace, form feed, DEL, NUL, vertical tab', 'a\x07\x08\x0c\x7f\x00\x0bb', 'ab'],
  ['unterminated OSC swallows the rest', 'keep \x1b]0;title and everything after', 'keep '],
  ['lone ESC at the end', 'end\x1b', 'end'],
];

/** Our own sequences, as format.ts writes them. */
const OWN = /\x1b\[(?:0|1;32|2|31|33|36)m/g;
const ANY_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

type TextRow = Exclude<Row, { kind: 'run' }>;
const entry = ({ from = 'default', ...over }: { kind?: TextRow['kind']; from?: string; text?: string }): TextRow =>
  ({ id: 'k', kind: 'in', agent: from, text: '', ts: 0, ...over }) as TextRow;

describe('stripControlSequences', () => {
  it.each(ATTACKS)('%s', (_name, raw, clean) => {
    expect(stripControlSequences(raw)).toBe(clean);
  });

  it('keeps tab, newline and every printable character, unicode included', () => {
    const text = 'tab\there\nnext — é ü 日本語 🦀 ~!@#$%^&*()[]{};:\'",.<>/?\\|`';
    expect(stripControlSequences(text)).toBe(text);
  });

  it('stripAnsi (the chat) is the same strict filter', () => {
    expect(stripAnsi('\x1b[1mcommands:\x1b[0m \x1b]0;t\x07x\ry')).toBe('commands: xy');
  });
});

describe('formatRow: only our own formatting reaches xterm', () => {
  const kinds: TextRow['kind'][] = ['in', 'out', 'notice', 'error'];

  it('no entry kind lets a remote sequence through, for any of the attacks', () => {
    for (const [, raw, clean] of ATTACKS) {
      for (const kind of kinds) {
        for (const from of ['default', 'trader', `ev\x1b]0;x\x07il`]) {
          const out = formatRow(entry({ kind, from, text: raw }));
          const visible = out.replace(OWN, '');
          expect(visible, `${kind} ${JSON.stringify(raw)}`).not.toMatch(ANY_CONTROL);
          expect(visible).toContain(clean);
        }
      }
    }
  });

  it('an agent reply is written exactly as plain text', () => {
    expect(formatRow(entry({ text: '\x1b[2J\x1b[Hwelcome\rsploots> ' }))).toBe('welcomesploots> ');
    expect(formatRow(entry({ from: 'trader', text: '\x1b]8;;http://x/\x1b\\hi' }))).toBe('\x1b[36m[trader]\x1b[0m hi');
  });

  it('our own formatting is still there', () => {
    expect(formatRow(entry({ kind: 'error', text: 'rate_limited: slow down' }))).toBe('\x1b[31m! rate_limited: slow down\x1b[0m');
    expect(PROMPT).toContain('\x1b[1;32m');
    expect(BANNER).toContain('\x1b[36m');
  });
});

describe('LineEditor: a paste cannot smuggle controls into the echo', () => {
  it('drops C1 controls and unknown escape sequences from pasted input', () => {
    let out = '';
    const ed = new LineEditor({ write: (d) => (out += d), cols: () => 80, prompt: '> ', promptWidth: 2, onLine: () => undefined });
    ed.start();
    out = '';
    ed.handle('a\x9b2Jb\x1b]0;t\x07c');
    // The OSC introducer is skipped as a lone Escape; its text is typed, but no control is echoed.
    expect(ed.line).not.toMatch(ANY_CONTROL);
    // What the editor writes itself: CSI cursor moves, \r and \n. Nothing else may be a control.
    expect(out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/[\r\n]/g, '')).not.toMatch(ANY_CONTROL);
    expect(ed.line).toBe('a2Jb]0;tc');
  });
});
