// Opening the wallet for a short-lived command: keys from DATADIR/keys, the wallet databases in
// DATADIR/chain opened shared (see db/index.ts for why that is safe beside a running sync), and the coin
// index brought up to date with the key set.
import { type CommandContext, checkStoreNetwork } from '../shared/node/cli/runner.js';
import type { KeyStore } from '../shared/node/store/keystore.js';
import { blocksToMaturity } from '../shared/core/validation.js';
import { WalletDb } from './db/index.js';
import { type LocalKey, localKeys, openKeys } from './keys.js';
import { chainDir } from './datadir.js';

export interface OpenWallet {
  readonly db: WalletDb;
  readonly ks: KeyStore;
  readonly keys: LocalKey[];
}

export async function withWallet<T>(ctx: CommandContext, f: (w: OpenWallet) => Promise<T> | T): Promise<T> {
  const ks = openKeys(ctx);
  const keys = localKeys(ks, ctx.settings.params.addressVersion);
  const db = WalletDb.openShared(chainDir(ctx.datadir));
  try {
    checkStoreNetwork(db.store, ctx.settings);
    db.ensureIndex(keys.map((k) => k.pkhHex));
    return await f({ db, ks, keys });
  } finally {
    db.close();
  }
}

/** Whether a coin can be spent in the next block, and if not, in how many blocks (the core's rule). */
export function maturity(
  coinHeight: number,
  coinbase: boolean,
  tipHeight: number,
  coinbaseMaturity: number,
): { mature: boolean; inBlocks: number } {
  const inBlocks = blocksToMaturity({ height: coinHeight, coinbase }, tipHeight + 1, coinbaseMaturity);
  return { mature: inBlocks === 0, inBlocks };
}
