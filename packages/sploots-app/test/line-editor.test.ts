import { describe, expect, it } from 'vitest';
import { LineEditor } from '../src/terminal/line-editor.ts';
import { stripAnsi } from '../src/ansi.ts';

function editor(history: string[] = []) {
  const lines: string[] = [];
  let out = '';
  const ed = new LineEditor({ write: (d) => (out += d), cols: () => 20, prompt: '> ', promptWidth: 2, onLine: (l) => lines.push(l), history });
  ed.start();
  return { ed, lines, out: () => out };
}

describe('LineEditor', () => {
  it('inserts at the cursor, deletes with backspace and submits on Enter', () => {
    const { ed, lines } = editor();
    ed.handle('helo');
    ed.handle('\x1b[D');
    ed.handle('l');
    expect(ed.line).toBe('hello');
    expect(ed.cursorPos).toBe(4);
    ed.handle('\x1b[C\x7f\x7f');
    expect(ed.line).toBe('hel');
    ed.handle('\r');
    expect(lines).toEqual(['hel']);
    expect(ed.line).toBe('');
  });

  it('walks the history with up/down and keeps the draft', () => {
    const { ed, lines } = editor(['one', 'two']);
    ed.handle('dr');
    ed.handle('\x1b[A');
    expect(ed.line).toBe('two');
    ed.handle('\x1b[A\x1b[A');
    expect(ed.line).toBe('one');
    ed.handle('\x1b[B\x1b[B');
    expect(ed.line).toBe('dr');
    ed.handle('\x1b[A\r');
    expect(lines).toEqual(['two']);
  });

  it('Ctrl+C clears the line without sending; a paste with newlines sends each line', () => {
    const { ed, lines, out } = editor();
    ed.handle('oops\x03');
    expect(ed.line).toBe('');
    expect(out()).toContain('^C');
    ed.handle('a\r\nb\r');
    expect(lines).toEqual(['a', 'b']);
  });

  it('moves the cursor up across a wrapped line', () => {
    const { ed, out } = editor();
    ed.handle('x'.repeat(30)); // prompt 2 + 30 = 32 columns: two rows of 20
    const before = out().length;
    ed.handle('\x1b[H'); // Home: back to column 2 of the first row
    expect(out().slice(before)).toContain('\x1b[1A');
    expect(ed.cursorPos).toBe(0);
  });
});

describe('stripAnsi', () => {
  it('drops colour codes', () => {
    expect(stripAnsi('\x1b[1mcommands:\x1b[0m \x1b[2mdim\x1b[0m')).toBe('commands: dim');
  });
});
