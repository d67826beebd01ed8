/**
 * Markdown for agent replies (lazy chunk: react-markdown, GFM and the sanitiser stay out of the
 * first paint). No raw HTML is ever rendered: react-markdown builds React elements (no
 * innerHTML), HTML in the source is dropped, and rehype-sanitize (GitHub's schema) filters what
 * is left, including `javascript:` URLs. Links open in a new tab without an opener.
 */
import { memo, type AnchorHTMLAttributes } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeSanitize from 'rehype-sanitize';
import remarkGfm from 'remark-gfm';
import { heal, splitBlocks } from './md-blocks.ts';

const remarkPlugins = [remarkGfm];
const rehypePlugins = [rehypeSanitize];
const components: Components = {
  a: ({ node: _node, ...props }: AnchorHTMLAttributes<HTMLAnchorElement> & { node?: unknown }) => (
    <a {...props} target="_blank" rel="noopener noreferrer nofollow" />
  ),
};

const Block = memo(function Block({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components} skipHtml>
      {text}
    </ReactMarkdown>
  );
});

export default function Markdown({ text, streaming }: { text: string; streaming: boolean }) {
  const blocks = splitBlocks(text);
  if (streaming && blocks.length > 0) blocks[blocks.length - 1] = heal(blocks[blocks.length - 1]!);
  return (
    <div className="md" data-md="rendered">
      {blocks.map((b, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: blocks only ever grow at the end, so the index is a stable key
        <Block key={i} text={b} />
      ))}
    </div>
  );
}
