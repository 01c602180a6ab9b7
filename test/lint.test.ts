// `npm run lint` (scripts/lint/main.ts) on small project trees built here: it passes on a clean
// tree and fails, naming exactly the problems and nothing else, on import cycles (a pair, a longer
// one, a self-import, a tangle), on each kind of wrong layer arrow and on unformatted or unparsable
// code. The real tree's own check is in CI (.ci/run runs `npm run lint`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const LINT = join(PROJECT, 'dist/scripts/lint/main.js');

/** A clean tree: a core file, a node file over it, an app over both; formatted with the project's rules. */
const CLEAN: Record<string, string> = {
  'src/shared/core/a.ts': 'export const a = 1;\n',
  'src/shared/node/b.ts': "import { a } from '../core/a.js';\n\nexport const b = a + 1;\n",
  'src/miner/c.ts': "import { a } from '../shared/core/a.js';\nimport { b } from '../shared/node/b.js';\n\nexport const c = a + b;\n",
  'src/wallet/d.ts': "import { b } from '../shared/node/b.js';\n\nexport const d = b;\n",
};

/** Runs the lint on a tree of the given files (with the project's prettier config); its problem lines apart. */
function lintTree(files: Record<string, string>): { status: number | null; problems: string[]; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'mvb-lint-'));
  try {
    for (const f of ['.prettierrc.json', '.prettierignore']) copyFileSync(join(PROJECT, f), join(root, f));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const r = spawnSync(process.execPath, [LINT, root], { encoding: 'utf8', timeout: 60_000 });
    const out = r.stdout + r.stderr;
    const problems = r.stderr.split('\n').filter((l) => l.startsWith('lint: '));
    return { status: r.status, problems, out };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Two files that import each other's types only. */
const typeCycle = (a: string, b: string): Record<string, string> => ({
  [`src/miner/${a}.ts`]: `import type { T${b} } from './${b}.js';\n\nexport interface T${a} {\n  next?: T${b};\n}\n`,
  [`src/miner/${b}.ts`]: `import type { T${a} } from './${a}.js';\n\nexport interface T${b} {\n  next?: T${a};\n}\n`,
});

describe('npm run lint: format, import cycles, layers', function () {
  this.timeout(120_000);

  it('passes on a clean tree', () => {
    const r = lintTree(CLEAN);
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(r.problems, []);
    assert.match(r.out, /4 files: formatted, no import cycle, layers kept/);
  });

  it('fails on an import cycle (type-only imports count) and prints it as a path', () => {
    const r = lintTree({ ...CLEAN, ...typeCycle('x', 'y') });
    assert.equal(r.status, 1, r.out);
    assert.deepEqual(r.problems, ['lint: cycle: src/miner/x.ts → src/miner/y.ts → src/miner/x.ts']);
  });

  it('fails on a longer cycle through the node layer, and on a file importing itself', () => {
    const r = lintTree({
      ...CLEAN,
      'src/shared/node/b.ts':
        "import { a } from '../core/a.js';\nimport { g } from './net/g.js';\n\nexport const b = a + 1;\nexport const bg = (): number => g();\n",
      'src/shared/node/f.ts': "import { b } from './b.js';\n\nexport const f = (): number => b;\n",
      'src/shared/node/net/g.ts': "import { f } from '../f.js';\n\nexport const g = (): number => f();\n",
      'src/miner/s.ts': "import * as self from './s.js';\n\nexport const s = (): unknown => self;\n",
    });
    assert.equal(r.status, 1, r.out);
    assert.deepEqual([...r.problems].sort(), [
      'lint: cycle: src/miner/s.ts → src/miner/s.ts',
      'lint: cycle: src/shared/node/b.ts → src/shared/node/net/g.ts → src/shared/node/f.ts → src/shared/node/b.ts',
    ]);
  });

  it('names a cycle through every file of a tangle (x ↔ y ↔ z)', () => {
    const r = lintTree({
      ...CLEAN,
      ...typeCycle('x', 'y'),
      ...typeCycle('y', 'z'),
      ...{
        'src/miner/y.ts':
          "import type { Tx } from './x.js';\nimport type { Tz } from './z.js';\n\nexport interface Ty {\n  x?: Tx;\n  z?: Tz;\n}\n",
      },
    });
    assert.equal(r.status, 1, r.out);
    assert.deepEqual(r.problems, [
      'lint: cycle: src/miner/x.ts → src/miner/y.ts → src/miner/x.ts',
      'lint: cycle: src/miner/z.ts → src/miner/y.ts → src/miner/z.ts',
    ]);
  });
  const WRONG_ARROWS: [what: string, file: string, text: string, reason: RegExp][] = [
    ['core importing node', 'src/shared/core/e.ts', "import { b } from '../node/b.js';\n\nexport const e = b;\n", /core imports node/],
    [
      'core importing node:fs',
      'src/shared/core/e.ts',
      "import { readFileSync } from 'node:fs';\n\nexport const e = readFileSync;\n",
      /core imports the package node:fs/,
    ],
    [
      'node importing an app',
      'src/shared/node/e.ts',
      "import { c } from '../../miner/c.js';\n\nexport const e = c;\n",
      /node imports the app miner/,
    ],
    [
      'an app importing another',
      'src/wallet/e.ts',
      "import { c } from '../miner/c.js';\n\nexport const e = c;\n",
      /the app wallet imports the app miner/,
    ],
  ];
  for (const [what, file, text, reason] of WRONG_ARROWS) {
    it(`fails on a wrong layer arrow: ${what}`, () => {
      const r = lintTree({ ...CLEAN, [file]: text });
      assert.equal(r.status, 1, r.out);
      assert.equal(r.problems.length, 1, r.out);
      assert.ok(r.problems[0]!.startsWith(`lint: layer: ${file}: `), r.out);
      assert.match(r.problems[0]!, reason);
    });
  }

  it('fails on unformatted code, naming the file', () => {
    const r = lintTree({ ...CLEAN, 'src/miner/c.ts': 'import { a } from "../shared/core/a.js";\nexport const c   =  a\n' });
    assert.equal(r.status, 1, r.out);
    assert.deepEqual(r.problems, ['lint: format: src/miner/c.ts is not formatted (npm run format)']);
  });

  it('fails on code prettier cannot parse, with its line and column', () => {
    const r = lintTree({ ...CLEAN, 'src/miner/c.ts': 'export const c = ;\n' });
    assert.equal(r.status, 1, r.out);
    assert.equal(r.problems.length, 1, r.out);
    assert.match(r.problems[0]!, /^lint: format: src\/miner\/c\.ts: SyntaxError: .*\(1:18\)$/);
  });
});
