// `mvb bench`: every benchmark as a subcommand with typed options, registered in one list;
// `mvb bench all` runs each in turn with its defaults; --check makes any missed target exit code 1.
import { type CliCommand, CliError, command, commandGroup } from '../../../shared/node/cli/command.js';
import { checkOptions } from './report.js';
import { benchMineCommand } from './mine.js';
import { benchVerifyCommand } from './verify.js';
import { benchConnectCommand } from './connect.js';
import { benchSyncCommand } from './sync.js';
import { benchRestartCommand } from './restart.js';
import { benchPropagateCommand } from './propagate.js';
import { benchMempoolCommand } from './mempool.js';

const each: readonly CliCommand[] = [
  benchMineCommand,
  benchVerifyCommand,
  benchConnectCommand,
  benchSyncCommand,
  benchRestartCommand,
  benchPropagateCommand,
  benchMempoolCommand,
];

const benchAllCommand = command({
  name: 'all',
  describe: `every benchmark in turn (${each.map((c) => c.name).join(', ')}) with its defaults (its quick sizes with --quick)`,
  options: checkOptions,
  async handler(_args, opts, ctx) {
    // Only the check options are passed on: each bench's other options take their defaults.
    const given = { check: opts.check, quick: opts.quick, targetScale: opts.targetScale };
    let code = 0;
    for (const c of each) {
      try {
        code = Math.max(code, await c.run([], given, ctx));
      } catch (e) {
        // A bench that fails (one line) does not stop the others; `all` then exits 1.
        if (!(e instanceof CliError)) throw e;
        ctx.io.err(`error: ${e.message}`);
        code = Math.max(code, e.code);
      }
    }
    return code;
  },
});

export const benchCommand = commandGroup({
  name: 'bench',
  describe: `Benchmarks, each printing its figures and their ratio to a reference measured in the same run (--check: exit 1 on a missed target): ${[...each, benchAllCommand].map((c) => c.name).join(', ')}`,
  subcommands: [...each, benchAllCommand],
});
