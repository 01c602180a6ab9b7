// What the inspect commands share: a miner's, wallet's or explorer's datadir opened shared (no
// lock, read only: LMDB lets any number of readers in beside the running node), the chain as a
// read-only view, and transaction lookups (the explorer's index when the datadir has one, else
// a walk down the best chain).
import { join } from 'node:path';
import { encodeAddress } from '../../../shared/core/address.js';
import { hashToHex, hexToHash } from '../../../shared/core/bytes.js';
import type { Block } from '../../../shared/core/block.js';
import { p2pkhHash } from '../../../shared/core/script.js';
import { type Tx, txid } from '../../../shared/core/tx.js';
import { type CommandContext, CliError } from '../../../shared/node/cli/runner.js';
import { ChainView, type ViewEntry } from '../../../shared/node/store/chain-view.js';
import { LmdbChainStore, chainStoreExists } from '../../../shared/node/store/lmdb-store.js';
import { openAppDb } from '../../../shared/node/store/schema.js';

export interface OpenDatadir {
  readonly store: LmdbChainStore;
  readonly view: ChainView;
  close(): void;
}

/** Opens DIR/chain shared; a clear error when there is no chain there. */
export function openDatadir(ctx: CommandContext): OpenDatadir {
  const dir = join(ctx.datadir, 'chain');
  if (!chainStoreExists(dir)) throw new CliError(`no chain in ${ctx.datadir}: give the --datadir of a miner, wallet or explorer`);
  const store = new LmdbChainStore(dir, 'mvb inspect', { lock: false });
  try {
    const view = new ChainView(store);
    if (!view.tip) throw new CliError(`${ctx.datadir}: the chain store has no tip yet`);
    return { store, view, close: () => store.close() };
  } catch (e) {
    store.close();
    throw e;
  }
}

/** A block by height (on the best chain) or by hash (any branch). */
export function findBlock(d: OpenDatadir, arg: string): { entry: ViewEntry; block: Block } {
  let entry: ViewEntry | undefined;
  if (/^[0-9]{1,10}$/.test(arg)) {
    entry = d.view.active[Number(arg)];
    if (!entry) throw new CliError(`no block at height ${arg}: the best chain here is ${d.view.height} blocks high`);
  } else if (/^[0-9a-fA-F]{64}$/.test(arg)) {
    entry = d.view.get(hexToHash(arg.toLowerCase()));
    if (!entry) throw new CliError(`no block ${arg} in this chain`);
  } else throw new CliError(`"${arg}" is neither a height nor a 64-hex-digit block hash`, 2);
  const block = d.view.block(entry);
  if (!block) throw new CliError(`block ${arg}: only its header is stored here`);
  return { entry, block };
}

export interface FoundTx {
  readonly tx: Tx;
  readonly entry?: ViewEntry;
  readonly pos?: number;
}

/** A confirmed transaction by txid: the explorer's index if present, else every best-chain block from the tip down. */
export function findTx(d: OpenDatadir, id: string): FoundTx | undefined {
  const idx = openAppDb(d.store, 'explorer-txs').get(id);
  if (idx) {
    const entry = d.view.get(hexToHash(idx.block));
    const tx = entry && d.view.block(entry)?.txs[idx.pos];
    if (entry && tx) return { tx, entry, pos: idx.pos };
  }
  for (let h = d.view.height; h >= 0; h--) {
    const entry = d.view.active[h]!;
    const txs = d.view.block(entry)?.txs ?? [];
    const pos = txs.findIndex((t) => hashToHex(txid(t)) === id);
    if (pos >= 0) return { tx: txs[pos]!, entry, pos };
  }
  return undefined;
}

/** Who a block pays: its coinbase's first P2PKH output. */
export function minerOf(block: Block, version: number): string | null {
  for (const o of block.txs[0]?.outputs ?? []) {
    const pkh = p2pkhHash(o.scriptPubKey);
    if (pkh) return encodeAddress(pkh, version);
  }
  return null;
}

export const short = (h: string, n = 16) => (h.length > n ? `${h.slice(0, n)}…` : h);
