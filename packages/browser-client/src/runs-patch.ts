/**
 * RFC 6902 JSON Patch for STATE_DELTA, without a dependency: the browser client ships none.
 * Returns a new document (inputs are not mutated); a patch that does not apply throws, and the
 * caller keeps the state it had.
 */
import type { JsonPatchOperation } from '@ag-ui/core';

const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`bad JSON pointer: ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

/** The parent container of `path` and the last key, walking a (cloned) document. */
function locate(doc: unknown, path: string): { parent: Container; key: string } {
  const parts = parsePointer(path);
  const key = parts.pop();
  if (key === undefined) throw new Error('the root has no parent');
  let node = doc;
  for (const p of parts) {
    if (typeof node !== 'object' || node === null) throw new Error(`no such path: ${path}`);
    node = (node as Record<string, unknown>)[p];
  }
  if (typeof node !== 'object' || node === null) throw new Error(`no such path: ${path}`);
  return { parent: node as Container, key };
}

function get(doc: unknown, path: string): unknown {
  let node = doc;
  for (const p of parsePointer(path)) {
    if (typeof node !== 'object' || node === null || !(p in node)) throw new Error(`no such path: ${path}`);
    node = (node as Record<string, unknown>)[p];
  }
  return node;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  if (path === '') return value;
  const { parent, key } = locate(doc, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new Error(`bad array index: ${path}`);
    parent.splice(i, 0, value);
  } else parent[key] = value;
  return doc;
}

function remove(doc: unknown, path: string): unknown {
  const { parent, key } = locate(doc, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else if (key in parent) delete parent[key];
  else throw new Error(`no such path: ${path}`);
  return doc;
}

export function applyPatch(state: unknown, patch: readonly JsonPatchOperation[]): unknown {
  let doc = clone(state);
  for (const op of patch) {
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, clone(op.value));
        break;
      case 'remove':
        doc = remove(doc, op.path);
        break;
      case 'replace':
        if (op.path !== '') get(doc, op.path); // must exist
        doc = op.path === '' ? clone(op.value) : add(remove(doc, op.path), op.path, clone(op.value));
        break;
      case 'move': {
        const v = get(doc, op.from);
        doc = add(remove(doc, op.from), op.path, v);
        break;
      }
      case 'copy':
        doc = add(doc, op.path, clone(get(doc, op.from)));
        break;
      case 'test':
        if (JSON.stringify(get(doc, op.path)) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
        break;
    }
  }
  return doc;
}
