// Chain state: a tree of headers with cumulative work, the active chain (the valid branch with the
// most work, as in Core's ActivateBestChain), and the UTXO set it implies. Blocks connect and
// disconnect through an overlay over the store and every change is committed as one batch, so a
// store that commits atomically never holds a half-connected block. What backs the state is the
// caller's: MemoryChainStore here, an LMDB store in the miner and wallet. Time comes in as an
// argument; nothing here reads a clock or does I/O.
import { equalBytes, hashToHex, toHex } from './bytes.js';
import { type Block } from './block.js';
import { type Header, headerHash } from './header.js';
import { type ConsensusParams, MEDIAN_TIME_SPAN_BLOCKS, targetTimespan } from './params.js';
import { blockWork, nextBits } from './pow.js';
import { type Tx, isCoinbase, txid } from './tx.js';
import {
  type Coin,
  type CoinView,
  ValidationError,
  checkBlockContext,
  checkBlockSanity,
  checkCoinbaseAmount,
  checkHeaderContext,
  checkHeaderSanity,
  checkTxInputs,
  checkTxScripts,
} from './validation.js';
import { outpointKey } from './outpoint.js';
import { type SignatureVerifier, nobleVerifier } from './ecdsa.js';

/** 'header': header only; 'data': block stored, not yet connected; 'valid': connected once; 'failed': invalid (or descends from an invalid block). */

/** Blocks of work below the tip within which a headers chain is stored at once (Core: 144 in GetAntiDoSWorkThreshold). */
export const ANTI_DOS_WORK_BLOCKS = 144;
export type EntryStatus = 'header' | 'data' | 'valid' | 'failed';

/** What the store keeps per header. */
export interface EntryRecord {
  readonly hash: Uint8Array;
  readonly header: Header;
  readonly height: number;
  readonly chainWork: bigint;
  readonly status: EntryStatus;
  /** Arrival order: among branches of equal work, the first seen wins (as in Core). */
  readonly seq: number;
}

export interface ChainEntry {
  readonly hash: Uint8Array;
  readonly hashHex: string;
  readonly header: Header;
  readonly height: number;
  readonly chainWork: bigint;
  readonly parent: ChainEntry | undefined;
  readonly children: ChainEntry[];
  readonly seq: number;
  status: EntryStatus;
  /** This block and all its ancestors have their data (Core: nChainTx != 0). */
  haveChain: boolean;
}

export interface CoinChange {
  readonly txid: Uint8Array;
  readonly vout: number;
  /** The coin, or null when the outpoint is spent. */
  readonly coin: Coin | null;
}

/** One atomic write to the store. */
export interface ChainBatch {
  readonly entries: EntryRecord[];
  readonly blocks: { hash: Uint8Array; block: Block }[];
  readonly undo: { hash: Uint8Array; spent: Coin[] }[];
  readonly coins: CoinChange[];
  readonly tip?: Uint8Array;
  /** Blocks this batch connects to / disconnects from the active chain (for indexes kept beside the chain). */
  readonly connected?: { entry: ChainEntry; block: Block }[];
  readonly disconnected?: { entry: ChainEntry; block: Block }[];
}

export interface ChainStore extends CoinView {
  loadEntries(): Iterable<EntryRecord>;
  getTip(): Uint8Array | undefined;
  getBlock(hash: Uint8Array): Block | undefined;
  getUndo(hash: Uint8Array): Coin[] | undefined;
  /** Must apply the whole batch or nothing. */
  commit(batch: ChainBatch): void;
}

/** A store in memory: for tests, tools and the pure core's own use. */
export class MemoryChainStore implements ChainStore {
  readonly entries = new Map<string, EntryRecord>();
  readonly blocks = new Map<string, Block>();
  readonly undo = new Map<string, Coin[]>();
  readonly coins = new Map<string, Coin>();
  tip: Uint8Array | undefined;

  loadEntries(): Iterable<EntryRecord> {
    return this.entries.values();
  }
  getTip(): Uint8Array | undefined {
    return this.tip;
  }
  getBlock(hash: Uint8Array): Block | undefined {
    return this.blocks.get(toHex(hash));
  }
  getUndo(hash: Uint8Array): Coin[] | undefined {
    return this.undo.get(toHex(hash));
  }
  getCoin(prevTxid: Uint8Array, vout: number): Coin | undefined {
    return this.coins.get(outpointKey(prevTxid, vout));
  }
  commit(b: ChainBatch): void {
    for (const e of b.entries) this.entries.set(toHex(e.hash), e);
    for (const x of b.blocks) this.blocks.set(toHex(x.hash), x.block);
    for (const u of b.undo) this.undo.set(toHex(u.hash), u.spent);
    for (const c of b.coins) {
      const k = outpointKey(c.txid, c.vout);
      if (c.coin === null) this.coins.delete(k);
      else this.coins.set(k, c.coin);
    }
    if (b.tip) this.tip = b.tip;
  }
}

/** Unspent outputs seen through pending changes: Core's CCoinsViewCache. */
export class CoinOverlay implements CoinView {
  readonly changes = new Map<string, CoinChange>();
  constructor(private readonly base: CoinView) {}
  getCoin(prevTxid: Uint8Array, vout: number): Coin | undefined {
    const c = this.changes.get(outpointKey(prevTxid, vout));
    if (c !== undefined) return c.coin ?? undefined;
    return this.base.getCoin(prevTxid, vout);
  }
  add(txidBytes: Uint8Array, vout: number, coin: Coin): void {
    this.changes.set(outpointKey(txidBytes, vout), { txid: txidBytes, vout, coin });
  }
  spend(prevTxid: Uint8Array, vout: number): void {
    this.changes.set(outpointKey(prevTxid, vout), { txid: prevTxid, vout, coin: null });
  }
}

/** How a block (or a header) changed the chain. */
export interface ChainUpdate {
  /** Blocks connected to the active chain, oldest first, with their heights. */
  readonly connected: { block: Block; entry: ChainEntry }[];
  /** Blocks disconnected from the active chain, newest first. */
  readonly disconnected: { block: Block; entry: ChainEntry }[];
  /** Blocks found invalid while activating the best chain. */
  readonly invalid: { entry: ChainEntry; error: ValidationError }[];
}

export type BlockResult =
  | ({ readonly status: 'accepted'; readonly entry: ChainEntry } & ChainUpdate)
  | { readonly status: 'duplicate'; readonly entry: ChainEntry }
  | { readonly status: 'orphan'; readonly missingParent: Uint8Array };

/** The store holds a chain whose genesis is not this network's: it was written for another network. */
export class NetworkMismatchError extends Error {
  override readonly name = 'NetworkMismatchError';
  constructor(
    /** The network that was asked for. */
    readonly network: string,
    /** The genesis hash found in the store (internal order), when known. */
    readonly storedGenesis?: Uint8Array,
  ) {
    super(`the store holds another network's chain${storedGenesis ? ` (genesis ${hashToHex(storedGenesis)})` : ''}, not ${network}'s`);
  }
}

export interface ChainOptions {
  /** Blocks whose parent is unknown wait here, at most this many (oldest dropped first). */
  readonly maxOrphans?: number;
  /** Signature verifier for connecting blocks (the core's noble one unless the node layer passes a faster one). */
  readonly verifier?: SignatureVerifier;
}

export class Chain {
  private readonly verifier: SignatureVerifier;
  private readonly index = new Map<string, ChainEntry>();
  /** active[h] is the block at height h on the best valid chain. */
  private active: ChainEntry[] = [];
  private readonly candidates = new Set<ChainEntry>();
  private readonly orphans = new Map<string, Block>();
  private nextSeq = 0;
  private readonly maxOrphans: number;
  /** While processBlocks runs: block data and entries held back to go out with the next commit. */
  private deferred: { entries: EntryRecord[]; blocks: Map<string, { hash: Uint8Array; block: Block }> } | undefined;

  constructor(
    readonly params: ConsensusParams,
    readonly store: ChainStore,
    opts: ChainOptions = {},
  ) {
    this.maxOrphans = opts.maxOrphans ?? 64;
    this.verifier = opts.verifier ?? nobleVerifier;
    const records = [...store.loadEntries()].sort((a, b) => a.height - b.height || a.seq - b.seq);
    if (records.length === 0) {
      const g = params.genesis;
      const rec: EntryRecord = {
        hash: params.genesisHash,
        header: g.header,
        height: 0,
        chainWork: blockWork(g.header.bits),
        status: 'valid',
        seq: 0,
      };
      // As in Bitcoin, the genesis coinbase is not added to the UTXO set: it cannot be spent.
      store.commit({ entries: [rec], blocks: [{ hash: rec.hash, block: g }], undo: [], coins: [], tip: rec.hash });
      records.push(rec);
    } else if (toHex(records[0]!.hash) !== toHex(params.genesisHash)) {
      throw new NetworkMismatchError(params.name, records[0]!.hash);
    }
    for (const r of records) this.addEntry(r);
    const tipHash = store.getTip();
    const tip = tipHash ? this.index.get(toHex(tipHash)) : undefined;
    this.setActive(tip ?? this.index.get(toHex(params.genesisHash))!);
    for (const e of this.index.values()) this.maybeCandidate(e);
  }

  // ------------------------------------------------------------ queries

  get tip(): ChainEntry {
    return this.active[this.active.length - 1]!;
  }
  get height(): number {
    return this.active.length - 1;
  }
  /** The header tree entry by hash (internal order). */
  getEntry(hash: Uint8Array): ChainEntry | undefined {
    return this.index.get(toHex(hash));
  }
  /** The active chain's entry at a height. */
  atHeight(height: number): ChainEntry | undefined {
    return this.active[height];
  }
  isActive(e: ChainEntry): boolean {
    return this.active[e.height] === e;
  }
  getBlock(hash: Uint8Array): Block | undefined {
    return this.deferred?.blocks.get(toHex(hash))?.block ?? this.store.getBlock(hash);
  }
  get coins(): CoinView {
    return this.store;
  }
  /** The header with the most work that we know of, valid or not yet checked beyond its header. */
  bestHeader(): ChainEntry {
    let best = this.tip;
    for (const e of this.index.values()) if (e.status !== 'failed' && e.chainWork > best.chainWork) best = e;
    return best;
  }
  /** Entries in the block tree: every stored header, with or without its block (the anti-DoS tests count these). */
  get entryCount(): number {
    return this.index.size;
  }

  get orphanCount(): number {
    return this.orphans.size;
  }

  ancestor(e: ChainEntry, height: number): ChainEntry | undefined {
    if (height < 0 || height > e.height) return undefined;
    let x: ChainEntry | undefined = e;
    while (x && x.height > height) {
      if (this.isActive(x)) return this.active[height];
      x = x.parent;
    }
    return x;
  }

  /** Median of the times of the last 11 blocks ending at e (Core's GetMedianTimePast). */
  medianTimePast(e: ChainEntry): number {
    const times: number[] = [];
    for (let x: ChainEntry | undefined = e; x && times.length < MEDIAN_TIME_SPAN_BLOCKS; x = x.parent) times.push(x.header.time);
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  }

  /** nBits the child of prev must carry (Core's GetNextWorkRequired, without testnet's special cases). */
  requiredBits(prev: ChainEntry): number {
    const interval = this.params.retargetInterval;
    if ((prev.height + 1) % interval !== 0) return prev.header.bits;
    // Core measures from the first block of the period, interval - 1 blocks back (the famous off-by-one).
    const first = this.ancestor(prev, prev.height - (interval - 1))!;
    return nextBits(prev.header.bits, first.header.time, prev.header.time, {
      targetTimespan: targetTimespan(this.params),
      powLimit: this.params.powLimit,
    });
  }

  /** What a miner needs to build on the tip. */
  templateContext(): { prevHash: Uint8Array; height: number; bits: number; medianTimePast: number } {
    const tip = this.tip;
    return { prevHash: tip.hash, height: tip.height + 1, bits: this.requiredBits(tip), medianTimePast: this.medianTimePast(tip) };
  }

  /** Block locator: hashes from the tip back, dense then exponentially sparse, ending at genesis. */
  locator(from: ChainEntry = this.tip): Uint8Array[] {
    const out: Uint8Array[] = [];
    let step = 1;
    let h = from.height;
    while (h > 0) {
      out.push(this.ancestor(from, h)!.hash);
      if (out.length >= 10) step *= 2;
      h -= step;
    }
    out.push(this.params.genesisHash);
    return out;
  }

  /** The last active block that the locator names (the fork point with the asker); genesis if none. */
  findFork(locator: readonly Uint8Array[]): ChainEntry {
    for (const h of locator) {
      const e = this.getEntry(h);
      if (e && this.isActive(e)) return e;
    }
    return this.active[0]!;
  }

  /** Active headers after the locator's fork point, at most max. */
  headersAfter(locator: readonly Uint8Array[], max: number): Header[] {
    const fork = this.findFork(locator);
    const out: Header[] = [];
    for (let h = fork.height + 1; h <= this.height && out.length < max; h++) out.push(this.active[h]!.header);
    return out;
  }

  // ------------------------------------------------------------ headers

  private addEntry(r: EntryRecord): ChainEntry {
    const parent = r.height === 0 ? undefined : this.index.get(toHex(r.header.prevHash));
    const e: ChainEntry = {
      hash: r.hash,
      hashHex: toHex(r.hash),
      header: r.header,
      height: r.height,
      chainWork: r.chainWork,
      parent,
      children: [],
      seq: r.seq,
      status: r.status,
      haveChain: r.status !== 'header' && (parent === undefined || parent.haveChain),
    };
    parent?.children.push(e);
    this.index.set(e.hashHex, e);
    if (r.seq >= this.nextSeq) this.nextSeq = r.seq + 1;
    return e;
  }

  private record(e: ChainEntry): EntryRecord {
    return { hash: e.hash, header: e.header, height: e.height, chainWork: e.chainWork, status: e.status, seq: e.seq };
  }

  /**
   * Validates a header against its parent (proof of work, nBits, time) and adds it to the tree.
   * Returns the existing entry for a known header. Throws ValidationError.
   */
  /**
   * Headers-first catch-up: acceptHeader on each in turn, written with one store commit. Stops at
   * the first header that fails, keeps those before it, then throws that header's error.
   */
  acceptHeaders(headers: readonly Header[], nowSeconds: number): ChainEntry[] {
    const out: ChainEntry[] = [];
    const outer = this.deferred;
    this.deferred ??= { entries: [], blocks: new Map() };
    try {
      for (const h of headers) out.push(this.acceptHeader(h, nowSeconds));
    } finally {
      if (!outer) {
        this.commit({ entries: [], blocks: [], undo: [], coins: [] }, true);
        this.deferred = undefined;
      }
    }
    return out;
  }

  /**
   * Core's GetAntiDoSWorkThreshold (validation.cpp): a headers chain is stored only once it reaches
   * this much work, the tip's minus 144 blocks at the tip's difficulty (about a day on mainnet), so
   * a fork of cheap low-difficulty headers costs the attacker its work and costs us no storage.
   * Zero while the chain is shorter than that.
   */
  antiDoSWorkThreshold(): bigint {
    const tip = this.tip;
    const nearTip = BigInt(ANTI_DOS_WORK_BLOCKS) * blockWork(tip.header.bits);
    return tip.chainWork > nearTip ? tip.chainWork - nearTip : 0n;
  }

  /**
   * Headers pre-sync's cheap check (Core's HeadersSyncState, in short): the headers link one to
   * the next, each meets its own nBits (checkHeaderSanity), and the first extends a stored entry.
   * Returns the chain work at the last header, from which the caller decides whether to store the
   * run (acceptHeaders then checks each fully: nBits as required, time); nothing is stored here.
   * Undefined when the first header's parent is unknown. Throws ValidationError on a broken run.
   */
  presyncWork(headers: readonly Header[]): bigint | undefined {
    if (headers.length === 0) return this.bestHeader().chainWork;
    const parent = this.index.get(toHex(headers[0]!.prevHash));
    if (!parent) return undefined;
    let work = parent.chainWork;
    let prev = headers[0]!.prevHash;
    for (const h of headers) {
      if (!equalBytes(h.prevHash, prev)) throw new ValidationError('bad-prevblk', true, 'headers do not connect');
      const hash = headerHash(h);
      checkHeaderSanity(h, this.params, hash);
      work += blockWork(h.bits);
      prev = hash;
    }
    return work;
  }

  acceptHeader(header: Header, nowSeconds: number): ChainEntry {
    const hash = headerHash(header);
    const known = this.index.get(toHex(hash));
    if (known) {
      if (known.status === 'failed') throw new ValidationError('duplicate-invalid', true, 'block is marked invalid');
      return known;
    }
    checkHeaderSanity(header, this.params, hash);
    const parent = this.index.get(toHex(header.prevHash));
    if (!parent) throw new ValidationError('prev-blk-not-found', false, `parent ${hashToHex(header.prevHash)} unknown`);
    if (parent.status === 'failed') throw new ValidationError('bad-prevblk', true, 'previous block is invalid');
    checkHeaderContext(
      header,
      { height: parent.height, requiredBits: this.requiredBits(parent), medianTimePast: this.medianTimePast(parent) },
      nowSeconds,
    );
    const rec: EntryRecord = {
      hash,
      header,
      height: parent.height + 1,
      chainWork: parent.chainWork + blockWork(header.bits),
      status: 'header',
      seq: this.nextSeq++,
    };
    this.commit({ entries: [rec], blocks: [], undo: [], coins: [] });
    return this.addEntry(rec);
  }

  // ------------------------------------------------------------ blocks

  /**
   * Takes a block from anywhere: checks it, stores it, and makes the chain with the most work
   * active, reorganising if needed. A block whose parent is unknown waits as an orphan and is
   * processed when the parent arrives. Throws ValidationError if this block is invalid; the
   * state is then unchanged except that the block is remembered as invalid.
   */
  processBlock(block: Block, nowSeconds: number): BlockResult {
    const hash = headerHash(block.header);
    const known = this.index.get(toHex(hash));
    if (known && known.status !== 'header') {
      if (known.status === 'failed') throw new ValidationError('duplicate-invalid', true, 'block is marked invalid');
      return { status: 'duplicate', entry: known };
    }
    checkBlockSanity(block, this.params);
    if (!known && !this.index.has(toHex(block.header.prevHash))) {
      this.addOrphan(block);
      return { status: 'orphan', missingParent: block.header.prevHash };
    }
    const entry = this.storeBlock(block, nowSeconds);
    const update = this.activateBestChain();
    const failed = update.invalid.find((x) => x.entry === entry);
    // Blocks that were waiting for this one.
    const merged: ChainUpdate = { connected: [...update.connected], disconnected: [...update.disconnected], invalid: [...update.invalid] };
    if (!failed) this.processOrphansOf(entry, nowSeconds, merged);
    if (failed) throw failed.error;
    return { status: 'accepted', entry, ...merged };
  }

  /**
   * Core's TestBlockValidity, for any block whose parent we hold: every check a block must pass —
   * its header's proof of work and sanity, its transactions and Merkle root, the header in context
   * (bits, time against the parent), the block in context (BIP34 height, finality), then every input
   * and signature against `view` and the coinbase's amount — without storing or connecting anything.
   * `view` is the UTXO set the block would spend from (the chain's own for a child of the tip). Throws
   * the first ValidationError, with Core's reason, as connecting it would.
   */
  testBlockValidity(block: Block, nowSeconds: number, view: CoinView): void {
    checkBlockSanity(block, this.params);
    const parent = this.index.get(toHex(block.header.prevHash));
    if (!parent) throw new ValidationError('prev-blk-not-found', false, 'the previous block is not known');
    checkHeaderContext(
      block.header,
      { height: parent.height, requiredBits: this.requiredBits(parent), medianTimePast: this.medianTimePast(parent) },
      nowSeconds,
    );
    checkBlockContext(block, parent.height + 1, this.medianTimePast(parent));
    this.connectBlock(block, parent.height + 1, new CoinOverlay(view));
  }

  /**
   * Catch-up: takes many blocks (in chain order, as fetched) and writes them with ONE store
   * commit: their data, their connection to the active chain and the new tip go out together, so
   * a kill -9 leaves the state before or after the whole batch. Same checks and outcome as
   * processBlock on each in turn: stops at the first block that fails its checks, connects what
   * came before it, and returns that block's error as `rejected`; a block that fails while being
   * connected is marked invalid and reported in `invalid`, its valid ancestors connected.
   */
  processBlocks(blocks: readonly Block[], nowSeconds: number): ChainUpdate & { readonly rejected?: ValidationError } {
    const update: ChainUpdate = { connected: [], disconnected: [], invalid: [] };
    let failure: unknown;
    this.deferred = { entries: [], blocks: new Map() };
    try {
      for (const block of blocks) {
        try {
          this.stageBlock(block, nowSeconds);
        } catch (e) {
          failure = e;
          break;
        }
      }
      const u = this.activateBestChain();
      update.connected.push(...u.connected);
      update.disconnected.push(...u.disconnected);
      update.invalid.push(...u.invalid);
      this.commit({ entries: [], blocks: [], undo: [], coins: [] }, true);
    } finally {
      this.deferred = undefined;
    }
    if (failure instanceof ValidationError) return { ...update, rejected: failure };
    if (failure !== undefined) throw failure;
    return update;
  }

  /** processBlock's checks and storage without activating: duplicates skipped, orphans kept. */
  private stageBlock(block: Block, nowSeconds: number): void {
    const hash = headerHash(block.header);
    const known = this.index.get(toHex(hash));
    if (known && known.status !== 'header') {
      if (known.status === 'failed') throw new ValidationError('duplicate-invalid', true, 'block is marked invalid');
      return;
    }
    checkBlockSanity(block, this.params);
    if (!known && !this.index.has(toHex(block.header.prevHash))) return this.addOrphan(block);
    this.storeBlock(block, nowSeconds);
  }

  /**
   * Writes a batch. While processBlocks runs, writes that move no tip (new entries, block data,
   * failure marks) are held back and go out with the next one that does, or with the final flush.
   */
  private commit(b: ChainBatch, flush = false): void {
    const d = this.deferred;
    if (d && !flush && !b.tip && !b.coins.length && !b.undo.length) {
      d.entries.push(...b.entries);
      for (const x of b.blocks) d.blocks.set(toHex(x.hash), x);
      return;
    }
    if (d && (d.entries.length || d.blocks.size)) {
      b = { ...b, entries: [...d.entries, ...b.entries], blocks: [...d.blocks.values(), ...b.blocks] };
      this.deferred = { entries: [], blocks: new Map() };
    }
    if (b.entries.length || b.blocks.length || b.undo.length || b.coins.length || b.tip) this.store.commit(b);
  }

  private storeBlock(block: Block, nowSeconds: number): ChainEntry {
    const entry = this.acceptHeader(block.header, nowSeconds);
    const parent = entry.parent!;
    try {
      checkBlockContext(block, entry.height, this.medianTimePast(parent));
    } catch (e) {
      if (e instanceof ValidationError) this.markFailed(entry);
      throw e;
    }
    entry.status = 'data';
    entry.haveChain = parent.haveChain;
    this.commit({ entries: [this.record(entry)], blocks: [{ hash: entry.hash, block }], undo: [], coins: [] });
    if (entry.haveChain) this.spreadHaveChain(entry);
    return entry;
  }

  private spreadHaveChain(from: ChainEntry): void {
    const stack = [from];
    while (stack.length) {
      const e = stack.pop()!;
      this.maybeCandidate(e);
      for (const c of e.children) {
        if (!c.haveChain && (c.status === 'data' || c.status === 'valid')) {
          c.haveChain = true;
          stack.push(c);
        }
      }
    }
  }

  private maybeCandidate(e: ChainEntry): void {
    if (e.haveChain && e.status !== 'failed' && e.status !== 'header' && e.chainWork >= this.tip.chainWork) this.candidates.add(e);
  }

  private addOrphan(block: Block): void {
    if (this.orphans.size >= this.maxOrphans) this.orphans.delete(this.orphans.keys().next().value!);
    this.orphans.set(toHex(headerHash(block.header)), block);
  }

  private processOrphansOf(parent: ChainEntry, nowSeconds: number, into: ChainUpdate): void {
    for (const [h, b] of [...this.orphans]) {
      if (toHex(b.header.prevHash) !== parent.hashHex || !this.orphans.delete(h)) continue;
      try {
        // Recursion reaches the orphan's own children; depth is bounded by maxOrphans.
        const r = this.processBlock(b, nowSeconds);
        if (r.status === 'accepted') {
          into.connected.push(...r.connected);
          into.disconnected.push(...r.disconnected);
          into.invalid.push(...r.invalid);
        }
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
      }
    }
  }

  /** Marks e and every descendant failed, and persists that. */
  private markFailed(e: ChainEntry): void {
    const recs: EntryRecord[] = [];
    const stack = [e];
    while (stack.length) {
      const x = stack.pop()!;
      x.status = 'failed';
      this.candidates.delete(x);
      recs.push(this.record(x));
      stack.push(...x.children);
    }
    this.commit({ entries: recs, blocks: [], undo: [], coins: [] });
  }

  private bestCandidate(): ChainEntry {
    let best = this.tip;
    for (const c of this.candidates) {
      if (c.status === 'failed' || c.chainWork < this.tip.chainWork) {
        this.candidates.delete(c);
        continue;
      }
      // More work wins; on equal work the block seen first (Core's nSequenceId), so an equal
      // branch never displaces the tip.
      if (c.chainWork > best.chainWork || (c.chainWork === best.chainWork && c.seq < best.seq && best !== this.tip)) best = c;
    }
    return best;
  }

  /**
   * Core's ActivateBestChain: while some fully-available branch has more work than the tip, move
   * to it. Each move is validated in an overlay and committed as one batch; a block that fails is
   * marked invalid with its descendants, and the next best branch is tried.
   */
  activateBestChain(): ChainUpdate {
    const update: ChainUpdate = { connected: [], disconnected: [], invalid: [] };
    for (;;) {
      const best = this.bestCandidate();
      if (best === this.tip) return update;
      const r = this.reorganizeTo(best);
      if ('failed' in r) {
        update.invalid.push(r.failed);
        this.markFailed(r.failed.entry);
        continue;
      }
      update.disconnected.push(...r.disconnected);
      update.connected.push(...r.connected);
    }
  }

  private reorganizeTo(
    target: ChainEntry,
  ):
    | { connected: ChainUpdate['connected']; disconnected: ChainUpdate['disconnected'] }
    | { failed: { entry: ChainEntry; error: ValidationError } } {
    const view = new CoinOverlay(this.store);
    const batch: ChainBatch = { entries: [], blocks: [], undo: [], coins: [], tip: target.hash };
    // Path from the fork point up to target.
    const path: ChainEntry[] = [];
    let x: ChainEntry | undefined = target;
    while (x && !this.isActive(x)) {
      path.push(x);
      x = x.parent;
    }
    const fork = x!;
    path.reverse();
    const disconnected: ChainUpdate['disconnected'] = [];
    for (let h = this.height; h > fork.height; h--) {
      const e = this.active[h]!;
      const block = this.getBlock(e.hash)!;
      this.disconnectBlock(block, e, view);
      disconnected.push({ block, entry: e });
    }
    const connected: ChainUpdate['connected'] = [];
    for (const e of path) {
      const block = this.getBlock(e.hash);
      if (!block) throw new Error(`block data missing for ${hashToHex(e.hash)}`);
      try {
        const spent = this.connectBlock(block, e.height, view);
        batch.undo.push({ hash: e.hash, spent });
      } catch (err) {
        if (err instanceof ValidationError) return { failed: { entry: e, error: err } };
        throw err;
      }
      // Marked valid in memory only once the batch commits: a failed move leaves no trace.
      if (e.status !== 'valid') batch.entries.push({ ...this.record(e), status: 'valid' });
      connected.push({ block, entry: e });
    }
    batch.coins.push(...view.changes.values());
    this.commit({ ...batch, connected, disconnected });
    for (const c of connected) c.entry.status = 'valid';
    this.setActive(target);
    return { connected, disconnected };
  }

  /** Core's ConnectBlock: spend inputs, add outputs, check amounts and signatures. Returns undo data. */
  private connectBlock(block: Block, height: number, view: CoinOverlay): Coin[] {
    const spent: Coin[] = [];
    let fees = 0n;
    for (let i = 0; i < block.txs.length; i++) {
      const tx = block.txs[i]!;
      const id = txid(tx);
      if (i > 0) {
        try {
          fees += checkTxInputs(tx, view, height, this.params);
          checkTxScripts(tx, view, this.verifier);
        } catch (err) {
          // Missing or immature inputs are no fault in a relayed transaction, but any failure
          // inside a block is a consensus failure its sender is to blame for (Core's ConnectBlock).
          if (err instanceof ValidationError && !err.misbehaving) throw new ValidationError(err.code, true, err.detail);
          throw err;
        }
        for (const inp of tx.inputs) {
          spent.push(view.getCoin(inp.prevTxid, inp.vout)!);
          view.spend(inp.prevTxid, inp.vout);
        }
      }
      // BIP30 is implied by BIP34: a coinbase carries its height, so txids never repeat.
      tx.outputs.forEach((o, vout) =>
        view.add(id, vout, { value: o.value, scriptPubKey: o.scriptPubKey, height: height, coinbase: i === 0 }),
      );
    }
    checkCoinbaseAmount(block, height, fees, this.params);
    return spent;
  }

  /** Core's DisconnectBlock: remove the block's outputs and restore what it spent from undo data. */
  private disconnectBlock(block: Block, e: ChainEntry, view: CoinOverlay): void {
    const undo = this.store.getUndo(e.hash);
    if (!undo) throw new Error(`undo data missing for ${hashToHex(e.hash)}`);
    let u = undo.length;
    for (let i = block.txs.length - 1; i >= 0; i--) {
      const tx = block.txs[i]!;
      const id = txid(tx);
      for (let vout = 0; vout < tx.outputs.length; vout++) view.spend(id, vout);
      if (i === 0) continue;
      for (let k = tx.inputs.length - 1; k >= 0; k--) {
        const inp = tx.inputs[k]!;
        view.add(inp.prevTxid, inp.vout, undo[--u]!);
      }
    }
  }

  /** Makes tip's chain the active one, rewriting only the heights above the fork (flat in N). */
  private setActive(tip: ChainEntry): void {
    const path: ChainEntry[] = [];
    for (let x: ChainEntry | undefined = tip; x && this.active[x.height] !== x; x = x.parent) path.push(x);
    this.active.length = tip.height + 1;
    for (const x of path) this.active[x.height] = x;
    for (const c of this.candidates) if (c.chainWork <= tip.chainWork) this.candidates.delete(c);
  }

  /**
   * What a reorganisation gives back to a mempool (Core's DisconnectedBlockTransactions): the
   * transactions of disconnected blocks, oldest first, without coinbases and without those the
   * connected blocks mined again.
   */
  static returnedTransactions(update: Pick<ChainUpdate, 'disconnected' | 'connected'>): Tx[] {
    if (update.disconnected.length === 0) return [];
    const mined = new Set<string>();
    for (const c of update.connected) for (const tx of c.block.txs) mined.add(toHex(txid(tx)));
    const out: Tx[] = [];
    for (let i = update.disconnected.length - 1; i >= 0; i--) {
      for (const tx of update.disconnected[i]!.block.txs) if (!isCoinbase(tx) && !mined.has(toHex(txid(tx)))) out.push(tx);
    }
    return out;
  }
}
