// The memory pool: transactions that are valid against the active chain's UTXO set plus the
// outputs of other pool transactions (so a child may follow its unconfirmed parent), with no
// two spending the same output. As in Core, it re-checks itself when blocks connect or
// disconnect, takes back the transactions of disconnected blocks, pays at least a minimum relay
// fee rate, and evicts the lowest fee rate first when full.
import { hashToHex, toHex } from '../core/bytes.js';
import { Chain, type ChainUpdate } from '../core/chain.js';
import { type Tx, encodeTx, isCoinbase, txid } from '../core/tx.js';
import {
  type Coin,
  type CoinView,
  ValidationError,
  checkTxInputs,
  checkTxSanity,
  checkTxScripts,
  isFinalTx,
} from '../core/validation.js';
import { outpointKey } from '../core/outpoint.js';
import { opensslVerifier } from './verifier.js';

export interface MempoolEntry {
  readonly tx: Tx;
  readonly txid: Uint8Array;
  readonly key: string;
  readonly raw: Uint8Array;
  readonly size: number;
  readonly fee: bigint;
  /** Base units per byte, for ordering only (fees themselves stay bigint). */
  readonly feeRate: number;
  /** Arrival order. */
  readonly seq: number;
  /** Pool transactions this one spends outputs of. */
  readonly parents: Set<string>;
  readonly children: Set<string>;
}

export interface MempoolOptions {
  /** Base units per byte. */
  readonly minRelayFeeRate: number;
  readonly maxBytes: number;
}

export type AcceptResult = { readonly status: 'accepted'; readonly entry: MempoolEntry; readonly evicted: string[] } | { readonly status: 'known'; readonly entry: MempoolEntry };

export class Mempool {
  private readonly entries = new Map<string, MempoolEntry>();
  /** outpoint key -> key of the pool transaction spending it. */
  private readonly spends = new Map<string, string>();
  private bytes = 0;
  private seq = 0;
  readonly stats = { accepted: 0, rejected: 0, known: 0, evicted: 0, mined: 0, conflicted: 0, returned: 0 };

  constructor(
    private readonly chain: Chain,
    private readonly opts: MempoolOptions,
  ) {}

  get size(): number {
    return this.entries.size;
  }
  get totalBytes(): number {
    return this.bytes;
  }
  has(id: Uint8Array): boolean {
    return this.entries.has(toHex(id));
  }
  get(id: Uint8Array): MempoolEntry | undefined {
    return this.entries.get(toHex(id));
  }
  all(): MempoolEntry[] {
    return [...this.entries.values()];
  }

  /** Chain UTXOs plus pool outputs, minus outputs pool transactions spend. */
  view(): CoinView {
    const base = this.chain.coins;
    const height = this.chain.height + 1;
    return {
      getCoin: (prevTxid, vout): Coin | undefined => {
        if (this.spends.has(outpointKey(prevTxid, vout))) return undefined;
        const parent = this.entries.get(toHex(prevTxid));
        if (parent) {
          const o = parent.tx.outputs[vout];
          return o ? { value: o.value, scriptPubKey: o.scriptPubKey, height, coinbase: false } : undefined;
        }
        return base.getCoin(prevTxid, vout);
      },
    };
  }

  /**
   * Validates tx against the tip and the pool and adds it. Throws ValidationError with Core's
   * reason ("txn-mempool-conflict", "min relay fee not met", "bad-txns-...").
   */
  accept(tx: Tx): AcceptResult {
    const id = txid(tx);
    const key = toHex(id);
    const known = this.entries.get(key);
    if (known) {
      this.stats.known++;
      return { status: 'known', entry: known };
    }
    try {
      const r = this.acceptNew(tx, id, key);
      // Counted here, not in acceptNew: update() re-admits entries through it without new arrivals.
      this.stats.accepted++;
      return r;
    } catch (e) {
      if (e instanceof ValidationError) this.stats.rejected++;
      throw e;
    }
  }

  /**
   * scriptsChecked: the signatures were already verified against these same outputs (a pool
   * entry re-checked after a block, or a transaction of a disconnected block). A signature's
   * validity depends only on the transaction and the spent output, so, like Core's script cache,
   * we skip the costly part.
   */
  private acceptNew(tx: Tx, id: Uint8Array, key: string, scriptsChecked = false): AcceptResult {
    const params = this.chain.params;
    checkTxSanity(tx, params);
    if (isCoinbase(tx)) throw new ValidationError('coinbase', true, 'coinbase transactions are only valid in blocks');
    const tip = this.chain.tip;
    // Core's policy: final in the next block, by height and by median time past (BIP113).
    if (!isFinalTx(tx, tip.height + 1, this.chain.medianTimePast(tip))) throw new ValidationError('non-final', false);
    for (const i of tx.inputs) {
      const other = this.spends.get(outpointKey(i.prevTxid, i.vout));
      if (other !== undefined) throw new ValidationError('txn-mempool-conflict', false, `input already spent by ${hashToHex(this.entries.get(other)!.txid)}`);
    }
    const view = this.view();
    const fee = checkTxInputs(tx, view, tip.height + 1, params);
    if (!scriptsChecked) checkTxScripts(tx, view, opensslVerifier);
    const raw = encodeTx(tx);
    const size = raw.length;
    if (fee < BigInt(Math.ceil(this.opts.minRelayFeeRate * size))) {
      throw new ValidationError('min relay fee not met', false, `${fee} < ${Math.ceil(this.opts.minRelayFeeRate * size)} for ${size} bytes`);
    }
    const parents = new Set<string>();
    for (const i of tx.inputs) {
      const p = toHex(i.prevTxid);
      if (this.entries.has(p)) parents.add(p);
    }
    const entry: MempoolEntry = { tx, txid: id, key, raw, size, fee, feeRate: Number(fee) / size, seq: this.seq++, parents, children: new Set() };
    this.insert(entry);
    const evicted = this.trim();
    if (evicted.includes(key)) {
      // The newcomer itself had the lowest fee rate: it never entered, so it is refused, not evicted.
      this.stats.evicted--;
      throw new ValidationError('mempool full', false, 'fee rate too low to enter a full pool');
    }
    return { status: 'accepted', entry, evicted };
  }

  private insert(e: MempoolEntry): void {
    this.entries.set(e.key, e);
    for (const i of e.tx.inputs) this.spends.set(outpointKey(i.prevTxid, i.vout), e.key);
    for (const p of e.parents) this.entries.get(p)?.children.add(e.key);
    this.bytes += e.size;
  }

  /** Removes a transaction and, with descendants, everything that spends its outputs. Returns removed keys. */
  private remove(key: string, withDescendants: boolean): string[] {
    const removed: string[] = [];
    const stack = [key];
    while (stack.length) {
      const k = stack.pop()!;
      const e = this.entries.get(k);
      if (!e) continue;
      this.entries.delete(k);
      this.bytes -= e.size;
      for (const i of e.tx.inputs) {
        const ok = outpointKey(i.prevTxid, i.vout);
        if (this.spends.get(ok) === k) this.spends.delete(ok);
      }
      for (const p of e.parents) this.entries.get(p)?.children.delete(k);
      for (const c of e.children) {
        if (withDescendants) stack.push(c);
        else this.entries.get(c)?.parents.delete(k);
      }
      removed.push(k);
    }
    return removed;
  }

  /** Evicts the lowest fee rate transactions (with their descendants) until under maxBytes. */
  private trim(): string[] {
    const out: string[] = [];
    if (this.bytes <= this.opts.maxBytes) return out;
    const byRate = [...this.entries.values()].sort((a, b) => a.feeRate - b.feeRate || b.seq - a.seq);
    for (const e of byRate) {
      if (this.bytes <= this.opts.maxBytes) break;
      if (!this.entries.has(e.key)) continue;
      const r = this.remove(e.key, true);
      this.stats.evicted += r.length;
      out.push(...r);
    }
    return out;
  }

  /**
   * Brings the pool in line with a chain change: mined transactions leave, those of disconnected
   * blocks come back, and every remaining entry is checked again against the new tip (conflicts
   * with mined spends, coinbase maturity after a reorg, finality). Returns what was dropped.
   */
  update(u: ChainUpdate): { mined: number; returned: number; dropped: string[] } {
    const minedKeys = new Set<string>();
    for (const c of u.connected) for (const tx of c.block.txs) minedKeys.add(toHex(txid(tx)));
    const returned = Chain.returnedTransactions(u);
    const old = [...this.entries.values()].sort((a, b) => a.seq - b.seq);
    this.entries.clear();
    this.spends.clear();
    this.bytes = 0;
    let mined = 0;
    let back = 0;
    const dropped: string[] = [];
    // Returned transactions first (they are older than anything in the pool), in block order.
    for (const tx of returned) {
      try {
        const id = txid(tx);
        this.acceptNew(tx, id, toHex(id), true);
        back++;
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
      }
    }
    for (const e of old) {
      if (minedKeys.has(e.key)) {
        mined++;
        continue;
      }
      if (this.entries.has(e.key)) continue;
      try {
        this.acceptNew(e.tx, e.txid, e.key, true);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        dropped.push(e.key);
      }
    }
    this.stats.mined += mined;
    this.stats.conflicted += dropped.length;
    this.stats.returned += back;
    // Only those that re-entered: a disconnected block's transaction invalid on the new branch is not returned.
    return { mined, returned: back, dropped };
  }

  /**
   * Transactions for a block template, at most maxBytes: highest fee rate first, each preceded by
   * any pool parents it needs (a child can only follow its parent in a block).
   */
  select(maxBytes: number): { txs: MempoolEntry[]; fees: bigint; bytes: number } {
    const chosen = new Set<string>();
    const txs: MempoolEntry[] = [];
    let fees = 0n;
    let bytes = 0;
    const byRate = [...this.entries.values()].sort((a, b) => b.feeRate - a.feeRate || a.seq - b.seq);
    for (const e of byRate) {
      if (chosen.has(e.key)) continue;
      // Ancestors not yet chosen, oldest first.
      const pkg: MempoolEntry[] = [];
      const seen = new Set<string>();
      const visit = (x: MempoolEntry): void => {
        if (seen.has(x.key) || chosen.has(x.key)) return;
        seen.add(x.key);
        for (const p of x.parents) {
          const pe = this.entries.get(p);
          if (pe) visit(pe);
        }
        pkg.push(x);
      };
      visit(e);
      const pkgBytes = pkg.reduce((n, x) => n + x.size, 0);
      if (bytes + pkgBytes > maxBytes) continue;
      for (const x of pkg) {
        chosen.add(x.key);
        txs.push(x);
        fees += x.fee;
      }
      bytes += pkgBytes;
    }
    return { txs, fees, bytes };
  }
}
