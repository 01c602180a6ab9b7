// Every `mvb` command, registered in one list.
import type { CliCommand } from '../shared/node/cli/runner.js';
import { benchCommand } from './bench/index.js';
import { demoCommand } from './demo.js';
import { devnetCommand } from './devnet/index.js';
import { explorerCommand } from './explorer.js';
import { blockCommand } from './inspect/block.js';
import { chainCommand } from './inspect/chain.js';
import { mempoolCommand } from './inspect/mempool.js';
import { txCommand } from './inspect/tx.js';
import { simulateCommand } from './simulate.js';
import { labCommand } from './lab.js';
import { verifyCommand } from './verify.js';

export const mvbCommands: readonly CliCommand[] = [
  demoCommand,
  devnetCommand,
  simulateCommand,
  benchCommand,
  labCommand,
  explorerCommand,
  blockCommand,
  txCommand,
  chainCommand,
  mempoolCommand,
  verifyCommand,
];
