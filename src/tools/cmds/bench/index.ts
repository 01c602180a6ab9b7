// `mvb bench`: every benchmark as a subcommand with typed options, registered in one list;
// `mvb bench all` runs each in turn with its defaults.
import { type CliCommand, command, commandGroup } from '../../../shared/node/cli/command.js';
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
  describe: `every benchmark in turn (${each.map((c) => c.name).join(', ')}) with its defaults`,
  async handler(_args, _opts, ctx) {
    // No options given: each bench's options take their defaults.
    for (const c of each) {
      const code = await c.run([], {}, ctx);
      if (code !== 0) return code;
    }
    return 0;
  },
});

export const benchCommand = commandGroup({
  name: 'bench',
  describe: `Benchmarks, each printing its figures and their ratio to a reference measured in the same run: ${[...each, benchAllCommand].map((c) => c.name).join(', ')}`,
  subcommands: [...each, benchAllCommand],
});
