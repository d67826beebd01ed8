/**
 * Streaming markdown, cheaply: a reply is split into blocks at blank lines outside code fences,
 * and each block is rendered on its own (memoised by its text), so a new token re-parses only the
 * last block, not the whole reply. While a reply streams, its unfinished tail is "healed" (an
 * open code fence, bold or inline code closed) so half-written markdown does not flash as raw
 * syntax or swallow the rest of the message.
 */
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

export function splitBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | null = null;
  for (const line of text.split('\n')) {
    const m = FENCE.exec(line);
    if (m) {
      if (fence === null) fence = m[1]![0]!.repeat(m[1]!.length);
      else if (m[1]!.startsWith(fence)) fence = null;
    }
    if (fence === null && line.trim() === '' && current.length > 0 && !m) {
      blocks.push(current.join('\n'));
      current = [];
      continue;
    }
    if (fence === null && line.trim() === '' && current.length === 0) continue;
    current.push(line);
  }
  if (current.length > 0) blocks.push(current.join('\n'));
  return blocks;
}

/** Close what an unfinished block left open, for display while it streams. */
export function heal(block: string): string {
  let fence: string | null = null;
  for (const line of block.split('\n')) {
    const m = FENCE.exec(line);
    if (!m) continue;
    if (fence === null) fence = m[1]!;
    else if (m[1]!.startsWith(fence[0]!) && m[1]!.length >= fence.length) fence = null;
  }
  if (fence !== null) return `${block}\n${fence}`;
  let out = block;
  // Inline code first: emphasis markers inside it do not count.
  const ticks = (out.match(/`/g) ?? []).length;
  if (ticks % 2 === 1) out += '`';
  const outside = out.replace(/`[^`]*`/g, '');
  if ((outside.match(/\*\*/g) ?? []).length % 2 === 1) out += '**';
  return out;
}
