/**
 * Remote text (agent replies, broadcasts from other clients, bridge error texts) is shown as
 * plain text: only our own formatting reaches the terminal. Left in, a remote text could clear
 * the screen (`ESC[2J`), retitle the window (OSC 0), plant links (OSC 8), query or reprogram the
 * terminal (DCS, APC) or draw a fake prompt over a line with `\r` (issue 9).
 *
 * Removed, in this order of alternatives: OSC, DCS, SOS, PM and APC strings up to their
 * terminator (BEL, ESC \ or ST) or, when unterminated, to the end of the text (a terminal would
 * swallow whatever we write next); CSI sequences; every other ESC sequence (ESC c, ESC 7, ESC ( B
 * …); the 8-bit C1 forms of all of these; then any remaining C0/C1 control character and DEL,
 * except tab and newline.
 */
const CONTROL_SEQUENCES =
  /(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|\x1b[\x20-\x2f]*[\x30-\x7e]?|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** `text` without terminal control sequences or control characters (tab and newline stay). */
export function stripControlSequences(text: string): string {
  return text.replace(CONTROL_SEQUENCES, '');
}

/** The chat shows plain text: drop colour codes (and every other control sequence). */
export function stripAnsi(text: string): string {
  return stripControlSequences(text);
}
