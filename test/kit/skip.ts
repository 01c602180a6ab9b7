// The one way a test skips: it prints `SKIP <title>: <reason>` (on its own line, which .ci/run
// collects and prints above its summary) and then tells mocha. A skip never happens silently.
import type { Context } from 'mocha';

export function skipBecause(ctx: Context, reason: string): never {
  const title = ctx.currentTest?.fullTitle() ?? ctx.test?.parent?.fullTitle() ?? ctx.test?.fullTitle() ?? 'a test';
  console.log(`SKIP ${title}: ${reason}`);
  ctx.skip();
}
