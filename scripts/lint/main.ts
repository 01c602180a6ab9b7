// `npm run lint [root]`: what keeps the house's shape, three checks over a project root (default:
// this one), each failure one line, exit 1 if any failed:
//   format  prettier --check with the root's .prettierrc.json and .prettierignore
//   cycles  no import cycle among the files of src/ (cycles.ts)
//   layers  every import of src/ allowed by docs/ARCHITECTURE.md's table (layers.ts)
// The root is an argument so test/lint.test.ts can run it on small trees it builds.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cyclePaths, cyclicComponents, importGraph } from './cycles.js';
import { importsOf, sourceFiles, violation } from './layers.js';

const PROJECT = fileURLToPath(new URL('../../../', import.meta.url));
const PRETTIER = join(PROJECT, 'node_modules/prettier/bin/prettier.cjs');
/** Deadline for prettier over the whole tree. */
const FORMAT_TIMEOUT_MS = 120_000;

/** Removes ANSI colour sequences (ESC [ ... m), in case a colour setting still got through. */
function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

function formatProblems(root: string): string[] {
  // Colour off: CI may set FORCE_COLOR, and prettier would then colour "[error]" (the lines are parsed).
  const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
  const r = spawnSync(process.execPath, [PRETTIER, '--no-color', '--list-different', '.'], {
    cwd: root,
    encoding: 'utf8',
    timeout: FORMAT_TIMEOUT_MS,
    env,
  });
  if (r.error) return [`format: prettier did not run: ${r.error.message}`];
  if (r.status === 0) return [];
  const unformatted = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((f) => `format: ${f} is not formatted (npm run format)`);
  // A file prettier cannot parse: one line each, "[error] path: SyntaxError: ... (line:col)".
  const unparsed = stripAnsi(r.stderr)
    .split('\n')
    .filter((l) => /^\[error\] \S+: /.test(l))
    .map((l) => `format: ${l.slice('[error] '.length)}`);
  const all = [...unformatted, ...unparsed];
  return all.length > 0 ? all : [`format: prettier failed: ${r.stderr.trim().split('\n')[0] || `exit ${r.status}`}`];
}

function cycleProblems(root: string, files: readonly string[]): string[] {
  const graph = importGraph(files);
  return cyclicComponents(graph).flatMap((comp) => cyclePaths(graph, comp, root).map((path) => `cycle: ${path}`));
}

function layerProblems(root: string, src: string, files: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    for (const spec of importsOf(readFileSync(f, 'utf8'))) {
      const why = violation(src, f, spec);
      if (why !== undefined) out.push(`layer: ${relative(root, f)}: ${why}`);
    }
  }
  return out;
}

function main(argv: readonly string[]): number {
  const root = resolve(argv[0] ?? PROJECT);
  const src = join(root, 'src');
  if (!existsSync(src)) {
    console.error(`lint: ${root} has no src/ folder`);
    return 2;
  }
  const files = sourceFiles(src);
  const problems = [...formatProblems(root), ...cycleProblems(root, files), ...layerProblems(root, src, files)];
  for (const p of problems) console.error(`lint: ${p}`);
  console.log(
    problems.length === 0 ? `lint: ${files.length} files: formatted, no import cycle, layers kept` : `lint: ${problems.length} problem(s)`,
  );
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
