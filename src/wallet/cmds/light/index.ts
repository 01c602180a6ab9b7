// `mvb-wallet light`: the light (SPV) wallet, beside the full one in the same data directory (the
// same keys; its headers and proofs in DATADIR/light). Each subcommand is its own module.
import { commandGroup } from '../../../shared/node/cli/command.js';
import { lightBalanceCommand } from './balance.js';
import { lightSend } from './send.js';
import { lightSync } from './sync.js';

export const light = commandGroup({
  name: 'light',
  describe: 'a light (SPV) wallet: headers only, payments proven by Merkle branches: `sync`, `balance`, `send`',
  subcommands: [lightSync, lightBalanceCommand, lightSend],
});
