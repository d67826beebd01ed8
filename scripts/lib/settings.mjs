// The few settings the scripts need before any service starts (bind addresses, the SPA folder),
// read as the services read them: the environment first, then `.env` at the repository root,
// then the defaults of packages/common/src/config.ts. Empty means unset, as there.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const DEFAULTS = {
  WEBSOCKET_SERVER_ADDR: '127.0.0.1:8080',
  WEB_SERVER_ADDR: '127.0.0.1:8081',
  STATIC_ASSETS_PATH: './static',
};

function dotenvFile() {
  const file = path.join(ROOT, '.env');
  if (!existsSync(file)) return {};
  const out = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    let v = m[2];
    if (/^(['"]).*\1$/.test(v)) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, '');
    out[m[1]] = v;
  }
  return out;
}

export function setting(name, env = process.env) {
  const fromEnv = env[name];
  if (fromEnv) return fromEnv;
  const fromFile = dotenvFile()[name];
  return fromFile || DEFAULTS[name];
}

/** `127.0.0.1:8080` / `[::1]:8080` → { host, port }. */
export function splitAddr(v) {
  const i = v.lastIndexOf(':');
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
}
