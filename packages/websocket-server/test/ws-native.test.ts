/**
 * ws masks every frame a client sends and unmasks every frame a server reads. Without bufferutil
 * it does so in a JavaScript loop (~1 µs for a 400-byte frame, 60 ns with it): the broker unmasks
 * each web-server and agent frame, the web server each browser frame and masks each upstream one,
 * the SDK masks each send. This checks that the `ws` each of them resolves finds bufferutil, so a
 * dependency change cannot drop the speed-up silently (docs/performance.md, "bufferutil").
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('ws finds its native masking', () => {
  for (const pkg of ['websocket-server', 'web-server', 'agent-sdk']) {
    it(`in ${pkg}`, () => {
      const fromPkg = createRequire(path.join(packages, pkg, 'package.json'));
      const fromWs = createRequire(fromPkg.resolve('ws'));
      const bufferutil = fromWs('bufferutil') as { mask: (...a: unknown[]) => void; unmask: (b: Buffer, m: Buffer) => void };
      // It loads and masks correctly (XOR with the 4-byte key, applied twice is the identity).
      const data = Buffer.from('x'.repeat(100));
      const key = Buffer.from([1, 2, 3, 4]);
      bufferutil.unmask(data, key);
      expect(data[0]).toBe('x'.charCodeAt(0) ^ 1);
      bufferutil.unmask(data, key);
      expect(data.toString()).toBe('x'.repeat(100));
    });
  }

  it('in the built services (`pnpm build` bundles ws into dist/*.mjs; bufferutil is resolved from there)', () => {
    // scripts/build.mjs keeps bufferutil external: the bundle requires it at run time from dist/.
    const fromDist = createRequire(path.join(packages, '..', 'dist', 'broker.mjs'));
    expect(typeof (fromDist('bufferutil') as { mask: unknown }).mask).toBe('function');
  });
});
