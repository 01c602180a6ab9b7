// The layers of src/ (docs/ARCHITECTURE.md): every import in src/ is read and checked against
// what its folder may import. A new arrow that breaks the layering fails here.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

/** Every .ts file under dir, walked iteratively. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const todo = [dir];
  while (todo.length > 0) {
    const d = todo.pop()!;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) todo.push(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
    }
  }
  return out.sort();
}

/** The module specifiers a file imports or re-exports, static and dynamic. */
export function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s+['"]([^'"]+)['"]|(?:^|[\s;])import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of source.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

/** 'core', 'node' or the app folder name ('miner', 'wallet', 'tools', ...) a src/ path belongs to. */
function layerOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts[0] === 'shared') return parts[1] === 'core' || parts[1] === 'node' ? parts[1] : 'shared-other';
  return parts[0]!;
}

const CORE_PACKAGES = new Set(['@noble/secp256k1', '@noble/hashes', '@scure/base']);

/** Why an import breaks the layering, or undefined when it is allowed. */
function violation(file: string, spec: string): string | undefined {
  const from = layerOf(file);
  if (!spec.startsWith('.')) {
    if (from !== 'core') return undefined;
    const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    return CORE_PACKAGES.has(pkg) ? undefined : `core imports the package ${spec}`;
  }
  const target = resolve(dirname(file), spec);
  if (!target.startsWith(SRC + '/')) return `imports ${spec}, outside src/`;
  const to = layerOf(target);
  if (from === 'shared-other' || to === 'shared-other') return 'src/shared holds only core/ and node/';
  if (from === 'core') return to === 'core' ? undefined : `core imports ${to}`;
  if (from === 'node') return to === 'core' || to === 'node' ? undefined : `node imports the app ${to}`;
  if (to === 'core' || to === 'node' || to === from) return undefined;
  return `the app ${from} imports the app ${to}`;
}

describe('layout: the import arrows of src/', () => {
  const files = sourceFiles(SRC);

  it('finds the layers it checks', () => {
    const layers = new Set(files.map(layerOf));
    for (const l of ['core', 'node', 'miner', 'wallet', 'tools']) assert.ok(layers.has(l), `no files in layer ${l}`);
  });

  it('every import in src/ follows the layering (core pure, node over core, apps over both, never each other)', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of importsOf(readFileSync(f, 'utf8'))) {
        const why = violation(f, spec);
        if (why !== undefined) bad.push(`${relative(ROOT, f)}: ${why}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  it('the checker itself catches each kind of wrong arrow', () => {
    const core = join(SRC, 'shared/core/x.ts');
    assert.match(violation(core, 'node:fs')!, /package node:fs/);
    assert.match(violation(core, 'lmdb')!, /package lmdb/);
    assert.match(violation(core, '../node/config.js')!, /core imports node/);
    assert.equal(violation(core, '@noble/hashes/sha2.js'), undefined);
    assert.match(violation(join(SRC, 'shared/node/x.ts'), '../../miner/miner.js')!, /node imports the app miner/);
    assert.match(violation(join(SRC, 'wallet/x.ts'), '../miner/mempool.js')!, /app wallet imports the app miner/);
    assert.equal(violation(join(SRC, 'wallet/x.ts'), '../shared/node/net/node.js'), undefined);
    assert.deepEqual(importsOf("import a from 'x';\nexport * from './y.js';\nconst m = await import('z');\nimport './side.js';"), ['x', './y.js', 'z', './side.js']);
  });

  it('the core sets no global state when imported (package.json sideEffects: false)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { sideEffects?: unknown };
    assert.equal(pkg.sideEffects, false);
    const top = /^(?:secp|[A-Za-z_$][\w$]*)\.[\w$.]+\s*=/m;
    for (const f of files.filter((x) => layerOf(x) === 'core')) assert.doesNotMatch(readFileSync(f, 'utf8'), top, relative(ROOT, f));
  });
});
