// The memory pool: transactions that are valid against the active chain's UTXO set plus the
// outputs of other pool transactions (so a child may follow its unconfirmed parent), with no
// two spending the same output. As in Core, it re-checks itself when blocks connect or
// disconnect, takes back the transactions of disconnected blocks, pays at least a minimum relay
// fee rate, and evicts the lowest (descendant package) fee rate first when full.
//
// Hostile input: every entry keeps its ancestor and descendant package (count, bytes, fees)
// up to date as transactions enter and leave, and Core's package limits (25 transactions,
// 101 kvB each way: "too-long-mempool-chain") bound every walk over parents and children, which
// are loops over explicit stacks, never recursion. Rejected txids go into a rolling filter
// with their reason and the tip they were refused at (Core's m_recent_rejects, which it resets
// when the tip changes), so a replay at the same tip costs one hash lookup; the reason outlives
// the tip, so whoever logs refusals logs each reason once (intake.ts).
import { hashToHex, toHex } from '../../core/bytes.js';
import { Chain, type ChainUpdate } from '../../core/chain.js';
import type { SignatureVerifier } from '../../core/ecdsa.js';
import {
  DEFAULT_ANCESTOR_LIMIT,
  DEFAULT_ANCESTOR_SIZE_LIMIT_KVB,
  DEFAULT_DESCENDANT_LIMIT,
  DEFAULT_DESCENDANT_SIZE_LIMIT_KVB,
  type RelayContext,
  checkTxFee,
  checkTxStandalone,
} from '../../core/policy.js';
import { type Tx, encodeTx, txid } from '../../core/tx.js';
import {
  type Coin,
  type CoinView,
  type SignatureCheck,
  ValidationError,
  p2pkhSignatureCheck,
  signatureCheckError,
} from '../../core/validation.js';
import { outpointKey } from '../../core/outpoint.js';
import { BinaryHeap } from './binary-heap.js';
import { RollingFilter } from './rolling-filter.js';
import { opensslVerifier } from '../verify/verifier.js';

export interface MempoolEntry {
  readonly tx: Tx;
  readonly txid: Uint8Array;
  readonly key: string;
  readonly raw: Uint8Array;
  readonly size: number;
  readonly fee: bigint;
  /** Base units per byte, for display (fees themselves stay bigint). */
  readonly feeRate: number;
  /** Arrival order. */
  readonly seq: number;
  /** Pool transactions this one spends outputs of. */
  readonly parents: Set<string>;
  readonly children: Set<string>;
  /** This transaction with all its pool ancestors (Core's nCountWithAncestors, nSizeWithAncestors, nModFeesWithAncestors). */
  ancestorCount: number;
  ancestorSize: number;
  ancestorFees: bigint;
  /** This transaction with all its pool descendants (Core's ...WithDescendants). */
  descendantCount: number;
  descendantSize: number;
  descendantFees: bigint;
}

/** Core's package limits (-limitancestorcount, -limitancestorsize, ...), sizes in bytes. */
export interface PackageLimits {
  readonly ancestorCount: number;
  readonly ancestorBytes: number;
  readonly descendantCount: number;
  readonly descendantBytes: number;
}

export const DEFAULT_PACKAGE_LIMITS: PackageLimits = {
  ancestorCount: DEFAULT_ANCESTOR_LIMIT,
  ancestorBytes: DEFAULT_ANCESTOR_SIZE_LIMIT_KVB * 1000,
  descendantCount: DEFAULT_DESCENDANT_LIMIT,
  descendantBytes: DEFAULT_DESCENDANT_SIZE_LIMIT_KVB * 1000,
};

/** Core's m_recent_rejects holds 120 000 txids. */
export const RECENT_REJECTS_CAPACITY = 120_000;

/**
 * Refusals that may not hold for long: missing inputs may be a parent not heard yet (Core keeps
 * such orphans out of m_recent_rejects), and "already known" says nothing about the transaction.
 * They are remembered (for logging once) but never refuse a replay.
 */
const RETRYABLE_REJECTS: ReadonlySet<string> = new Set(['bad-txns-inputs-missingorspent', 'txn-already-known']);

/** Why a txid was last refused, and at which tip (hex). */
interface Rejection {
  readonly code: string;
  readonly tip: string;
}

/** What the cheap checks say: in the pool already, or how many signatures remain to check. */
export type PreCheckResult =
  { readonly status: 'known'; readonly entry: MempoolEntry } | { readonly status: 'checked'; readonly signatures: number };

/** Counts the signature checks one admission ran (for a per-source budget of expensive work). */
export interface SignatureMeter {
  checks: number;
}

export interface MempoolOptions {
  /** Base units per byte. */
  readonly minRelayFeeRate: number;
  readonly maxBytes: number;
  readonly limits?: PackageLimits;
  /** Signature verifier; default OpenSSL. Pluggable (a cached or worker verifier). */
  readonly verifier?: SignatureVerifier;
  /**
   * Signatures checked ahead, off the event loop: worker threads that put the ones that verify
   * into the cache `verifier` reads (BlockSignatureVerifier.preverifyChecks). It can only save
   * time: acceptAsync still asks `verifier` for every verdict, and a failure here is ignored.
   */
  readonly preverify?: (checks: readonly SignatureCheck[]) => Promise<void>;
  /**
   * Only confirmed coins may be spent, not another pool transaction's outputs (a wallet's pool of
   * incoming payments: it records only what its chain can show; a child waits for its parent to
   * be mined, refused meanwhile with "bad-txns-inputs-missingorspent").
   */
  readonly confirmedInputsOnly?: boolean;
}

export type AcceptResult =
  | { readonly status: 'accepted'; readonly entry: MempoolEntry; readonly evicted: string[] }
  | { readonly status: 'known'; readonly entry: MempoolEntry };

/** A transaction that passed the cheap checks (PreChecks), waiting for its signatures to be checked. */
interface Candidate {
  readonly tx: Tx;
  readonly id: Uint8Array;
  readonly key: string;
  readonly size: number;
  readonly fee: bigint;
  readonly parents: Set<string>;
  readonly ancestors: MempoolEntry[];
  /** The scriptPubKey each input spends, for the signature checks. */
  readonly prevScripts: Uint8Array[];
}

const reject = (code: string, detail = ''): never => {
  throw new ValidationError(code, false, detail);
};

/** a's fee rate above b's (fees / bytes, compared exactly as bigints). */
const higherRate = (aFees: bigint, aSize: number, bFees: bigint, bSize: number): boolean => aFees * BigInt(bSize) > bFees * BigInt(aSize);

/** Core's descendant score: the eviction order of a full pool, lowest first. */
const descendantScore = (e: MempoolEntry): number => Math.max(e.feeRate, Number(e.descendantFees) / e.descendantSize);

/** Input k's script failed (Core's script error string): a consensus failure, as Core reports it. */
const scriptFailure = (err: string, k: number): never => {
  throw new ValidationError('mandatory-script-verify-flag-failed', true, `(${err}) input ${k}`);
};

/** A yield to the event loop: other I/O (status, block server, mining) runs before we go on. */
const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Mempool {
  private readonly entries = new Map<string, MempoolEntry>();
  /** outpoint key -> key of the pool transaction spending it. */
  private readonly spends = new Map<string, string>();
  private readonly recentRejects = new RollingFilter<Rejection>(RECENT_REJECTS_CAPACITY);
  /** Every entry by descendant score, for a full pool's eviction (stale items skipped as they surface). */
  private readonly evictionQueue = new BinaryHeap<EvictionItem>(evictedFirst);
  private readonly limits: PackageLimits;
  private readonly verifier: SignatureVerifier;
  private bytes = 0;
  private seq = 0;
  readonly stats = { accepted: 0, rejected: 0, known: 0, evicted: 0, mined: 0, conflicted: 0, returned: 0, recentlyRejected: 0 };

  constructor(
    private readonly chain: Chain,
    private readonly opts: MempoolOptions,
  ) {
    this.limits = opts.limits ?? DEFAULT_PACKAGE_LIMITS;
    this.verifier = opts.verifier ?? opensslVerifier;
  }

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
  /** True when this txid was refused at the current tip (a replay is refused at once). */
  recentlyRejected(id: Uint8Array): boolean {
    return this.isRecentReject(toHex(id));
  }
  /** The reason this txid was last refused, at whatever tip (undefined if not remembered). */
  rejectedAs(id: Uint8Array): string | undefined {
    return this.recentRejects.get(toHex(id))?.code;
  }
  private isRecentReject(key: string): boolean {
    const r = this.recentRejects.get(key);
    return r !== undefined && r.tip === this.chain.tip.hashHex && !RETRYABLE_REJECTS.has(r.code);
  }

  /** Chain UTXOs plus pool outputs, minus outputs pool transactions spend. */
  view(): CoinView {
    const base = this.chain.coins;
    const height = this.chain.height + 1;
    return {
      getCoin: (prevTxid, vout): Coin | undefined => {
        if (this.spends.has(outpointKey(prevTxid, vout))) return undefined;
        const parent = this.opts.confirmedInputsOnly ? undefined : this.entries.get(toHex(prevTxid));
        if (parent) {
          const o = parent.tx.outputs[vout];
          return o ? { value: o.value, scriptPubKey: o.scriptPubKey, height, coinbase: false } : undefined;
        }
        return base.getCoin(prevTxid, vout);
      },
    };
  }

  private relayContext(): RelayContext {
    const tip = this.chain.tip;
    return {
      params: this.chain.params,
      tipHeight: tip.height,
      medianTimePast: this.chain.medianTimePast(tip),
      minRelayFeeRate: this.opts.minRelayFeeRate,
    };
  }

  /**
   * Validates tx against the tip and the pool and adds it, all at once. Throws ValidationError
   * with Core's reason ("txn-mempool-conflict", "min relay fee not met", "too-long-mempool-chain",
   * "txn-recently-rejected", "bad-txns-...").
   */
  accept(tx: Tx): AcceptResult {
    const id = txid(tx);
    const key = toHex(id);
    return this.admit(key, () => {
      const c = this.preChecks(tx, id, key);
      for (let k = 0; k < tx.inputs.length; k++) this.checkInput(c, k);
      return this.finish(c);
    }) as AcceptResult;
  }

  /**
   * The cheap part of admission alone (known, recently rejected, PreChecks): no signature is
   * checked. Throws ValidationError as accept does; a refusal is remembered as accept's are.
   */
  preCheck(tx: Tx, id: Uint8Array = txid(tx)): PreCheckResult {
    const key = toHex(id);
    const r = this.admit(key, () => this.preChecks(tx, id, key));
    return 'prevScripts' in r ? { status: 'checked', signatures: tx.inputs.length } : (r as PreCheckResult);
  }

  /**
   * Like accept, but one large transaction cannot hold up mining, status or the block server.
   * Once the cheap checks pass, the inputs go in batches of 1, 2, 4, 8, ... inputs: each batch's
   * script checks and sighashes (1), its curve math in `preverify`'s threads when there are some
   * (2), then its verdicts (3), steps 1 and 3 inputsPerSlice inputs per turn of the event loop.
   * The first failing input ends it, as in Core, so a forged signature costs at most the inputs
   * before it again (a forged first input: one check). The cheap checks run again at the end: the pool or the tip may have moved.
   * `meter.checks` grows by each batch's signature checks as they are prepared.
   */
  async acceptAsync(tx: Tx, inputsPerSlice = 8, meter?: SignatureMeter): Promise<AcceptResult> {
    const id = txid(tx);
    const key = toHex(id);
    const first = this.admit(key, () => this.preChecks(tx, id, key));
    if (!('prevScripts' in first)) return first;
    const n = tx.inputs.length;
    const slice = Math.max(1, inputsPerSlice);
    for (let from = 0, batch = 1; from < n; from += batch, batch *= 2) {
      const to = Math.min(n, from + batch);
      const checks: (string | SignatureCheck)[] = [];
      let known = await this.inSlices(key, from, to, slice, (a, b) => this.prepareChecks(first, a, b, checks)); // 1
      if (known) return known;
      if (meter) meter.checks += to - from;
      await this.opts.preverify?.(checks.filter((c) => typeof c !== 'string')).catch(() => undefined); // 2
      known = await this.inSlices(key, from, to, slice, (a, b) => this.verifyChecks(checks, from, a, b)); // 3
      if (known) return known;
    }
    // The signatures hold for these same outpoints whatever happened meanwhile (a txid commits
    // to its outputs), so only the cheap checks are repeated.
    return this.admit(key, () => this.finish(this.preChecks(tx, id, key))) as AcceptResult;
  }

  /** step(a, b) over inputs [from, to) in slices, a turn of the event loop before each; stops with 'known' if the tx entered the pool meanwhile. */
  private async inSlices(
    key: string,
    from: number,
    to: number,
    slice: number,
    step: (a: number, b: number) => void,
  ): Promise<AcceptResult | undefined> {
    for (let a = from; a < to; a += slice) {
      await nextTick();
      const r = this.admit(key, () => step(a, Math.min(to, a + slice)));
      if (r) return r;
    }
    return undefined;
  }

  /**
   * The frame around every admission step: a transaction already in the pool is 'known', one
   * refused since the last tip is refused again at once, and a refusal is counted and (unless it
   * may become valid when a parent arrives) remembered.
   */
  private admit<T>(key: string, step: () => T): T | AcceptResult {
    const known = this.entries.get(key);
    if (known) {
      this.stats.known++;
      return { status: 'known', entry: known };
    }
    if (this.isRecentReject(key)) {
      this.stats.recentlyRejected++;
      reject('txn-recently-rejected', 'refused since the last block');
    }
    try {
      const r = step();
      if (typeof r === 'object' && r !== null && (r as { status?: string }).status === 'accepted') this.stats.accepted++;
      return r;
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      this.stats.rejected++;
      this.recentRejects.set(key, { code: e.code, tip: this.chain.tip.hashHex });
      throw e;
    }
  }

  /**
   * Core's PreChecks, cheapest first; nothing here verifies a signature.
   *  1. sane, standard size, not a coinbase, final in the next block (no lookups);
   *  2. not already mined (its outputs are not in the UTXO set): "txn-already-known";
   *  3. no input spent by another pool transaction: "txn-mempool-conflict";
   *  4. every input exists unspent and mature, the fee covers the minimum relay fee rate;
   *  5. the package limits, ancestors and each ancestor's descendants: "too-long-mempool-chain";
   *  6. a full pool only takes a fee rate above what it would evict: "mempool full".
   */
  private preChecks(tx: Tx, id: Uint8Array, key: string): Candidate {
    const ctx = this.relayContext();
    const size = checkTxStandalone(tx, ctx); // 1
    for (let vout = 0; vout < tx.outputs.length; vout++) {
      if (this.chain.coins.getCoin(id, vout)) reject('txn-already-known', 'already in a block'); // 2
    }
    for (const i of tx.inputs) {
      const other = this.spends.get(outpointKey(i.prevTxid, i.vout)); // 3
      if (other !== undefined) reject('txn-mempool-conflict', `input already spent by ${hashToHex(this.entries.get(other)!.txid)}`);
    }
    const view = this.view();
    const fee = checkTxFee(tx, size, view, ctx); // 4
    const prevScripts = tx.inputs.map((i) => view.getCoin(i.prevTxid, i.vout)!.scriptPubKey);
    const parents = new Set<string>();
    for (const i of tx.inputs) {
      const p = toHex(i.prevTxid);
      if (this.entries.has(p)) parents.add(p);
    }
    const ancestors = this.checkPackageLimits(parents, size); // 5
    if (this.bytes + size > this.opts.maxBytes) {
      const low = this.lowestDescendantScore(); // 6
      if (low && Number(fee) / size <= low.score) reject('mempool full', 'fee rate too low to enter a full pool');
    }
    return { tx, id, key, size, fee, parents, ancestors, prevScripts };
  }

  /** Core's CalculateMemPoolAncestors with its limits. Returns the ancestors. */
  private checkPackageLimits(parents: Iterable<string>, size: number): MempoolEntry[] {
    const L = this.limits;
    const ancestors = this.ancestorsOf(parents, L.ancestorCount);
    if (ancestors.length + 1 > L.ancestorCount)
      reject('too-long-mempool-chain', `too many unconfirmed ancestors [limit: ${L.ancestorCount}]`);
    let ancestorSize = size;
    for (const a of ancestors) {
      ancestorSize += a.size;
      if (a.descendantCount + 1 > L.descendantCount)
        reject('too-long-mempool-chain', `too many descendants for tx ${hashToHex(a.txid)} [limit: ${L.descendantCount}]`);
      if (a.descendantSize + size > L.descendantBytes)
        reject('too-long-mempool-chain', `exceeds descendant size limit for tx ${hashToHex(a.txid)} [limit: ${L.descendantBytes}]`);
    }
    if (ancestorSize > L.ancestorBytes) reject('too-long-mempool-chain', `exceeds ancestor size limit [limit: ${L.ancestorBytes}]`);
    return ancestors;
  }

  /** Pool ancestors reachable from these parents, walking an explicit stack; stops after `stopAfter`. */
  private ancestorsOf(parents: Iterable<string>, stopAfter = Infinity): MempoolEntry[] {
    const found = new Map<string, MempoolEntry>();
    const stack = [...parents];
    while (stack.length && found.size <= stopAfter) {
      const k = stack.pop()!;
      const e = found.has(k) ? undefined : this.entries.get(k);
      if (!e) continue;
      found.set(k, e);
      for (const p of e.parents) stack.push(p);
    }
    return [...found.values()];
  }

  /** The entry with its pool descendants (walking an explicit stack). */
  private withDescendants(key: string): MempoolEntry[] {
    const found = new Map<string, MempoolEntry>();
    const stack = [key];
    while (stack.length) {
      const k = stack.pop()!;
      const e = found.has(k) ? undefined : this.entries.get(k);
      if (!e) continue;
      found.set(k, e);
      for (const c of e.children) stack.push(c);
    }
    return [...found.values()];
  }

  /** Core's PolicyScriptChecks for input k, at once: the script checks, the sighash, the curve math. */
  private checkInput(c: Candidate, k: number): void {
    const err = signatureCheckError(p2pkhSignatureCheck(c.tx, k, c.prevScripts[k]!), { verifier: this.verifier });
    if (err !== undefined) scriptFailure(err, k);
  }

  /**
   * The same in two halves, for acceptAsync. First, inputs [from, to): everything short of the
   * curve math (script shapes, strict DER, low S, the key's hash, the sighash), appended to
   * `out` as the check to run or the script error (reported in input order by the second half).
   */
  private prepareChecks(c: Candidate, from: number, to: number, out: (string | SignatureCheck)[]): void {
    for (let k = from; k < to; k++) out.push(p2pkhSignatureCheck(c.tx, k, c.prevScripts[k]!));
  }

  /** ...then inputs [from, to) in order: a script error, or the curve math through the verifier; checks[0] is input `first`'s. */
  private verifyChecks(checks: readonly (string | SignatureCheck)[], first: number, from: number, to: number): void {
    for (let k = from; k < to; k++) {
      const err = signatureCheckError(checks[k - first]!, { verifier: this.verifier });
      if (err !== undefined) scriptFailure(err, k);
    }
  }

  /** Core's Finalize: adds the candidate, updates its ancestors' packages, trims a full pool. */
  private finish(c: Candidate): AcceptResult {
    let ancestorSize = c.size;
    let ancestorFees = c.fee;
    for (const a of c.ancestors) {
      ancestorSize += a.size;
      ancestorFees += a.fee;
      a.descendantCount++;
      a.descendantSize += c.size;
      a.descendantFees += c.fee;
    }
    const raw = encodeTx(c.tx);
    const entry: MempoolEntry = {
      tx: c.tx,
      txid: c.id,
      key: c.key,
      raw,
      size: c.size,
      fee: c.fee,
      feeRate: Number(c.fee) / c.size,
      seq: this.seq++,
      parents: c.parents,
      children: new Set(),
      ancestorCount: c.ancestors.length + 1,
      ancestorSize,
      ancestorFees,
      descendantCount: 1,
      descendantSize: c.size,
      descendantFees: c.fee,
    };
    this.entries.set(entry.key, entry);
    for (const a of c.ancestors) this.queueForEviction(a);
    this.queueForEviction(entry);
    for (const i of entry.tx.inputs) this.spends.set(outpointKey(i.prevTxid, i.vout), entry.key);
    for (const p of entry.parents) this.entries.get(p)?.children.add(entry.key);
    this.bytes += entry.size;
    const evicted = this.trim();
    if (evicted.includes(c.key)) {
      // The newcomer itself had the lowest fee rate: it never entered, so it is refused, not evicted.
      this.stats.evicted--;
      reject('mempool full', 'fee rate too low to enter a full pool');
    }
    return { status: 'accepted', entry, evicted };
  }

  /** Removes a transaction with everything that spends its outputs; surviving ancestors' packages shrink. Returns removed keys. */
  private removeWithDescendants(key: string): string[] {
    const doomed = this.withDescendants(key);
    const gone = new Set(doomed.map((e) => e.key));
    const shrunk = new Set<MempoolEntry>();
    for (const e of doomed) {
      for (const a of this.ancestorsOf(e.parents)) {
        if (gone.has(a.key)) continue;
        a.descendantCount--;
        a.descendantSize -= e.size;
        a.descendantFees -= e.fee;
        shrunk.add(a);
      }
    }
    for (const e of doomed) this.unlink(e);
    for (const a of shrunk) this.queueForEviction(a);
    return [...gone];
  }

  /** Takes an entry out of the indexes (its packages' figures are the caller's business). */
  private unlink(e: MempoolEntry): void {
    this.entries.delete(e.key);
    this.bytes -= e.size;
    for (const i of e.tx.inputs) {
      const ok = outpointKey(i.prevTxid, i.vout);
      if (this.spends.get(ok) === e.key) this.spends.delete(ok);
    }
    for (const p of e.parents) this.entries.get(p)?.children.delete(e.key);
    for (const c of e.children) this.entries.get(c)?.parents.delete(e.key);
  }

  /**
   * A mined transaction leaves alone: its pool descendants no longer count it among their
   * ancestors. (A block holds parents before children, so its pool ancestors left before it.)
   */
  private removeMined(e: MempoolEntry): void {
    for (const d of this.withDescendants(e.key)) {
      if (d === e) continue;
      d.ancestorCount--;
      d.ancestorSize -= e.size;
      d.ancestorFees -= e.fee;
    }
    for (const a of this.ancestorsOf(e.parents)) {
      a.descendantCount--;
      a.descendantSize -= e.size;
      a.descendantFees -= e.fee;
      this.queueForEviction(a);
    }
    this.unlink(e);
  }

  /** (Re)files an entry under its current descendant score; rebuilds the queue once stale items outnumber live ones. */
  private queueForEviction(e: MempoolEntry): void {
    if (this.evictionQueue.size > 2 * this.entries.size + 1024) {
      this.evictionQueue.clear();
      for (const x of this.entries.values()) this.evictionQueue.push({ entry: x, score: descendantScore(x) });
      return;
    }
    this.evictionQueue.push({ entry: e, score: descendantScore(e) });
  }

  /**
   * The entry evicted first: the lowest descendant score, Core's max(own fee rate, fee rate of
   * it with its descendants), so a parent is not evicted for a cheap child nor kept for a rich
   * one; the newest first among equals. From the eviction queue, skipping what went stale.
   */
  private lowestDescendantScore(): EvictionItem | undefined {
    for (let top = this.evictionQueue.peek(); top; top = this.evictionQueue.peek()) {
      if (this.entries.get(top.entry.key) === top.entry && descendantScore(top.entry) === top.score) return top;
      this.evictionQueue.pop();
    }
    return undefined;
  }

  /** Evicts the lowest descendant-package fee rate first (with its descendants) until under maxBytes. */
  private trim(): string[] {
    const out: string[] = [];
    while (this.bytes > this.opts.maxBytes) {
      const low = this.lowestDescendantScore();
      if (!low) break;
      const r = this.removeWithDescendants(low.entry.key);
      this.stats.evicted += r.length;
      out.push(...r);
    }
    return out;
  }

  /**
   * Brings the pool in line with a chain change: mined transactions leave, and so do those that
   * conflict with the blocks' spends, with their descendants; after a reorganisation, those of
   * the disconnected blocks come back and every entry is checked again. Returns what was dropped.
   */
  update(u: ChainUpdate): { mined: number; returned: number; dropped: string[] } {
    // A new tip may make refused transactions valid: the filter's entries are for the old tip now.
    const r = u.disconnected.length ? this.rebuildAfterReorg(u) : this.removeForBlocks(u);
    this.stats.mined += r.mined;
    this.stats.conflicted += r.dropped.length;
    this.stats.returned += r.returned;
    return r;
  }

  /**
   * Core's removeForBlock, for blocks that extend the tip: each mined transaction leaves (its
   * descendants' ancestor packages shrink by it), then any pool transaction spending what the
   * blocks spent leaves with its descendants. Nothing else changes for the rest: their coins are
   * still unspent and only older, and a transaction final at the next height stays final.
   * O(transactions in the blocks), whatever the pool's size.
   */
  private removeForBlocks(u: ChainUpdate): { mined: number; returned: number; dropped: string[] } {
    let mined = 0;
    const dropped: string[] = [];
    for (const c of u.connected) {
      for (const tx of c.block.txs) {
        const e = this.entries.get(toHex(txid(tx)));
        if (e) {
          this.removeMined(e);
          mined++;
        }
        for (const i of tx.inputs) {
          const rival = this.spends.get(outpointKey(i.prevTxid, i.vout));
          if (rival !== undefined) dropped.push(...this.removeWithDescendants(rival));
        }
      }
    }
    return { mined, returned: 0, dropped };
  }

  /**
   * After a reorganisation everything is checked again against the new tip (conflicts with the
   * new branch's spends, coinbase maturity, finality, package limits), the disconnected blocks'
   * transactions first. Signatures are not checked again: a signature's validity depends only on
   * the transaction and the spent output, as Core's script cache knows.
   */
  private rebuildAfterReorg(u: ChainUpdate): { mined: number; returned: number; dropped: string[] } {
    const minedKeys = new Set<string>();
    for (const c of u.connected) for (const tx of c.block.txs) minedKeys.add(toHex(txid(tx)));
    const returned = Chain.returnedTransactions(u);
    const old = [...this.entries.values()].sort((a, b) => a.seq - b.seq);
    this.entries.clear();
    this.spends.clear();
    this.evictionQueue.clear();
    this.bytes = 0;
    let back = 0;
    // Returned transactions first (they are older than anything in the pool), in block order.
    for (const tx of returned) if (this.readmit(tx, txid(tx))) back++;
    let mined = 0;
    const dropped: string[] = [];
    for (const e of old) {
      if (minedKeys.has(e.key)) mined++;
      else if (!this.entries.has(e.key) && !this.readmit(e.tx, e.txid)) dropped.push(e.key);
    }
    // Only those that re-entered: a disconnected block's transaction invalid on the new branch is not returned.
    return { mined, returned: back, dropped };
  }

  /** The cheap checks and insertion, without signatures (already checked) and without counting. */
  private readmit(tx: Tx, id: Uint8Array): boolean {
    try {
      this.finish(this.preChecks(tx, id, toHex(id)));
      return true;
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      return false;
    }
  }

  /**
   * Transactions for a block template, at most maxBytes, as Core's BlockAssembler does it: the
   * highest ancestor-package fee rate first, each with the ancestors it needs (parents before
   * children); once a package is in, its descendants' packages shrink by it and are re-queued.
   * A heap of scores with stale entries skipped: O(n log n) plus bounded package walks.
   */
  select(maxBytes: number): { txs: MempoolEntry[]; fees: bigint; bytes: number } {
    const heap = new BinaryHeap<Scored>(higherPackageRate);
    for (const e of this.entries.values()) heap.push({ entry: e, fees: e.ancestorFees, size: e.ancestorSize });
    /** The package still to pay for, per entry whose ancestors were partly chosen. */
    const modified = new Map<string, { fees: bigint; size: number }>();
    const chosen = new Set<string>();
    const txs: MempoolEntry[] = [];
    let fees = 0n;
    let bytes = 0;
    let failures = 0;
    for (let top = heap.pop(); top; top = heap.pop()) {
      const e = top.entry;
      const m = modified.get(e.key);
      if (chosen.has(e.key) || (m && (m.fees !== top.fees || m.size !== top.size))) continue; // stale
      if (bytes + top.size > maxBytes) {
        // Core's MAX_CONSECUTIVE_FAILURES: stop trying once the block is nearly full.
        if (++failures > 1000 && bytes > maxBytes - 4000) break;
        continue;
      }
      failures = 0;
      const pkg = [e, ...this.ancestorsOf(e.parents).filter((a) => !chosen.has(a.key))].sort(
        (a, b) => a.ancestorCount - b.ancestorCount || a.seq - b.seq,
      );
      for (const x of pkg) {
        chosen.add(x.key);
        txs.push(x);
        fees += x.fee;
        bytes += x.size;
      }
      for (const x of pkg) {
        for (const d of this.withDescendants(x.key)) {
          if (chosen.has(d.key)) continue;
          const dm = modified.get(d.key) ?? { fees: d.ancestorFees, size: d.ancestorSize };
          const next = { fees: dm.fees - x.fee, size: dm.size - x.size };
          modified.set(d.key, next);
          heap.push({ entry: d, ...next });
        }
      }
    }
    return { txs, fees, bytes };
  }
}

interface Scored {
  readonly entry: MempoolEntry;
  readonly fees: bigint;
  readonly size: number;
}

/** Template order: the higher package fee rate first, the older first among equals. */
const higherPackageRate = (x: Scored, y: Scored): boolean => {
  if (higherRate(x.fees, x.size, y.fees, y.size)) return true;
  if (higherRate(y.fees, y.size, x.fees, x.size)) return false;
  return x.entry.seq < y.entry.seq;
};

interface EvictionItem {
  readonly entry: MempoolEntry;
  /** descendantScore(entry) when pushed: stale once the entry's packages changed. */
  readonly score: number;
}

/** Eviction order: the lowest descendant score first, the newest first among equals. */
const evictedFirst = (x: EvictionItem, y: EvictionItem): boolean => x.score < y.score || (x.score === y.score && x.entry.seq > y.entry.seq);
