// The two npm packages as a user gets them: `pnpm pack` each, `npm install` the tarballs into a
// project outside the workspace, run each README's example with plain `node` against a real
// bridge, and type-check the README's TypeScript version with `tsc` (strict, no skipLibCheck).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REPO_ROOT } from '@agent-bridge/common';
import { connectBrowser, registerClient, startStack, type Stack } from '@agent-bridge/testkit';

const PACKAGES = ['agent-sdk', 'browser-client'] as const;
let stack: Stack;
let project: string;
const tarballs: Record<string, string> = {};

/** The `index`-th fenced block of `lang` in a package README. */
function readmeBlock(pkg: string, lang: 'js' | 'ts' | 'html', index = 0): string {
  const readme = readFileSync(path.join(REPO_ROOT, 'packages', pkg, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
  if (!blocks[index]) throw new Error(`${pkg}/README.md has no \`\`\`${lang} block #${index}`);
  return blocks[index];
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, stdio: 'pipe', encoding: 'utf8' });
}

/** Run `node file` in the project; resolve with its output once `until` matches it (or it exits). */
function node(file: string, env: Record<string, string>, until: RegExp, timeoutMs = 15_000) {
  const child = spawn(process.execPath, [file], { cwd: project, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const seen = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${until} from ${file}; output:\n${out}`)), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (until.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (until.test(out)) resolve(out);
      else reject(new Error(`${file} exited (${code}) before ${until}; output:\n${out}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, seen, exited, output: () => out };
}

beforeAll(async () => {
  project = mkdtempSync(path.join(os.tmpdir(), 'agent-bridge-packages-'));
  const packDir = path.join(project, 'tarballs');
  for (const pkg of PACKAGES) {
    // prepack builds dist/ first (scripts/build-packages.mjs).
    run('pnpm', ['pack', '--pack-destination', packDir], path.join(REPO_ROOT, 'packages', pkg));
    const file = readdirSync(packDir).find((f) => f.startsWith(`agent-bridge-${pkg}-`));
    if (!file) throw new Error(`pnpm pack made no tarball for ${pkg}`);
    tarballs[pkg] = path.join(packDir, file);
  }
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', tarballs['agent-sdk']!, tarballs['browser-client']!, 'ws@8', '@types/ws@8', '@types/node@20'],
    project,
  );
  stack = await startStack({ agent: true });
}, 180_000);

afterAll(async () => {
  await stack?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

test('each tarball holds the build, a README and a license, and depends on no workspace package', () => {
  for (const pkg of PACKAGES) {
    const files = run('tar', ['tzf', tarballs[pkg]!], project).split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/README.md', 'package/LICENSE', 'package/package.json']));
    expect(files.some((f) => f.startsWith('package/src/'))).toBe(false);
    const manifest = JSON.parse(readFileSync(path.join(project, 'node_modules/@agent-bridge', pkg, 'package.json'), 'utf8'));
    expect(manifest.exports['.']).toMatchObject({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(manifest).toMatchObject({ license: 'MIT', type: 'module', engines: { node: expect.any(String) } });
    expect(JSON.stringify(manifest.dependencies ?? {})).not.toContain('@agent-bridge');
    expect(JSON.stringify(manifest.dependencies ?? {})).not.toContain('workspace:');
  }
});

test('the browser client is one self-contained ES module (loads from a plain <script type="module">)', () => {
  const js = readFileSync(path.join(project, 'node_modules/@agent-bridge/browser-client/dist/index.js'), 'utf8');
  // No bare specifiers (a browser cannot resolve them without an import map), no Node built-ins.
  const specifiers = [...js.matchAll(/(?:^|[;\n])\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
  const dynamic = [...js.matchAll(/\bimport\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
  expect([...specifiers, ...dynamic]).toEqual([]);
  expect(js).not.toMatch(/\brequire\(/);
  expect(js).toMatch(/export\s*\{[^}]*createBridgeClient/);
});

test('the agent SDK README example runs with plain node and answers a browser', async () => {
  writeFileSync(path.join(project, 'agent.mjs'), readmeBlock('agent-sdk', 'js'));
  const agent = node('agent.mjs', { BROKER_URL: stack.brokerWsUrl, AGENT_TOKEN: 'dev_token' }, /connected as my-agent/);
  try {
    await agent.seen;
    const session = await registerClient(stack.webUrl);
    const ws = await connectBrowser(stack.webUrl, session);
    await ws.next('welcome');
    ws.send({ type: 'message', id: 'c-1', agent: 'my-agent', data: { text: 'hello' } });
    expect(await ws.next('message')).toMatchObject({ from: 'my-agent', data: { text: 'you said: hello' } });
    ws.close(1000);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  } finally {
    agent.child.kill('SIGKILL');
  }
});

test('the browser client README example runs with plain node (ws as the WebSocket) and gets the demo agent’s answer', async () => {
  // Block 0 is the page's app.js; block 1 the Node version.
  writeFileSync(path.join(project, 'client.mjs'), readmeBlock('browser-client', 'js', 1));
  const client = node('client.mjs', { BRIDGE_URL: stack.webUrl }, /default: .*hello/);
  try {
    const out = await client.seen;
    expect(out).toContain('status: connected');
    // close() ends the client; nothing keeps the process alive.
    expect(await client.exited).toBe(0);
  } finally {
    client.child.kill('SIGKILL');
  }
});

test('the README TypeScript versions type-check against the installed packages (strict, skipLibCheck off)', () => {
  writeFileSync(path.join(project, 'agent.ts'), readmeBlock('agent-sdk', 'ts'));
  writeFileSync(path.join(project, 'client.ts'), readmeBlock('browser-client', 'ts'));
  writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
      files: ['agent.ts', 'client.ts'],
    }),
  );
  try {
    run(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], project);
  } catch (err) {
    throw new Error(`tsc failed:\n${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`);
  }
});

test('the browser client README page runs in Chromium from a plain <script type="module">, served by the web server', async () => {
  // The README's page, its app.js and the package's dist/index.js as the site's files.
  const site = mkdtempSync(path.join(os.tmpdir(), 'agent-bridge-site-'));
  writeFileSync(path.join(site, 'index.html'), readmeBlock('browser-client', 'html'));
  writeFileSync(path.join(site, 'app.js'), readmeBlock('browser-client', 'js', 0));
  writeFileSync(path.join(site, 'agent-bridge-client.js'), readFileSync(path.join(project, 'node_modules/@agent-bridge/browser-client/dist/index.js')));
  const pageStack = await startStack({ agent: true, env: { STATIC_ASSETS_PATH: site } });
  // playwright-core is the SPA's dev dependency; its helper launches the system Chromium.
  const { launchBrowser } = await import(path.join(REPO_ROOT, 'packages/sploots-app/test/browser.ts'));
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e: Error) => problems.push(e.message));
    const answer = page.waitForEvent('console', { predicate: (m: { text(): string }) => m.text().startsWith('default '), timeout: 15_000 });
    await page.goto(pageStack.webUrl);
    expect((await answer).text()).toMatch(/^default .*hi/);
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await pageStack.close();
    rmSync(site, { recursive: true, force: true });
  }
});
