/**
 * Readline for xterm: a prompt, local echo, insertion at the cursor, history and Ctrl+C.
 * It only produces escape sequences through `write`, so it can be tested without a terminal.
 * Cursor arithmetic assumes one column per character (wide CJK/emoji may misplace the cursor).
 */
export interface LineEditorOptions {
  write: (data: string) => void;
  /** Terminal width in columns (read each time: the terminal resizes). */
  cols: () => number;
  /** The prompt as written (may contain colour codes) and its visible width. */
  prompt: string;
  promptWidth: number;
  onLine: (line: string) => void;
  history?: string[];
  historyLimit?: number;
  /** Ctrl+C, besides dropping the line (the terminal stops a streaming reply with it). */
  onInterrupt?: () => void;
}

/** Columns `text` takes once written (our own SGR colour codes take none). */
const visibleLength = (text: string): number => text.replace(/\x1b\[[0-9;]*m/g, '').length;

const KEY = {
  enter: '\r',
  newline: '\n',
  backspace: '\x7f',
  ctrlH: '\b',
  ctrlC: '\x03',
  ctrlA: '\x01',
  ctrlE: '\x05',
  ctrlU: '\x15',
  ctrlL: '\x0c',
  tab: '\t',
} as const;

const ESCAPE_SEQ = /^\x1b(?:\[[0-9;]*[A-Za-z~]|O[A-Za-z])/;

export class LineEditor {
  private buffer = '';
  private cursor = 0;
  private readonly history: string[];
  private historyIndex: number;
  private draft = '';
  /** Row of the terminal cursor inside the edit area, counted from the prompt's row. */
  private cursorRow = 0;
  /** The unfinished last line of streamed output above the prompt (rewritten with each chunk). */
  private pending = '';

  constructor(private readonly o: LineEditorOptions) {
    this.history = [...(o.history ?? [])];
    this.historyIndex = this.history.length;
  }

  get line(): string {
    return this.buffer;
  }

  get cursorPos(): number {
    return this.cursor;
  }

  /** Show the prompt (and whatever is being edited) on a fresh line. */
  start(): void {
    this.cursorRow = 0;
    this.render(false);
  }

  /** Feed `term.onData` input: keystrokes, escape sequences or a whole paste. */
  handle(data: string): void {
    let i = 0;
    while (i < data.length) {
      const ch = data[i]!;
      if (ch === '\x1b') {
        const m = ESCAPE_SEQ.exec(data.slice(i));
        if (m) {
          this.escape(m[0]);
          i += m[0].length;
        } else i++; // a lone Escape: ignore
        continue;
      }
      i++;
      switch (ch) {
        case KEY.enter:
        case KEY.newline:
          // A pasted "\r\n" is one line end, not two.
          if (ch === KEY.newline && data[i - 2] === KEY.enter) break;
          this.submit();
          break;
        case KEY.backspace:
        case KEY.ctrlH:
          if (this.cursor > 0) {
            this.buffer = this.buffer.slice(0, this.cursor - 1) + this.buffer.slice(this.cursor);
            this.cursor--;
            this.render(true);
          }
          break;
        case KEY.ctrlC:
          this.moveToEnd();
          this.o.write('^C\r\n');
          this.reset();
          this.start();
          this.o.onInterrupt?.();
          break;
        case KEY.ctrlA:
          this.setCursor(0);
          break;
        case KEY.ctrlE:
          this.setCursor(this.buffer.length);
          break;
        case KEY.ctrlU:
          this.buffer = this.buffer.slice(this.cursor);
          this.cursor = 0;
          this.render(true);
          break;
        case KEY.ctrlL:
          this.o.write('\x1b[2J\x1b[H');
          this.start();
          break;
        case KEY.tab:
          break;
        default:
          // Printable only: a pasted C1 control (e.g. U+009B, the 8-bit CSI) would be echoed raw.
          if (ch >= ' ' && !(ch >= '\x80' && ch <= '\x9f')) this.insert(ch);
      }
    }
  }

  /** Print `text` above the edit line and redraw the prompt under it (agent output). */
  printAbove(text: string): void {
    this.pending = '';
    this.clearArea();
    this.o.write(text.endsWith('\n') ? text : text + '\r\n');
    this.cursorRow = 0;
    this.render(false);
  }

  /**
   * Stream `text` above the edit line: it continues the streamed line above the prompt (until a
   * printAbove or endStream), and the prompt with what is being typed stays under it. The
   * unfinished line is rewritten from its start with each chunk, so wrapping stays right.
   */
  streamAbove(text: string): void {
    if (text === '') return;
    this.clearArea();
    if (this.pending !== '') {
      const cols = Math.max(1, this.o.cols());
      const rows = Math.max(1, Math.ceil(visibleLength(this.pending) / cols));
      this.o.write(`\x1b[${rows}A\r\x1b[J`);
    }
    const all = this.pending + text;
    this.o.write(all.replace(/\r?\n/g, '\r\n'));
    const nl = all.lastIndexOf('\n');
    this.pending = nl < 0 ? all : all.slice(nl + 1);
    if (this.pending !== '') this.o.write('\r\n');
    this.cursorRow = 0;
    this.render(false);
  }

  /** The streamed line is complete: the next output starts on a line of its own. */
  endStream(): void {
    this.pending = '';
  }

  private escape(seq: string): void {
    switch (seq) {
      case '\x1b[D':
      case '\x1bOD':
        this.setCursor(this.cursor - 1);
        break;
      case '\x1b[C':
      case '\x1bOC':
        this.setCursor(this.cursor + 1);
        break;
      case '\x1b[A':
      case '\x1bOA':
        this.recall(-1);
        break;
      case '\x1b[B':
      case '\x1bOB':
        this.recall(+1);
        break;
      case '\x1b[H':
      case '\x1bOH':
      case '\x1b[1~':
        this.setCursor(0);
        break;
      case '\x1b[F':
      case '\x1bOF':
      case '\x1b[4~':
        this.setCursor(this.buffer.length);
        break;
      case '\x1b[3~':
        if (this.cursor < this.buffer.length) {
          this.buffer = this.buffer.slice(0, this.cursor) + this.buffer.slice(this.cursor + 1);
          this.render(true);
        }
        break;
    }
  }

  private insert(text: string): void {
    this.buffer = this.buffer.slice(0, this.cursor) + text + this.buffer.slice(this.cursor);
    this.cursor += text.length;
    this.render(true);
  }

  private setCursor(pos: number): void {
    const p = Math.max(0, Math.min(this.buffer.length, pos));
    if (p === this.cursor) return;
    this.cursor = p;
    this.render(true);
  }

  private recall(step: -1 | 1): void {
    const next = this.historyIndex + step;
    if (next < 0 || next > this.history.length) return;
    if (this.historyIndex === this.history.length) this.draft = this.buffer;
    this.historyIndex = next;
    this.buffer = next === this.history.length ? this.draft : this.history[next]!;
    this.cursor = this.buffer.length;
    this.render(true);
  }

  private submit(): void {
    const line = this.buffer;
    this.moveToEnd();
    this.o.write('\r\n');
    if (line.trim() && this.history[this.history.length - 1] !== line) {
      this.history.push(line);
      const limit = this.o.historyLimit ?? 200;
      if (this.history.length > limit) this.history.splice(0, this.history.length - limit);
    }
    this.reset();
    if (line.trim()) this.o.onLine(line);
    this.start();
  }

  private reset(): void {
    this.buffer = '';
    this.cursor = 0;
    this.draft = '';
    this.historyIndex = this.history.length;
  }

  /** Row of an offset (in columns from the prompt's start) once written out. */
  private rowOf(offset: number, atEnd: boolean): number {
    const cols = Math.max(1, this.o.cols());
    // Writing exactly up to the right margin leaves the cursor there ("pending wrap").
    if (atEnd && offset > 0 && offset % cols === 0) return offset / cols - 1;
    return Math.floor(offset / cols);
  }

  private moveToEnd(): void {
    const end = this.o.promptWidth + this.buffer.length;
    const endRow = this.rowOf(end, true);
    if (endRow > this.cursorRow) this.o.write(`\x1b[${endRow - this.cursorRow}B`);
    this.cursorRow = endRow;
  }

  private clearArea(): void {
    if (this.cursorRow > 0) this.o.write(`\x1b[${this.cursorRow}A`);
    this.o.write('\r\x1b[J');
    this.cursorRow = 0;
  }

  /** Redraw prompt + line and put the cursor where it belongs. */
  private render(clear: boolean): void {
    if (clear) this.clearArea();
    else this.o.write('\r');
    this.o.write(this.o.prompt + this.buffer);
    const cols = Math.max(1, this.o.cols());
    const end = this.o.promptWidth + this.buffer.length;
    const endRow = this.rowOf(end, true);
    const pos = this.o.promptWidth + this.cursor;
    if (pos === end) {
      this.cursorRow = endRow;
      return;
    }
    const row = Math.floor(pos / cols);
    if (endRow > row) this.o.write(`\x1b[${endRow - row}A`);
    this.o.write('\r');
    if (pos % cols > 0) this.o.write(`\x1b[${pos % cols}C`);
    this.cursorRow = row;
  }
}
