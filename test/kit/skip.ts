// The one way a test skips: it prints `SKIP <title>: <reason>` on its own line, one line for every
// test the skip covers (a skip in a `before` hook skips its whole suite), which .ci/run collects,
// counts against mocha's pending count and prints above its summary. A skip never happens silently.
import type { Context, Runnable, Suite } from 'mocha';

/** Every test in a suite and in the suites nested in it, walked iteratively. */
function testTitles(suite: Suite): string[] {
  const out: string[] = [];
  const todo = [suite];
  while (todo.length > 0) {
    const s = todo.shift()!;
    out.push(...s.tests.map((t) => t.fullTitle()));
    todo.push(...s.suites);
  }
  return out;
}

function printSkips(titles: readonly string[], reason: string): void {
  for (const title of titles) console.log(`SKIP ${title}: ${reason}`);
}

/** Skips the running test, or from a before hook every test of its suite, printing each one's reason. */
export function skipBecause(ctx: Context, reason: string): never {
  // In a hook, ctx.test is the hook and ctx.currentTest the test it runs for (the first, for before all).
  const hook = ctx.test as (Runnable & { type?: string; originalTitle?: string }) | undefined;
  const beforeAll = hook?.type === 'hook' && (hook.originalTitle ?? hook.title).startsWith('"before all" hook');
  if (beforeAll && hook.parent !== undefined) printSkips(testTitles(hook.parent), reason);
  else printSkips([(ctx.currentTest ?? ctx.test)?.fullTitle() ?? 'a test'], reason);
  ctx.skip();
}

/** For a suite declared with describe.skip (known before it runs): prints each of its tests' reason. */
export function printSuiteSkipped(suite: Suite, reason: string): void {
  printSkips(testTitles(suite), reason);
}
