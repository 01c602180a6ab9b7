// The layers of src/ (docs/ARCHITECTURE.md) as one rule, used by `npm run lint` (main.ts) and by
// test/layout-imports.test.ts: the core imports only the core and three npm packages; the node
// layer imports the core and itself; an app imports the core, the node layer and its own folder,
// never another app. Every walk here is iterative.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Every .ts file under dir (not .d.ts), sorted, walked iteratively. */
export function sourceFiles(dir: string): string[] {
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

/** The module specifiers a file imports or re-exports, static (type-only ones too) and dynamic. */
export function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re =
    /(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s+['"]([^'"]+)['"]|(?:^|[\s;])import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of source.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

/** 'core', 'node', 'shared-other' or the app folder name ('miner', 'wallet', 'tools', ...) of a file under src. */
export function layerOf(src: string, file: string): string {
  const parts = relative(src, file).split('/');
  if (parts[0] === 'shared') return parts[1] === 'core' || parts[1] === 'node' ? parts[1] : 'shared-other';
  return parts[0]!;
}

/** The npm packages the pure core may import. */
export const CORE_PACKAGES: ReadonlySet<string> = new Set(['@noble/secp256k1', '@noble/hashes', '@scure/base']);

/** Why `file` (under src) importing `spec` breaks the layering, or undefined when it is allowed. */
export function violation(src: string, file: string, spec: string): string | undefined {
  const from = layerOf(src, file);
  if (!spec.startsWith('.')) {
    if (from !== 'core') return undefined;
    const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    return CORE_PACKAGES.has(pkg) ? undefined : `core imports the package ${spec}`;
  }
  const target = resolve(dirname(file), spec);
  if (!target.startsWith(src + '/')) return `imports ${spec}, outside src/`;
  const to = layerOf(src, target);
  if (from === 'shared-other' || to === 'shared-other') return 'src/shared holds only core/ and node/';
  if (from === 'core') return to === 'core' ? undefined : `core imports ${to}`;
  if (from === 'node') return to === 'core' || to === 'node' ? undefined : `node imports the app ${to}`;
  if (to === 'core' || to === 'node' || to === from) return undefined;
  return `the app ${from} imports the app ${to}`;
}
