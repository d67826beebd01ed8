import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { CloseCodeInfo, ERROR_CODES, HttpErrorCode, REPO_ROOT, SettingsSchema, SystemEvent } from '../src/index.ts';

const doc = readFileSync(path.join(REPO_ROOT, 'docs/protocol.md'), 'utf8');
const envExample = readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');

describe('every protocol constant is documented in docs/protocol.md', () => {
  test.each(ERROR_CODES)('error code %s', (code) => expect(doc).toContain(`\`${code}\``));
  test.each(Object.keys(HttpErrorCode))('HTTP error code %s', (code) => expect(doc).toContain(`\`${code}\``));
  test.each(Object.keys(CloseCodeInfo))('close code %s', (code) => expect(doc).toContain(`\`${code}\``));
  test.each(Object.keys(SystemEvent))('system event %s', (event) => expect(doc).toContain(`\`${event}\``));
  test.each(Object.keys(SettingsSchema.shape))('setting %s (doc and .env.example)', (key) => {
    expect(doc).toContain(`\`${key}\``);
    expect(envExample).toMatch(new RegExp(`^#? ?${key}=`, 'm'));
  });
});
