// Where the wallet keeps things inside its data directory, and who holds it: DATADIR/keys (PEM
// files, see keys.ts) and DATADIR/chain (the chain store and wallet databases, see db/index.ts), which a
// running `mvb-wallet sync` locks.
import { join } from 'node:path';
import { lockHolder } from '../shared/node/store/lock.js';

export function chainDir(datadir: string): string {
  return join(datadir, 'chain');
}

export function keysDir(datadir: string): string {
  return join(datadir, 'keys');
}

/** PID of a live `mvb-wallet sync` holding the data directory's chain store, if any. */
export function runningSyncPid(datadir: string): number | undefined {
  return lockHolder(chainDir(datadir));
}

/** For commands that read a wallet (CliCommand.readsDataDir): how to create one. */
export function createWalletHint(datadir: string): string {
  return `mvb-wallet --datadir ${/^[\w./-]+$/.test(datadir) ? datadir : JSON.stringify(datadir)} new-address NAME`;
}
