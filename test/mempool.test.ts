// The miner's memory pool over a real Chain (MemoryChainStore) built with blockgen: what it
// accepts and refuses (with Bitcoin Core's reasons), chains of unconfirmed transactions, block
// templates by fee rate, the size cap, and how it follows the chain when blocks connect, conflict
// or are reorganised away.
import assert from 'node:assert/strict';
import {
  type Block,
  type BlockResult,
  type MemoryChainStore,
  type Tx,
  ValidationError,
  blockSubsidy,
  encodeTx,
  makeCoinbase,
  toHex,
  txSize,
  txid,
  Chain,
} from '../src/shared/core/index.js';
import { Mempool, type MempoolEntry, type MempoolOptions } from '../src/shared/node/mempool/pool.js';
import {
  type Key,
  type Spendable,
  BlockGen,
  NOW,
  alice,
  bob,
  carol,
  coinOf,
  coinbaseCoin,
  hashOf,
  key,
  makeTestParams,
  pay,
  spend,
  transfer,
  withScriptSig,
  signInputs,
  expectCode,
} from './kit/blockgen.js';
import { freshChain } from './kit/chain-harness.js';

// Coinbase maturity 3: with the tip at height H, coinbases up to height H - 2 are spendable in the pool.
const params = makeTestParams();

type Accepted = Extract<BlockResult, { status: 'accepted' }>;

const idOf = (tx: Tx): string => toHex(txid(tx));
const ids = (xs: readonly MempoolEntry[]): string[] => xs.map((e) => e.key);
const poolIds = (pool: Mempool): string[] =>
  pool
    .all()
    .map((e) => e.key)
    .sort();
const sorted = (txs: readonly Tx[]): string[] => txs.map(idOf).sort();

/**
 * A transaction spending coins to one output for `to` whose fee is exactly
 * ceil(rate * its own size) + delta. The size depends on the signature's length, which changes
 * with what is signed, so candidate sizes are tried, re-signing under other (final) lock times
 * until one is consistent.
 */
function atRate(coins: Spendable | readonly Spendable[], to: Key, rate: number, delta = 0n): Tx {
  const cs = Array.isArray(coins) ? coins : [coins as Spendable];
  const total = cs.reduce((n, c) => n + c.value, 0n);
  for (let locktime = 0; locktime < 100; locktime++) {
    const size0 = txSize(spend(cs, [pay(to, total)], locktime));
    for (let s = size0 - 3; s <= size0 + 3; s++) {
      const fee = BigInt(Math.ceil(rate * s)) + delta;
      const tx = spend(cs, [pay(to, total - fee)], locktime);
      if (txSize(tx) === s) return tx;
    }
  }
  throw new Error('no consistent fee found');
}

/** Fee of a transaction built by atRate or transfer: inputs' value minus outputs'. */
function feeOf(tx: Tx, coins: readonly Spendable[]): bigint {
  return coins.reduce((n, c) => n + c.value, 0n) - tx.outputs.reduce((n, o) => n + o.value, 0n);
}

/** A chain under test at some height, every coinbase paying alice. */
class Fixture {
  readonly gen = new BlockGen(params);
  readonly chain: Chain;
  readonly store: MemoryChainStore;
  private readonly byHash = new Map<string, Block>();

  constructor(height = 8) {
    ({ chain: this.chain, store: this.store } = freshChain(params));
    this.byHash.set(hashOf(params.genesis), params.genesis);
    for (const b of this.gen.chain(params.genesis, height)) this.process(b);
    assert.equal(this.chain.height, height);
  }

  /** The active block at a height. */
  block(h: number): Block {
    return this.byHash.get(this.chain.atHeight(h)!.hashHex)!;
  }
  get tipBlock(): Block {
    return this.block(this.chain.height);
  }
  /** The coinbase output of the active block at height h (alice's). */
  cb(h: number): Spendable {
    return coinbaseCoin(this.block(h));
  }
  process(b: Block): Accepted {
    this.byHash.set(hashOf(b), b);
    const r = this.chain.processBlock(b, NOW);
    assert.equal(r.status, 'accepted');
    return r as Accepted;
  }
  /** Mines txs in a block on the tip. */
  mine(txs: readonly Tx[]): Accepted {
    const r = this.process(this.gen.block(this.tipBlock, { txs }));
    assert.equal(r.connected.length, 1);
    return r;
  }
  pool(opts: Partial<MempoolOptions> = {}): Mempool {
    return new Mempool(this.chain, { minRelayFeeRate: 1, maxBytes: 1_000_000, ...opts });
  }
}

const zeroStats = { accepted: 0, rejected: 0, known: 0, evicted: 0, mined: 0, conflicted: 0, returned: 0, recentlyRejected: 0 };

describe('mempool', function () {
  let fx: Fixture;
  beforeEach(function () {
    fx = new Fixture(8);
  });

  describe('accepting transactions', function () {
    it('accepts a valid spend and describes it (fee, size, fee rate), and view() reflects it', function () {
      const pool = fx.pool();
      const c = fx.cb(1);
      const tx = transfer(c, bob, 1000n);
      const r = pool.accept(tx);
      assert.equal(r.status, 'accepted');
      assert.ok(r.status === 'accepted');
      assert.deepEqual(r.evicted, []);
      const e = r.entry;
      assert.equal(e.key, idOf(tx));
      assert.deepEqual(e.raw, encodeTx(tx));
      assert.equal(e.size, txSize(tx));
      assert.equal(e.fee, 1000n);
      assert.equal(e.feeRate, 1000 / e.size);
      assert.equal(e.parents.size, 0);
      assert.equal(pool.size, 1);
      assert.equal(pool.totalBytes, e.size);
      assert.ok(pool.has(txid(tx)));
      assert.equal(pool.get(txid(tx)), e);
      // The view hides the coin the pool spends and offers the pool transaction's output.
      const view = pool.view();
      assert.equal(view.getCoin(c.txid, c.vout), undefined);
      assert.ok(fx.chain.coins.getCoin(c.txid, c.vout), 'the chain itself still has the coin');
      assert.deepEqual(view.getCoin(txid(tx), 0), {
        value: c.value - 1000n,
        scriptPubKey: tx.outputs[0]!.scriptPubKey,
        height: fx.chain.height + 1,
        coinbase: false,
      });
      assert.equal(view.getCoin(txid(tx), 1), undefined);
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 1 });
    });

    it("answers 'known' for a transaction already in the pool, changing nothing", function () {
      const pool = fx.pool();
      const tx = transfer(fx.cb(1), bob, 1000n);
      const first = pool.accept(tx);
      const again = pool.accept(tx);
      assert.equal(again.status, 'known');
      assert.equal(again.entry, first.entry);
      assert.equal(pool.size, 1);
      assert.equal(pool.totalBytes, txSize(tx));
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 1, known: 1 });
    });

    it("refuses a double spend of an output another pool transaction spends ('txn-mempool-conflict'), even paying more", function () {
      const pool = fx.pool();
      const c = fx.cb(1);
      const first = transfer(c, bob, 1000n);
      pool.accept(first);
      const e = expectCode(() => pool.accept(transfer(c, carol, 50_000n)), 'txn-mempool-conflict');
      assert.equal(e.misbehaving, false);
      // Also when only one of several inputs conflicts.
      expectCode(() => pool.accept(spend([fx.cb(2), c], [pay(carol, 1n)])), 'txn-mempool-conflict');
      assert.deepEqual(poolIds(pool), [idOf(first)]);
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 1, rejected: 2 });
      // The other input was not marked spent by the refused transaction.
      pool.accept(transfer(fx.cb(2), carol, 1000n));
      assert.equal(pool.size, 2);
    });

    it('accepts a child of an unconfirmed parent, links them, and refuses the child before its parent', function () {
      const pool = fx.pool();
      const parent = transfer(fx.cb(1), bob, 1000n);
      const child = transfer(coinOf(parent, 0, bob), carol, 1000n);
      expectCode(() => pool.accept(child), 'bad-txns-inputs-missingorspent');
      const p = pool.accept(parent).entry;
      const c = pool.accept(child).entry;
      assert.deepEqual([...c.parents], [p.key]);
      assert.deepEqual([...p.children], [c.key]);
      const grandchild = transfer(coinOf(child, 0, carol), alice, 1000n);
      const g = pool.accept(grandchild).entry;
      assert.deepEqual([...g.parents], [c.key]);
      assert.equal(pool.view().getCoin(txid(child), 0), undefined, 'spent by the grandchild');
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 3, rejected: 1 });
    });

    it("refuses below minRelayFeeRate ('min relay fee not met') and accepts exactly at it", function () {
      for (const rate of [1, 2, 1.5]) {
        const pool = fx.pool({ minRelayFeeRate: rate });
        const c = fx.cb(1);
        const below = atRate(c, bob, rate, -1n);
        const e = expectCode(() => pool.accept(below), 'min relay fee not met');
        assert.equal(e.misbehaving, false);
        assert.equal(pool.size, 0);
        const exact = atRate(c, bob, rate);
        const r = pool.accept(exact);
        assert.equal(r.status, 'accepted');
        assert.equal(r.entry.fee, BigInt(Math.ceil(rate * r.entry.size)), `rate ${rate}`);
        assert.equal(feeOf(below, [c]) + 1n, r.entry.fee);
        assert.deepEqual(pool.stats, { ...zeroStats, accepted: 1, rejected: 1 });
      }
      // A zero fee is enough only when the minimum is zero.
      expectCode(() => fx.pool().accept(transfer(fx.cb(1), bob, 0n)), 'min relay fee not met');
      assert.equal(fx.pool({ minRelayFeeRate: 0 }).accept(transfer(fx.cb(1), bob, 0n)).status, 'accepted');
    });

    it("refuses a coinbase transaction ('coinbase')", function () {
      const pool = fx.pool();
      const cb = makeCoinbase(fx.chain.height + 1, [pay(alice, blockSubsidy(fx.chain.height + 1, params))]);
      const e = expectCode(() => pool.accept(cb), 'coinbase');
      assert.equal(e.misbehaving, true);
      assert.equal(pool.size, 0);
      assert.deepEqual(pool.stats, { ...zeroStats, rejected: 1 });
    });

    it('refuses a spend of an immature coinbase, and accepts it once the next block makes it mature', function () {
      const pool = fx.pool();
      // Tip at 8: the next block is 9; a coinbase at 7 is 2 deep there, at 6 exactly 3 (mature).
      const immature = transfer(fx.cb(7), bob, 1000n);
      const e = expectCode(() => pool.accept(immature), 'bad-txns-premature-spend-of-coinbase');
      assert.equal(e.misbehaving, false);
      assert.equal(pool.accept(transfer(fx.cb(6), bob, 1000n)).status, 'accepted');
      pool.update(fx.mine([]));
      assert.equal(pool.accept(immature).status, 'accepted');
      // The new tip's own coinbase is not.
      expectCode(() => pool.accept(transfer(fx.cb(9), bob, 1000n)), 'bad-txns-premature-spend-of-coinbase');
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 2, rejected: 2 });
    });

    it("refuses bad signatures ('mandatory-script-verify-flag-failed') and leaves the coin spendable", function () {
      const pool = fx.pool();
      const c = fx.cb(1);
      // Signed by a key that does not own the coin.
      const wrongKey = transfer({ ...c, key: bob }, bob, 1000n);
      let e = expectCode(() => pool.accept(wrongKey), 'mandatory-script-verify-flag-failed');
      assert.equal(e.misbehaving, true);
      assert.match(e.message, /OP_EQUALVERIFY/);
      // The owner's signature, but over another transaction.
      const signedOther = transfer(c, bob, 1000n);
      const forged = withScriptSig(transfer(c, carol, 1000n), 0, signedOther.inputs[0]!.scriptSig);
      e = expectCode(() => pool.accept(forged), 'mandatory-script-verify-flag-failed');
      assert.match(e.message, /false\/empty top stack element/);
      // No signature at all.
      expectCode(() => pool.accept(withScriptSig(signedOther, 0, new Uint8Array(0))), 'mandatory-script-verify-flag-failed');
      assert.equal(pool.size, 0);
      assert.equal(pool.accept(signedOther).status, 'accepted');
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 1, rejected: 3 });
    });

    it("refuses a transaction whose input is missing or already spent on the chain ('bad-txns-inputs-missingorspent')", function () {
      const pool = fx.pool();
      const ghost: Spendable = { txid: new Uint8Array(32).fill(7), vout: 0, value: 100_000n, key: alice };
      let e = expectCode(() => pool.accept(transfer(ghost, bob, 1000n)), 'bad-txns-inputs-missingorspent');
      assert.equal(e.misbehaving, false);
      // An output index past the end of a real transaction.
      expectCode(() => pool.accept(transfer({ ...fx.cb(1), vout: 1 }, bob, 1000n)), 'bad-txns-inputs-missingorspent');
      // Spent in a block.
      const mined = transfer(fx.cb(2), bob, 1000n);
      pool.update(fx.mine([mined]));
      e = expectCode(() => pool.accept(transfer(fx.cb(2), carol, 5000n)), 'bad-txns-inputs-missingorspent');
      // The mined transaction itself is not taken again: its outputs are in the UTXO set (Core's "txn-already-known").
      expectCode(() => pool.accept(mined), 'txn-already-known');
      assert.equal(pool.size, 0);
      assert.deepEqual(pool.stats, { ...zeroStats, rejected: 4 });
    });

    it("refuses a transaction that is not final in the next block ('non-final')", function () {
      const pool = fx.pool();
      const c = fx.cb(1);
      const next = fx.chain.height + 1;
      const lockedTo = (h: number): Tx =>
        signInputs(
          {
            version: 1,
            inputs: [{ prevTxid: c.txid, vout: c.vout, scriptSig: new Uint8Array(0), sequence: 0 }],
            outputs: [pay(bob, c.value - 1000n)],
            locktime: h,
          },
          [alice],
        );
      expectCode(() => pool.accept(lockedTo(next)), 'non-final');
      assert.equal(pool.accept(lockedTo(next - 1)).status, 'accepted');
    });
  });

  describe('select()', function () {
    it('orders by fee rate and respects maxBytes, skipping what does not fit', function () {
      const pool = fx.pool();
      const low = atRate(fx.cb(1), bob, 3);
      const high = atRate([fx.cb(2), fx.cb(3), fx.cb(5)], bob, 9); // three inputs: bigger than the other two together
      const mid = atRate(fx.cb(4), bob, 5);
      for (const tx of [low, high, mid]) pool.accept(tx);
      const [L, H, M] = [low, high, mid].map((t) => pool.get(txid(t))!);
      assert.ok(H.size > L.size + M.size);

      let s = pool.select(1_000_000);
      assert.deepEqual(ids(s.txs), [H.key, M.key, L.key]);
      assert.equal(s.fees, H.fee + M.fee + L.fee);
      assert.equal(s.bytes, H.size + M.size + L.size);

      s = pool.select(H.size + M.size);
      assert.deepEqual(ids(s.txs), [H.key, M.key]);
      assert.equal(s.bytes, H.size + M.size);
      // The best one does not fit: the next ones still do.
      s = pool.select(M.size + L.size);
      assert.deepEqual(ids(s.txs), [M.key, L.key]);
      assert.equal(s.fees, M.fee + L.fee);
      s = pool.select(H.size - 1);
      assert.ok(s.bytes <= H.size - 1);
      assert.deepEqual(ids(s.txs), [M.key, L.key]);
      s = pool.select(Math.max(L.size, M.size));
      assert.deepEqual(ids(s.txs), [M.key]);
      s = pool.select(Math.min(L.size, M.size) - 1);
      assert.deepEqual(s, { txs: [], fees: 0n, bytes: 0 });
      // Selecting takes nothing out of the pool.
      assert.equal(pool.size, 3);
    });

    it('puts a parent before its child even when the child pays a much higher fee rate', function () {
      const pool = fx.pool();
      const parent = atRate(fx.cb(1), bob, 1);
      const child = atRate(coinOf(parent, 0, bob), carol, 50);
      const other = atRate(fx.cb(2), bob, 10);
      for (const tx of [parent, child, other]) pool.accept(tx);
      const [P, C, O] = [parent, child, other].map((t) => pool.get(txid(t))!);
      assert.ok(C.feeRate > 40 * P.feeRate);

      const s = pool.select(1_000_000);
      assert.deepEqual(ids(s.txs), [P.key, C.key, O.key], 'the child pulls its parent ahead of the other transaction');
      assert.equal(s.fees, P.fee + C.fee + O.fee);
      // Too little room for the parent and child together: the child is never selected alone.
      const t = pool.select(P.size + C.size - 1);
      assert.ok(!ids(t.txs).includes(C.key));
      assert.ok(ids(t.txs).includes(O.key));
      // A block built from a selection is valid in that order.
      const r = fx.mine(s.txs.map((e) => e.tx));
      assert.equal(fx.chain.tip.hashHex, r.entry.hashHex);
    });
  });

  describe('size cap', function () {
    it('evicts the lowest descendant score first (max of own and package fee rate), with its descendants', function () {
      const a = atRate(fx.cb(1), bob, 1);
      // a with its child pays (1 + 6) / 2 = 3.5 per byte, below b's 4.
      const aChild = atRate(coinOf(a, 0, bob), carol, 6);
      const b = atRate(fx.cb(2), bob, 4);
      const d = atRate(fx.cb(3), bob, 6);
      const cap = txSize(a) + txSize(aChild) + txSize(b);
      const pool = fx.pool({ maxBytes: cap });
      for (const tx of [a, aChild, b]) assert.deepEqual((pool.accept(tx) as { evicted: string[] }).evicted, []);
      assert.equal(pool.totalBytes, cap, 'exactly at the cap is not over it');
      const r = pool.accept(d);
      assert.equal(r.status, 'accepted');
      assert.ok(r.status === 'accepted');
      // a has the lowest rate; its child goes with it although the child pays more than b.
      assert.deepEqual(r.evicted, [idOf(a), idOf(aChild)]);
      assert.deepEqual(poolIds(pool), sorted([b, d]));
      assert.equal(pool.totalBytes, txSize(b) + txSize(d));
      assert.ok(pool.totalBytes <= cap);
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 4, evicted: 2 });
      // Evicted outputs are free again, the evicted child's parent output no longer exists.
      assert.ok(pool.view().getCoin(fx.cb(1).txid, 0));
      expectCode(() => pool.accept(aChild), 'bad-txns-inputs-missingorspent');
    });

    it("refuses a transaction whose fee rate is too low to enter a full pool ('mempool full'), leaving the pool as it was", function () {
      const x = atRate(fx.cb(1), bob, 5);
      const y = atRate(fx.cb(2), bob, 6);
      const cap = txSize(x) + txSize(y) + 200;
      const pool = fx.pool({ maxBytes: cap });
      pool.accept(x);
      pool.accept(y);
      const before = pool.stats.accepted;
      const coins = [fx.cb(3), fx.cb(4)];
      const cheap = atRate(coins, bob, 2);
      assert.ok(pool.totalBytes + txSize(cheap) > cap);
      const e = expectCode(() => pool.accept(cheap), 'mempool full');
      assert.equal(e.misbehaving, false);
      assert.deepEqual(poolIds(pool), sorted([x, y]));
      assert.equal(pool.totalBytes, txSize(x) + txSize(y));
      assert.ok(!pool.has(txid(cheap)));
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: before, rejected: 1 }, 'refused, not accepted nor evicted');
      // Nothing of the refused transaction lingers: the same coins at a better rate get in (and x goes).
      const better = atRate(coins, bob, 10);
      const r = pool.accept(better);
      assert.ok(r.status === 'accepted');
      assert.deepEqual(r.evicted, [idOf(x)]);
      assert.deepEqual(poolIds(pool), sorted([y, better]));
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 3, rejected: 1, evicted: 1 });
    });
  });

  describe('update()', function () {
    it('after a block that mines some pool transactions: removes them, keeps the rest, unlinks confirmed parents', function () {
      const pool = fx.pool();
      const t1 = transfer(fx.cb(1), bob, 1000n);
      const t2 = transfer(fx.cb(2), bob, 1000n);
      const parent = transfer(fx.cb(3), bob, 1000n);
      const child = transfer(coinOf(parent, 0, bob), carol, 2000n);
      const u = transfer(fx.cb(4), carol, 3000n);
      for (const tx of [t1, t2, parent, child, u]) pool.accept(tx);
      // A block with none of them changes nothing.
      assert.deepEqual(pool.update(fx.mine([])), { mined: 0, returned: 0, dropped: [] });
      assert.equal(pool.size, 5);

      const r = pool.update(fx.mine([t1, parent]));
      assert.deepEqual(r, { mined: 2, returned: 0, dropped: [] });
      assert.deepEqual(poolIds(pool), sorted([t2, child, u]));
      assert.equal(pool.totalBytes, txSize(t2) + txSize(child) + txSize(u));
      assert.ok(!pool.has(txid(t1)) && !pool.has(txid(parent)));
      // The child now spends a confirmed output: it stands alone.
      assert.equal(pool.get(txid(child))!.parents.size, 0);
      assert.deepEqual(ids(pool.select(1_000_000).txs), [idOf(u), idOf(child), idOf(t2)]);
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 5, mined: 2 });
      // What is left still makes a valid block, and then the pool is empty.
      assert.deepEqual(pool.update(fx.mine(pool.select(1_000_000).txs.map((e) => e.tx))), { mined: 3, returned: 0, dropped: [] });
      assert.equal(pool.size, 0);
      assert.equal(pool.totalBytes, 0);
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 5, mined: 5 });
    });

    it('after a block with a conflicting spend: drops the conflicted transaction and its descendants', function () {
      const pool = fx.pool();
      const t = transfer(fx.cb(1), bob, 1000n);
      const tc = transfer(coinOf(t, 0, bob), carol, 1000n);
      const tcc = transfer(coinOf(tc, 0, carol), key(4), 1000n);
      const v = transfer(fx.cb(2), bob, 1000n);
      for (const tx of [t, tc, tcc, v]) pool.accept(tx);
      const rival = transfer(fx.cb(1), key(9), 500n);
      assert.notEqual(idOf(rival), idOf(t));
      const r = pool.update(fx.mine([rival]));
      assert.deepEqual(r, { mined: 0, returned: 0, dropped: [idOf(t), idOf(tc), idOf(tcc)] });
      assert.deepEqual(poolIds(pool), [idOf(v)]);
      assert.equal(pool.totalBytes, txSize(v));
      assert.equal(pool.view().getCoin(fx.cb(1).txid, 0), undefined);
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 4, conflicted: 3 });
      // The dropped transactions are refused from now on.
      expectCode(() => pool.accept(t), 'bad-txns-inputs-missingorspent');
    });

    it('after a reorganisation: takes back the disconnected transactions still valid, drops the invalid ones', function () {
      const pool = fx.pool();
      const fork = fx.tipBlock; // height 8
      const t1 = transfer(fx.cb(1), bob, 1000n);
      const t2 = transfer(fx.cb(2), bob, 1000n);
      const u = transfer(fx.cb(3), carol, 1000n);
      for (const tx of [t1, t2, u]) pool.accept(tx);
      // a9 mines t1 and t2.
      assert.deepEqual(pool.update(fx.mine([t1, t2])), { mined: 2, returned: 0, dropped: [] });
      // Children of the now-confirmed t1 and t2 enter the pool.
      const w = transfer(coinOf(t1, 0, bob), carol, 2000n);
      const x = transfer(coinOf(t2, 0, bob), carol, 2000n);
      pool.accept(w);
      pool.accept(x);
      assert.deepEqual(poolIds(pool), sorted([u, w, x]));
      assert.equal(pool.get(txid(w))!.parents.size, 0);

      // A heavier branch from height 8: b9 spends t2's coin differently, b10 mines u.
      const t2b = transfer(fx.cb(2), key(9), 5000n);
      const b9 = fx.gen.block(fork, { txs: [t2b] });
      const b10 = fx.gen.block(b9, { txs: [u] });
      const r9 = fx.process(b9);
      assert.equal(r9.connected.length + r9.disconnected.length, 0, 'equal work: first seen stays');
      assert.deepEqual(pool.update(r9), { mined: 0, returned: 0, dropped: [] });
      const r10 = fx.process(b10);
      assert.equal(fx.chain.tip.hashHex, hashOf(b10));
      assert.equal(r10.disconnected.length, 1);
      assert.deepEqual(Chain.returnedTransactions(r10).map(idOf), [idOf(t1), idOf(t2)]);

      const r = pool.update(r10);
      // t1 is back (valid on the new branch), t2 is not (its coin is spent by t2b), u was mined
      // on the new branch, w follows t1 again and x has lost its parent.
      assert.deepEqual(r, { mined: 1, returned: 1, dropped: [idOf(x)] });
      assert.deepEqual(poolIds(pool), sorted([t1, w]));
      const T1 = pool.get(txid(t1))!;
      const W = pool.get(txid(w))!;
      assert.deepEqual([...W.parents], [T1.key]);
      assert.deepEqual([...T1.children], [W.key]);
      assert.equal(pool.totalBytes, T1.size + W.size);
      assert.deepEqual(ids(pool.select(1_000_000).txs), [T1.key, W.key], 'w pays more but follows t1');
      assert.deepEqual(pool.stats, { ...zeroStats, accepted: 5, mined: 3, returned: 1, conflicted: 1 });
      expectCode(() => pool.accept(t2), 'bad-txns-inputs-missingorspent');
      // The pool's contents make a valid block on the new tip.
      assert.deepEqual(pool.update(fx.mine([t1, w])), { mined: 2, returned: 0, dropped: [] });
      assert.equal(pool.size, 0);
    });

    it('after a reorganisation: a returned transaction re-enters ahead of its pool child and then blocks rival spends', function () {
      const pool = fx.pool();
      const fork = fx.tipBlock;
      const mined = transfer(fx.cb(1), bob, 1000n);
      pool.update(fx.mine([mined]));
      // Not a double spend yet from the pool's view: the coin is gone, so this is refused...
      const rival = transfer(fx.cb(1), carol, 9000n);
      expectCode(() => pool.accept(rival), 'bad-txns-inputs-missingorspent');
      // ...and a child of the mined transaction is accepted.
      const child = transfer(coinOf(mined, 0, bob), carol, 1000n);
      pool.accept(child);
      // Two empty blocks from the fork: the block with `mined` is disconnected.
      const [b9, b10] = fx.gen.chain(fork, 2);
      fx.process(b9!);
      const r = pool.update(fx.process(b10!));
      assert.deepEqual(r, { mined: 0, returned: 1, dropped: [] });
      assert.deepEqual(ids(pool.select(1_000_000).txs), [idOf(mined), idOf(child)]);
      // Now the rival conflicts with a pool transaction.
      expectCode(() => pool.accept(rival), 'txn-mempool-conflict');
    });
  });

  it('stats counters follow a full life: accepted, known, rejected, evicted, mined, conflicted, returned', function () {
    const a = atRate(fx.cb(1), bob, 2);
    const b = atRate(fx.cb(2), bob, 3);
    const c = atRate(fx.cb(3), bob, 20);
    const pool = fx.pool({ maxBytes: txSize(a) + txSize(b) + 10 });
    pool.accept(a);
    pool.accept(b);
    pool.accept(a);
    assert.deepEqual(pool.stats, { ...zeroStats, accepted: 2, known: 1 });
    expectCode(() => pool.accept(transfer(fx.cb(1), carol, 9000n)), 'txn-mempool-conflict');
    assert.deepEqual(pool.stats, { ...zeroStats, accepted: 2, known: 1, rejected: 1 });
    pool.accept(c); // evicts a
    assert.deepEqual(pool.stats, { ...zeroStats, accepted: 3, known: 1, rejected: 1, evicted: 1 });
    const fork = fx.tipBlock;
    // b mined; c's coin spent by a rival: c conflicted.
    const rival = transfer(fx.cb(3), carol, 1000n);
    const r = pool.update(fx.mine([b, rival]));
    assert.deepEqual(r, { mined: 1, returned: 0, dropped: [idOf(c)] });
    assert.deepEqual(pool.stats, { ...zeroStats, accepted: 3, known: 1, rejected: 1, evicted: 1, mined: 1, conflicted: 1 });
    assert.equal(pool.size, 0);
    // A heavier branch without that block: b and the rival come back.
    const [b9, b10] = fx.gen.chain(fork, 2);
    fx.process(b9!);
    assert.deepEqual(pool.update(fx.process(b10!)), { mined: 0, returned: 2, dropped: [] });
    assert.deepEqual(poolIds(pool), sorted([b, rival]));
    assert.deepEqual(pool.stats, { ...zeroStats, accepted: 3, known: 1, rejected: 1, evicted: 1, mined: 1, conflicted: 1, returned: 2 });
  });
});
