/** CSI / OSC escape sequences, as agents use them for colour in the terminal. */
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** The chat shows plain text: drop colour codes the agent meant for the terminal. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
