// `npm run lint` (scripts/lint/main.ts) on small project trees built here: it passes on a clean
// tree and fails, naming the problem, on an import cycle, on each kind of wrong layer arrow and on
// unformatted code. The real tree's own check is in CI (.ci/run runs `npm run lint`).
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

function lintTree(files: Record<string, string>): { status: number | null; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'mvb-lint-'));
  try {
    for (const f of ['.prettierrc.json', '.prettierignore']) copyFileSync(join(PROJECT, f), join(root, f));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const r = spawnSync(process.execPath, [LINT, root], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('npm run lint: format, import cycles, layers', function () {
  this.timeout(120_000);

  it('passes on a clean tree', () => {
    const r = lintTree(CLEAN);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /4 files: formatted, no import cycle, layers kept/);
  });

  it('fails on an import cycle (type-only imports count) and prints it as a path', () => {
    const r = lintTree({
      ...CLEAN,
      'src/miner/x.ts': "import type { Y } from './y.js';\n\nexport interface X {\n  y?: Y;\n}\n",
      'src/miner/y.ts': "import type { X } from './x.js';\n\nexport interface Y {\n  x?: X;\n}\n",
    });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /lint: cycle: src\/miner\/x\.ts → src\/miner\/y\.ts → src\/miner\/x\.ts/);
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
      assert.match(r.out, new RegExp(`lint: layer: ${file.replaceAll('/', '\\/').replace('.ts', '\\.ts')}: ${reason.source}`));
    });
  }

  it('fails on unformatted code, naming the file', () => {
    const r = lintTree({ ...CLEAN, 'src/miner/c.ts': 'import { a } from "../shared/core/a.js";\nexport const c   =  a\n' });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /lint: format: src\/miner\/c\.ts is not formatted/);
  });
});
