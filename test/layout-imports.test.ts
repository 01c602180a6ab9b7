// The layers of src/ (docs/ARCHITECTURE.md): every import in src/ is read and checked against
// what its folder may import. A new arrow that breaks the layering fails here. The rule is
// scripts/lint/layers.ts, the same one `npm run lint` applies.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cyclePaths, cyclicComponents, importGraph } from '../scripts/lint/cycles.js';
import { importsOf, layerOf as layerOfIn, sourceFiles, violation as violationIn } from '../scripts/lint/layers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

const layerOf = (file: string): string => layerOfIn(SRC, file);
const violation = (file: string, spec: string): string | undefined => violationIn(SRC, file, spec);

describe('layout: the import arrows of src/', () => {
  const files = sourceFiles(SRC);

  it('at most 6 source files sit directly in src/shared/node (the rest in topic folders)', () => {
    const root = files.filter((f) => relative(join(SRC, 'shared/node'), f).split('/').length === 1);
    assert.ok(root.length > 0 && root.length <= 6, root.map((f) => relative(SRC, f)).join(', '));
  });

  it('no import cycle among the files of src/ (type-only imports count)', () => {
    const graph = importGraph(files);
    assert.equal(graph.size, files.length);
    assert.deepEqual(
      cyclicComponents(graph).flatMap((c) => cyclePaths(graph, c, ROOT)),
      [],
    );
  });

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
    assert.deepEqual(importsOf("import a from 'x';\nexport * from './y.js';\nconst m = await import('z');\nimport './side.js';"), [
      'x',
      './y.js',
      'z',
      './side.js',
    ]);
  });

  it('the core sets no global state when imported (package.json sideEffects: false)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { sideEffects?: unknown };
    assert.equal(pkg.sideEffects, false);
    const top = /^(?:secp|[A-Za-z_$][\w$]*)\.[\w$.]+\s*=/m;
    for (const f of files.filter((x) => layerOf(x) === 'core')) assert.doesNotMatch(readFileSync(f, 'utf8'), top, relative(ROOT, f));
  });
});
