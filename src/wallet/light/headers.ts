// The light wallet's chain: headers only (the white paper's section 8: "keep a copy of the block
// headers of the longest proof-of-work chain"). The core's own Chain does every check a header
// gets anywhere in mvb (CheckBlockHeader's proof of work, the retarget rule's nBits, the median
// time past, the link to its parent back to genesis) over an LMDB store in DATADIR/light that never
// receives a block body (only the genesis block the Chain writes itself). The best chain here is
// the most-work header chain (Chain.bestHeader), indexed by height once per open.
import { join } from 'node:path';
import { hashToHex } from '../../shared/core/bytes.js';
import { ANTI_DOS_WORK_BLOCKS, Chain, type ChainEntry } from '../../shared/core/chain.js';
import type { Header } from '../../shared/core/header.js';
import type { ConsensusParams } from '../../shared/core/params.js';
import { blockWork } from '../../shared/core/pow.js';
import { ValidationError } from '../../shared/core/validation.js';
import { LmdbChainStore } from '../../shared/node/store/lmdb-store.js';

/** Where the light wallet keeps its headers and what it verified, beside the full wallet's DATADIR/chain. */
export function lightDir(datadir: string): string {
  return join(datadir, 'light');
}

export class LightHeaders {
  readonly chain: Chain;
  /** best[h]: the entry at height h on the most-work header chain. */
  private best: ChainEntry[] = [];

  constructor(
    readonly store: LmdbChainStore,
    params: ConsensusParams,
  ) {
    this.chain = new Chain(params, store);
    this.reindex();
  }

  /** Opens DATADIR/light: locked (one light sync at a time) unless shared, for commands that only read. */
  static open(datadir: string, params: ConsensusParams, o: { shared?: boolean } = {}): LightHeaders {
    const store = new LmdbChainStore(lightDir(datadir), 'mvb-wallet light', o.shared ? { lock: false } : {});
    try {
      return new LightHeaders(store, params);
    } catch (e) {
      store.close();
      throw e;
    }
  }

  close(): void {
    this.store.close();
  }

  get tip(): ChainEntry {
    return this.best[this.best.length - 1]!;
  }

  get height(): number {
    return this.best.length - 1;
  }

  /** Our best chain's header entry at a height, if we have one. */
  atHeight(height: number): ChainEntry | undefined {
    return Number.isInteger(height) && height >= 0 ? this.best[height] : undefined;
  }

  /** Block locator from our best header (Core's CChain::GetLocator). */
  locator(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let step = 1;
    for (let h = this.height; h > 0; h -= step) {
      out.push(this.best[h]!.hash);
      if (out.length >= 10) step *= 2;
    }
    out.push(this.best[0]!.hash);
    return out;
  }

  /**
   * Takes a run of headers from a peer: first the cheap pre-sync check (links, each header's own
   * proof of work, the work it adds: Chain.presyncWork), and a run whose work cannot come within
   * Core's anti-DoS margin (144 blocks at the best header's difficulty) of our best chain is refused
   * unstored; then each header fully (Chain.acceptHeaders: nBits as the retarget rule says, time).
   * Returns how many were new. Throws ValidationError with Core's reason.
   */
  accept(headers: readonly Header[], nowSeconds: number): number {
    if (headers.length === 0) return 0;
    const work = this.chain.presyncWork(headers);
    if (work === undefined) throw new ValidationError('prev-blk-not-found', false, `parent ${hashToHex(headers[0]!.prevHash)} unknown`);
    const margin = BigInt(ANTI_DOS_WORK_BLOCKS) * blockWork(this.tip.header.bits);
    if (work + margin < this.tip.chainWork)
      throw new ValidationError('too-little-chainwork', true, 'headers chain far below our best chain');
    const before = this.chain.entryCount;
    try {
      this.chain.acceptHeaders(headers, nowSeconds);
    } finally {
      this.reindex(); // acceptHeaders keeps the headers before a failing one
    }
    return this.chain.entryCount - before;
  }

  /** Rebuilds the height index from the most-work header back to genesis (iterative, bounded by the height). */
  private reindex(): void {
    const top = this.chain.bestHeader();
    if (this.best[top.height] === top) return;
    const best: ChainEntry[] = new Array<ChainEntry>(top.height + 1);
    for (let e: ChainEntry | undefined = top; e; e = e.parent) best[e.height] = e;
    this.best = best;
  }
}
