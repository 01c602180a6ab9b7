// A chain under test on either store: the MemoryChainStore of the core and the LMDB store of the
// node layer (src/shared/node/store/lmdb-store.ts), so that consensus tests run through the
// store's atomic commit too. What a rejected block must not change is read back from the store.
import {
  type Block,
  type Chain as ChainT,
  type ChainStore,
  type Coin,
  type ConsensusParams,
  Chain,
  MemoryChainStore,
  outpointKey,
} from '../../src/shared/core/index.js';
import { LmdbChainStore } from '../../src/shared/node/store/lmdb-store.js';
import { removeDir, tempDir } from './procs.js';

export type StoreKind = 'memory' | 'lmdb';
export const STORE_KINDS: readonly StoreKind[] = ['memory', 'lmdb'];

/** Every unspent output of a store, by outpoint key. */
export function coinsOf(store: ChainStore): Map<string, Coin> {
  if (store instanceof MemoryChainStore) return new Map(store.coins);
  // LMDB hands back Buffers: compare as plain bytes, as the memory store holds them.
  if (store instanceof LmdbChainStore)
    return new Map(
      [...store.allCoins()].map((c) => [outpointKey(c.txid, c.vout), { ...c.coin, scriptPubKey: Uint8Array.from(c.coin.scriptPubKey) }]),
    );
  throw new Error('coinsOf: unknown store');
}

export interface ChainState {
  readonly tip: string;
  readonly height: number;
  readonly coins: Map<string, Coin>;
}

/** What a rejected block must not change: the tip, the height and the UTXO set. */
export function stateOf(chain: ChainT, store: ChainStore): ChainState {
  return { tip: chain.tip.hashHex, height: chain.height, coins: coinsOf(store) };
}

/** A chain under test on a fresh memory store. */
export function freshChain(params: ConsensusParams): { chain: Chain; store: MemoryChainStore } {
  const store = new MemoryChainStore();
  return { chain: new Chain(params, store), store };
}

/** A chain on a fresh store of the given kind; close() removes an LMDB store's directory. */
export class ChainUnderTest {
  readonly chain: Chain;
  private readonly dir?: string;

  constructor(
    readonly params: ConsensusParams,
    readonly kind: StoreKind,
    readonly store: ChainStore = kind === 'memory' ? new MemoryChainStore() : new LmdbChainStore(tempDir('chain'), 'test'),
  ) {
    if (store instanceof LmdbChainStore) this.dir = store.dir;
    this.chain = new Chain(params, store);
  }

  state(): ChainState {
    return stateOf(this.chain, this.store);
  }

  coins(): Map<string, Coin> {
    return coinsOf(this.store);
  }

  getCoin(txid: Uint8Array, vout: number): Coin | undefined {
    return this.store.getCoin(txid, vout);
  }

  process(b: Block, now: number) {
    return this.chain.processBlock(b, now);
  }

  close(): void {
    if (this.store instanceof LmdbChainStore) this.store.close();
    if (this.dir) removeDir(this.dir);
  }
}
