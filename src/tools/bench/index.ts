// `mvb bench`: every benchmark as a subcommand with typed options, registered in one list;
// `mvb bench all` runs each in turn with its defaults.
import type { CliCommand } from '../../shared/node/cli/runner.js';
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

/** An option's key as commander names it: '--no-python' -> 'python', '--max-x' -> 'maxX'. */
const keyOf = (flags: string): string =>
  flags
    .split(' ')[0]!
    .replace(/^--(no-)?/, '')
    .replace(/-(\w)/g, (_m, x: string) => x.toUpperCase());

const benchAllCommand: CliCommand = {
  name: 'all',
  describe: `every benchmark in turn (${each.map((c) => c.name).join(', ')}) with its defaults`,
  async handler(_args, opts, ctx) {
    for (const c of each) {
      const defaults = Object.fromEntries((c.options ?? []).filter((o) => o.default !== undefined).map((o) => [keyOf(o.flags), o.default]));
      const code = await c.handler([], { ...defaults, ...opts }, ctx);
      if (code !== 0) return code;
    }
    return 0;
  },
};

export const benchCommand: CliCommand = {
  name: 'bench',
  describe: `Benchmarks, each printing its figures and their ratio to a reference measured in the same run: ${[...each, benchAllCommand].map((c) => c.name).join(', ')}`,
  subcommands: [...each, benchAllCommand],
  handler: () => Promise.resolve(2), // a group: commander runs a subcommand or prints help
};
