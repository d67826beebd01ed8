import { describe, expect, test } from 'vitest';
import {
  HELP_TEXT,
  NOT_TEXT_HINT,
  greeting,
  handleCommand,
  handleMessage,
  plainText,
  textOf,
  type CommandContext,
} from '../src/commands.ts';

const strip = (s: string | undefined) => (s ?? '').replace(/\x1b\[[0-9;]*m/g, '');

const ctx = (over: Partial<CommandContext> = {}): CommandContext => ({
  clientId: 'c-me',
  address: null,
  clients: [
    { clientId: 'c-me', address: null, connected: true },
    { clientId: 'c-other', address: '0xAbC0000000000000000000000000000000000001', connected: true },
    { clientId: 'c-away', address: null, connected: false },
  ],
  now: new Date('2026-11-25T17:00:00.000Z'),
  ...over,
});

describe('handleCommand', () => {
  test('help lists every command', () => {
    const out = handleCommand('help', ctx());
    expect(out.broadcast).toBeUndefined();
    for (const c of ['help', 'echo', 'time', 'clients', 'whoami', 'broadcast']) expect(strip(out.reply)).toContain(c);
    expect(out.reply).toBe(HELP_TEXT);
  });

  test('echo replies exactly the text, no colour, inner spacing kept', () => {
    expect(handleCommand('echo hello world', ctx())).toEqual({ reply: 'hello world' });
    expect(handleCommand('  echo   a  b  ', ctx())).toEqual({ reply: 'a  b' });
    expect(handleCommand('echo {"x":1}', ctx())).toEqual({ reply: '{"x":1}' });
    expect(handleCommand('echo line1\nline2', ctx())).toEqual({ reply: 'line1\nline2' });
  });

  test('echo without text gives its usage', () => {
    expect(handleCommand('echo', ctx()).reply).toMatch(/usage: echo/);
    expect(handleCommand('echo    ', ctx()).reply).toMatch(/usage: echo/);
  });

  test('the command word is case-insensitive and trimmed; the argument keeps its case', () => {
    expect(handleCommand('  ECHO Hello ', ctx())).toEqual({ reply: 'Hello' });
    expect(handleCommand('\tTiMe\n', ctx()).reply).toBe('2026-11-25T17:00:00.000Z');
  });

  test('time is the ISO time of ctx.now', () => {
    expect(handleCommand('time', ctx({ now: new Date(0) }))).toEqual({ reply: '1970-01-01T00:00:00.000Z' });
  });

  test('clients is a count of connected clients and your own id: no other id or wallet is shown', () => {
    const reply = handleCommand('clients', ctx()).reply!;
    expect(reply).toBe('2 clients connected (you are c-me)');
    expect(reply).not.toContain('c-other');
    expect(reply).not.toContain('0xAbC');
    expect(reply).not.toContain('c-away');
    // Signed in or not, the answer is the same shape: the list is shown to nobody.
    expect(handleCommand('clients', ctx({ address: '0xAbC0000000000000000000000000000000000001' })).reply).not.toContain('c-other');
  });

  test('clients with one or none', () => {
    expect(handleCommand('clients', ctx({ clients: [{ clientId: 'c-me', address: null, connected: true }] })).reply).toBe(
      '1 client connected (you are c-me)',
    );
    expect(handleCommand('clients', ctx({ clients: [] })).reply).toBe('0 clients connected (you are c-me)');
  });

  test('help says clients shows a count only', () => {
    expect(HELP_TEXT).toMatch(/clients\s+how many clients are connected \(a count only/);
  });

  test('whoami: anonymous session', () => {
    const reply = handleCommand('whoami', ctx()).reply!;
    expect(reply).toContain('c-me');
    expect(reply).toContain('anonymous — sign in with Ethereum to link a wallet');
    expect(reply).not.toContain('address:');
  });

  test('whoami: signed-in session shows the address', () => {
    const reply = handleCommand('whoami', ctx({ address: '0xAbC0000000000000000000000000000000000001' })).reply!;
    expect(reply).toContain('c-me');
    expect(reply).toContain('address: 0xAbC0000000000000000000000000000000000001');
    expect(reply).not.toContain('anonymous');
  });

  test('broadcast sends the text to everyone and reports the connected count', () => {
    expect(handleCommand('broadcast Hello all ', ctx())).toEqual({ broadcast: 'Hello all', reply: 'broadcast sent to 2 clients' });
    expect(handleCommand('BROADCAST x', ctx({ clients: [] }))).toEqual({ broadcast: 'x', reply: 'broadcast sent to 0 clients' });
  });

  test('broadcast without text gives its usage and broadcasts nothing', () => {
    const out = handleCommand('broadcast', ctx());
    expect(out.broadcast).toBeUndefined();
    expect(out.reply).toMatch(/usage: broadcast/);
  });

  test('unknown commands get a hint naming help', () => {
    const out = handleCommand('dance now', ctx());
    expect(out.broadcast).toBeUndefined();
    expect(out.reply).toContain('help');
    expect(out.reply).toContain('"dance"');
  });

  test('a command word must stand alone: "echoes" and "helpme" are unknown', () => {
    expect(handleCommand('echoes x', ctx()).reply).toContain('unknown command');
    expect(handleCommand('helpme', ctx()).reply).toContain('unknown command');
  });

  test('empty or blank input gets the hint', () => {
    expect(handleCommand('', ctx()).reply).toContain('help');
    expect(handleCommand('   \n ', ctx()).reply).toContain('help');
  });

  test('a very long unknown word is shortened in the hint', () => {
    const reply = handleCommand('x'.repeat(5000), ctx()).reply!;
    expect(reply.length).toBeLessThan(200);
    expect(reply).toContain('help');
  });
});

describe('remote text carries no terminal control sequences (issue 9)', () => {
  // The sequences of the finding: screen clear, cursor home, OSC 0 window title, OSC 8 link,
  // a fake prompt drawn over the line with \r, a DCS string, 8-bit CSI, bell and backspace.
  const ATTACKS: [string, string][] = [
    ['\x1b[2J\x1b[Hhello', 'hello'],
    ['\x1b]0;pwned title\x07after', 'after'],
    ['\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\', 'click me'],
    ['innocent\rsploots> sign in at evil.example', 'innocentsploots> sign in at evil.example'],
    ['\x1bP1$qm\x1b\\x', 'x'],
    ['\x9b2Jy\x07\x08z', 'yz'],
    ['\x1b[31mred\x1b[0m and \x1b[1;32mgreen', 'red and green'],
    ['\x1bcreset \x1b7saved\x1b8', 'reset saved'],
    ['unterminated \x1b]0;title eats the rest', 'unterminated '],
  ];

  test('plainText strips every sequence and keeps tab, newline and unicode', () => {
    for (const [raw, clean] of ATTACKS) expect(plainText(raw)).toBe(clean);
    expect(plainText('a\tb\nc — é 🦀 日本')).toBe('a\tb\nc — é 🦀 日本');
  });

  test('broadcast, echo and the unknown-command hint never pass an ESC or a control character on', () => {
    for (const [raw] of ATTACKS) {
      for (const input of [`broadcast ${raw} end`, `echo ${raw} end`, `${raw}`, `x${raw}`]) {
        const out = handleCommand(input, ctx());
        for (const text of [out.reply, out.broadcast]) {
          if (text !== undefined) expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
        }
      }
    }
    expect(handleCommand('broadcast \x1b[2J\x1b]0;t\x07hi all', ctx()).broadcast).toBe('hi all');
    expect(handleMessage({ text: 'echo \x1b[2Jclean\r' }, ctx())).toEqual({ reply: 'clean' });
  });

  test("the agent's own replies carry no escape sequences either", () => {
    for (const cmd of ['help', 'time', 'clients', 'whoami', 'broadcast x', 'nope']) {
      expect(handleCommand(cmd, ctx()).reply).not.toContain('\x1b');
    }
  });
});

describe('handleMessage / textOf', () => {
  test('accepts {text} and plain strings', () => {
    expect(handleMessage({ text: 'echo hi' }, ctx())).toEqual({ reply: 'hi' });
    expect(handleMessage({ text: 'echo hi', extra: 1 }, ctx())).toEqual({ reply: 'hi' });
    expect(handleMessage('echo hi', ctx())).toEqual({ reply: 'hi' });
  });

  test('anything else gets a friendly hint', () => {
    for (const data of [42, null, true, ['echo hi'], { text: 5 }, { message: 'echo hi' }, {}]) {
      expect(handleMessage(data, ctx())).toEqual({ reply: NOT_TEXT_HINT });
    }
    expect(NOT_TEXT_HINT).toContain('help');
    expect(textOf(undefined)).toBeUndefined();
  });

  test('greeting names the address', () => {
    expect(greeting('0xAbC0000000000000000000000000000000000001')).toBe('welcome, 0xAbC0000000000000000000000000000000000001');
  });
});
