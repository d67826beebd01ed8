import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { refuseUpgrade } from '../src/upgrade-refusal.ts';

/** A socket stand-in that keeps what was written and says whether it was destroyed. */
function fakeSocket() {
  const s = new PassThrough();
  let written = '';
  s.on('data', (d: Buffer) => (written += d.toString()));
  return { s, text: () => written };
}

it('answers with the status, the JSON error body and the headers every error answer carries, then closes', async () => {
  const { s, text } = fakeSocket();
  refuseUpgrade(s, 401, 'unauthorized', 'a valid agent token is required');
  await new Promise((r) => s.once('close', r));
  const [head, body] = text().split('\r\n\r\n');
  const lines = head!.split('\r\n');
  expect(lines[0]).toBe('HTTP/1.1 401 Unauthorized');
  expect(lines).toEqual(
    expect.arrayContaining([
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body!)}`,
      'Cache-Control: no-store',
      'X-Content-Type-Options: nosniff',
      'Connection: close',
      'WWW-Authenticate: Bearer',
    ]),
  );
  expect(JSON.parse(body!)).toMatchObject({ error: { code: 'unauthorized', message: 'a valid agent token is required' } });
  expect(s.destroyed).toBe(true);
});

it("adds a service's own headers once each, and Retry-After to a 429", async () => {
  const { s, text } = fakeSocket();
  refuseUpgrade(s, 429, 'rate_limited', 'slow down', [
    ['X-Frame-Options', 'DENY'],
    ['x-content-type-options', 'nosniff'],
  ]);
  await new Promise((r) => s.once('close', r));
  const head = text().split('\r\n\r\n')[0]!.split('\r\n');
  expect(head).toContain('X-Frame-Options: DENY');
  expect(head).toContain('Retry-After: 5');
  expect(head.filter((l) => l.toLowerCase().startsWith('x-content-type-options'))).toHaveLength(1);
});
