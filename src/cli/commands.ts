// Every `mvb` command, registered in one list.
import type { CliCommand } from '../shared/cli.js';
import { benchCommand } from './bench.js';
import { devnetCommand } from './devnet.js';

export const mvbCommands: readonly CliCommand[] = [benchCommand, devnetCommand];
