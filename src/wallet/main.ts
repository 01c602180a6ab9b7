#!/usr/bin/env node
import { main } from '../shared/node/cli/runner.js';
import { walletCommands } from './commands.js';

await main('mvb-wallet', walletCommands, {
  app: 'wallet',
  description: 'mvb wallet: keys, balances and payments. Keys live in DATADIR/keys, the chain and the wallet index in DATADIR/chain.',
});
