// Every `mvb` command, registered in one list.
import type { CliCommand } from '../shared/node/cli/runner.js';
import { benchCommand } from './cmds/bench/index.js';
import { demoCommand } from './cmds/demo.js';
import { devnetCommand } from './cmds/devnet/index.js';
import { classroomCommand } from './cmds/classroom/index.js';
import { explorerCommand } from './cmds/explorer.js';
import { blockCommand } from './cmds/inspect/block.js';
import { chainCommand } from './cmds/inspect/chain.js';
import { mempoolCommand } from './cmds/inspect/mempool.js';
import { txCommand } from './cmds/inspect/tx.js';
import { simulateCommand } from './cmds/simulate.js';
import { labCommand } from './cmds/lab.js';
import { verifyCommand } from './cmds/verify.js';

export const mvbCommands: readonly CliCommand[] = [
  demoCommand,
  devnetCommand,
  classroomCommand,
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
