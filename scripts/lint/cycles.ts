// Import cycles among the files of src/: Tarjan's strongly connected components over the relative
// imports (type-only imports count: a cycle of types still ties two files into one idea), done
// with an explicit stack so a deep tree cannot overflow the call stack. Each component of two or
// more files (or a file importing itself) is reported as cycle paths a → b → … → a that together
// pass through each of its files.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { importsOf } from './layers.js';

/** file -> the files under src it imports (specifiers './x.js' resolve to './x.ts'). */
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const to = importsOf(readFileSync(f, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(f), s).replace(/\.js$/, '.ts'))
      .filter((t) => known.has(t));
    graph.set(f, [...new Set(to)]);
  }
  return graph;
}

/** The strongly connected components that form cycles, each as a list of files. */
export function cyclicComponents(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    (index.set(root, next), low.set(root, next++), stack.push(root), onStack.add(root));
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.node) ?? [];
      if (top.edge < edges.length) {
        const to = edges[top.edge++]!;
        if (!index.has(to)) {
          (index.set(to, next), low.set(to, next++), stack.push(to), onStack.add(to));
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) !== index.get(top.node)) continue;
      const comp: string[] = [];
      for (let n = stack.pop()!; ; n = stack.pop()!) {
        (onStack.delete(n), comp.push(n));
        if (n === top.node) break;
      }
      if (comp.length > 1 || (graph.get(top.node) ?? []).includes(top.node)) out.push(comp.sort());
    }
  }
  return out;
}

/** The shortest cycle through start inside a component (breadth-first), as its files start … start. */
function shortestCycle(graph: ReadonlyMap<string, readonly string[]>, inComp: ReadonlySet<string>, start: string): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i]!;
    for (const to of graph.get(n) ?? []) {
      if (!inComp.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let p: string | undefined = n; p !== undefined && p !== start; p = parent.get(p)) path.splice(1, 0, p);
        return [...path, start];
      }
      if (!parent.has(to)) (parent.set(to, n), queue.push(to));
    }
  }
  return [start, start]; // unreachable for a strongly connected component
}

/**
 * The cycles of one component as "a → b → a" paths, relative to root: the shortest cycle through its
 * first file, then through each file no reported cycle has passed yet, so every file of the tangle
 * shows up in some cycle (listing every elementary cycle could be exponentially many).
 */
export function cyclePaths(graph: ReadonlyMap<string, readonly string[]>, comp: readonly string[], root: string): string[] {
  const inComp = new Set(comp);
  const covered = new Set<string>();
  const out: string[] = [];
  for (const start of [...comp].sort()) {
    if (covered.has(start)) continue;
    const cycle = shortestCycle(graph, inComp, start);
    for (const f of cycle) covered.add(f);
    out.push(cycle.map((f) => relative(root, f)).join(' → '));
  }
  return out;
}
