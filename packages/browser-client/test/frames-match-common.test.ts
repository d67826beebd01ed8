// The published types of the browser client are plain interfaces (src/frames.ts) so that the
// package needs no zod; this file does not compile if they drift from common's schemas, and the
// test below compiles it.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import type * as Common from '@agent-bridge/common/protocol';
import type * as Own from '../src/frames.ts';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: [
  Same<Own.ClientWelcomeFrame, Common.ClientWelcomeFrame>,
  Same<Own.DeliveredMessageFrame, Common.DeliveredMessageFrame>,
  Same<Own.SystemFrame, Common.SystemFrame>,
  Same<Own.ErrorFrame, Common.ErrorFrame>,
  Same<Own.AcceptedFrame, Common.AcceptedFrame>,
] = [true, true, true, true, true];

test('the frame interfaces match common’s schemas (the package type-checks)', () => {
  expect(checks.every(Boolean)).toBe(true);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  // Throws (with tsc's message) when this file or the package does not type-check.
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'packages/browser-client/tsconfig.json', '--noEmit'], {
    cwd: root,
    stdio: 'pipe',
  });
});
