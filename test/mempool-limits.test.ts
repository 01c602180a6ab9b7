// The mempool against hostile shapes: Core's package limits on long unconfirmed chains and wide
// fans ("too-long-mempool-chain"), package fee rates kept as entries come and go, selection by
// ancestor package (a child paying for its parent), the recent-rejects filter (a replay costs no
// signature check; a new tip clears it) and admission that yields to the event loop between
// slices of signature checks.
import assert from 'node:assert/strict';
import { type Block, type Tx, type SignatureVerifier, Chain, toHex, txid, txSize } from '../src/shared/core/index.js';
import { DEFAULT_PACKAGE_LIMITS, Mempool, type MempoolOptions } from '../src/shared/node/mempool/pool.js';
import { opensslVerifier } from '../src/shared/node/verify/verifier.js';
import { BlockSignatureVerifier } from '../src/shared/node/verify/block-verifier.js';
import {
  BlockGen,
  NOW,
  alice,
  bob,
  carol,
  coinOf,
  coinbaseCoin,
  expectCode,
  makeTestParams,
  pay,
  spend,
  transfer,
  withScriptSig,
  type Spendable,
} from './kit/blockgen.js';
import { freshChain } from './kit/chain-harness.js';

const params = makeTestParams();
const idOf = (tx: Tx): string => toHex(txid(tx));

class Fixture {
  readonly gen = new BlockGen(params);
  readonly chain: Chain;
  readonly blocks: Block[] = [params.genesis];
  constructor(height = 8) {
    ({ chain: this.chain } = freshChain(params));
    for (const b of this.gen.chain(params.genesis, height)) this.process(b);
  }
  process(b: Block) {
    this.blocks.push(b);
    const r = this.chain.processBlock(b, NOW);
    assert.equal(r.status, 'accepted');
    return r as Extract<typeof r, { status: 'accepted' }>;
  }
  cb(h: number): Spendable {
    return coinbaseCoin(this.blocks[h]!);
  }
  pool(opts: Partial<MempoolOptions> = {}): Mempool {
    return new Mempool(this.chain, { minRelayFeeRate: 1, maxBytes: 10_000_000, ...opts });
  }
  /** Mines txs in a block on the tip. */
  mine(txs: readonly Tx[]) {
    return this.process(this.gen.block(this.blocks[this.blocks.length - 1]!, { txs }));
  }
}

/** A small deterministic generator (xorshift32), so a failing case can be run again. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** What the tests compare of two pools: every entry's packages, and the template order. */
function poolShape(pool: Mempool): string[] {
  const rows = pool
    .all()
    .map(
      (e) =>
        `${e.key} a${e.ancestorCount}/${e.ancestorSize}/${e.ancestorFees} d${e.descendantCount}/${e.descendantSize}/${e.descendantFees} p${[...e.parents].sort()} c${[...e.children].sort()}`,
    );
  return [...rows.sort(), `template ${pool.select(1_000_000).txs.map((e) => e.key)}`, `bytes ${pool.totalBytes}`];
}

/** n transactions, each spending the previous one's only output, paying 1000 each. */
function unconfirmedChain(from: Spendable, n: number): Tx[] {
  const out: Tx[] = [];
  let c = from;
  for (let i = 0; i < n; i++) {
    const tx = transfer(c, i % 2 ? bob : alice, 1000n);
    out.push(tx);
    c = coinOf(tx, 0, i % 2 ? bob : alice);
  }
  return out;
}

describe('mempool limits and hostile shapes', function () {
  let fx: Fixture;
  beforeEach(function () {
    fx = new Fixture(8);
  });

  it("takes a chain of unconfirmed transactions up to Core's 25 and refuses the 26th ('too-long-mempool-chain')", function () {
    const pool = fx.pool();
    const txs = unconfirmedChain(fx.cb(1), 40);
    for (const tx of txs.slice(0, 25)) assert.equal(pool.accept(tx).status, 'accepted');
    const e = expectCode(() => pool.accept(txs[25]!), 'too-long-mempool-chain');
    assert.equal(e.misbehaving, false);
    // Its descendants have no parent in the pool: missing inputs, cheaply.
    expectCode(() => pool.accept(txs[26]!), 'bad-txns-inputs-missingorspent');
    const last = pool.get(txid(txs[24]!))!;
    assert.equal(last.ancestorCount, 25);
    assert.equal(last.ancestorFees, 25_000n);
    const root = pool.get(txid(txs[0]!))!;
    assert.equal(root.descendantCount, 25);
    assert.equal(
      root.descendantSize,
      txs.slice(0, 25).reduce((n, t) => n + txSize(t), 0),
    );
    // A template takes the whole chain, parents first.
    assert.deepEqual(
      pool.select(1_000_000).txs.map((x) => x.key),
      txs.slice(0, 25).map(idOf),
    );
  });

  it('refuses a 25th child of one parent (descendant limit) and the ancestor byte limit', function () {
    const pool = fx.pool();
    const c = fx.cb(1);
    const fan = spend(
      [c],
      Array.from({ length: 30 }, () => pay(bob, (c.value - 5000n) / 30n)),
    );
    pool.accept(fan);
    for (let k = 0; k < 24; k++) pool.accept(transfer(coinOf(fan, k, bob), carol, 1000n));
    assert.equal(pool.get(txid(fan))!.descendantCount, 25);
    expectCode(() => pool.accept(transfer(coinOf(fan, 24, bob), carol, 1000n)), 'too-long-mempool-chain');
    // Byte limits: a tight ancestor limit refuses the second link.
    const tight = fx.pool({ limits: { ...DEFAULT_PACKAGE_LIMITS, ancestorBytes: 300 } });
    const [p, q] = unconfirmedChain(fx.cb(2), 2);
    tight.accept(p!);
    expectCode(() => tight.accept(q!), 'too-long-mempool-chain');
  });

  it('keeps package figures right when a package is evicted and when blocks mine part of a chain', function () {
    const txs = unconfirmedChain(fx.cb(1), 5);
    const pool = fx.pool();
    for (const tx of txs) pool.accept(tx);
    // Mine the first two: the rest re-enter with smaller ancestor packages.
    pool.update(fx.process(fx.gen.block(fx.blocks.at(-1)!, { txs: txs.slice(0, 2) })));
    assert.equal(pool.size, 3);
    const third = pool.get(txid(txs[2]!))!;
    assert.equal(third.ancestorCount, 1);
    assert.equal(third.descendantCount, 3);
    assert.equal(pool.get(txid(txs[4]!))!.ancestorCount, 3);
  });

  it('selects by ancestor package: a rich child pulls in its poor parent ahead of a middling stranger', function () {
    const pool = fx.pool();
    const parent = transfer(fx.cb(1), bob, 200n); // about 1 per byte
    const child = transfer(coinOf(parent, 0, bob), carol, 40_000n); // about 200 per byte
    const stranger = transfer(fx.cb(2), carol, 10_000n); // about 50 per byte
    for (const tx of [parent, stranger, child]) pool.accept(tx);
    // Room for two transactions: the parent-child package pays more per byte than the stranger.
    const room = txSize(parent) + txSize(child) + 10;
    assert.deepEqual(
      pool.select(room).txs.map((x) => x.key),
      [idOf(parent), idOf(child)],
    );
    // With room for all, the package first, then the stranger.
    assert.deepEqual(
      pool.select(1_000_000).txs.map((x) => x.key),
      [idOf(parent), idOf(child), idOf(stranger)],
    );
  });

  it('remembers a rejected txid: a replay costs no signature check, a new tip clears the filter, missing inputs are not remembered', function () {
    let checks = 0;
    const verifier: SignatureVerifier = (...a) => {
      checks++;
      return opensslVerifier(...a);
    };
    const pool = fx.pool({ verifier });
    const good = transfer(fx.cb(1), bob, 1000n);
    const forged = withScriptSig(good, 0, transfer(fx.cb(2), bob, 1000n).inputs[0]!.scriptSig);
    expectCode(() => pool.accept(forged), 'mandatory-script-verify-flag-failed');
    const after = checks;
    assert.ok(after >= 1);
    for (let i = 0; i < 50; i++) expectCode(() => pool.accept(forged), 'txn-recently-rejected');
    assert.equal(checks, after, 'no signature checked for a replay');
    assert.equal(pool.stats.recentlyRejected, 50);
    assert.ok(pool.recentlyRejected(txid(forged)));
    // A new tip: checked again (and refused again).
    pool.update(fx.process(fx.gen.block(fx.blocks.at(-1)!)));
    assert.ok(!pool.recentlyRejected(txid(forged)));
    expectCode(() => pool.accept(forged), 'mandatory-script-verify-flag-failed');
    assert.ok(checks > after);
    // A child heard before its parent is taken once the parent arrives.
    const parent = transfer(fx.cb(3), bob, 1000n);
    const child = transfer(coinOf(parent, 0, bob), carol, 1000n);
    expectCode(() => pool.accept(child), 'bad-txns-inputs-missingorspent');
    pool.accept(parent);
    assert.equal(pool.accept(child).status, 'accepted');
  });

  it('after blocks that extend the tip, the pool is exactly what re-admitting its survivors to an empty pool gives (20 random cases)', function () {
    this.timeout(60_000);
    for (let seed = 1; seed <= 20; seed++) {
      fx = new Fixture(16);
      const rnd = prng(seed);
      const pool = fx.pool();
      // A random forest of unconfirmed transactions with two outputs each, over ten coinbases.
      const coins: Spendable[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((h) => fx.cb(h));
      const accepted: Tx[] = [];
      for (let i = 0; i < 40 && coins.length; i++) {
        const c = coins.splice(rnd(coins.length), 1)[0]!;
        const fee = BigInt(300 + rnd(5000));
        const half = (c.value - fee) / 2n;
        const tx = spend([c], [pay(bob, half), pay(alice, c.value - fee - half)]);
        pool.accept(tx);
        accepted.push(tx);
        coins.push(coinOf(tx, 0, bob), coinOf(tx, 1, alice));
      }
      // A block: some pool transactions with their pool ancestors (parents first), and a rival
      // spending the coin of another.
      const chosen = new Set<string>();
      const withAncestors = (tx: Tx): void => {
        for (const i of tx.inputs) {
          const parent = accepted.find((t) => idOf(t) === toHex(i.prevTxid));
          if (parent) withAncestors(parent);
        }
        chosen.add(idOf(tx));
      };
      for (let k = 0; k < 3; k++) withAncestors(accepted[rnd(accepted.length)]!);
      const blockTxs = accepted.filter((t) => chosen.has(idOf(t)));
      const victim = accepted.filter((t) => !chosen.has(idOf(t)) && !t.inputs.some((i) => chosen.has(toHex(i.prevTxid))))[0];
      if (victim) {
        const parentTx = accepted.find((t) => idOf(t) === toHex(victim.inputs[0]!.prevTxid));
        const c = parentTx
          ? coinOf(parentTx, victim.inputs[0]!.vout, victim.inputs[0]!.vout === 0 ? bob : alice)
          : fx.cb(fx.blocks.findIndex((b) => idOf(b.txs[0]!) === toHex(victim.inputs[0]!.prevTxid)));
        if (!parentTx || chosen.has(idOf(parentTx))) blockTxs.push(transfer(c, carol, 777n));
      }
      const r = pool.update(fx.mine(blockTxs));
      // The reference: the same survivors admitted in arrival order to a fresh pool on the new tip.
      const reference = fx.pool();
      for (const tx of accepted) {
        if (pool.has(txid(tx))) reference.accept(tx);
      }
      assert.deepEqual(poolShape(pool), poolShape(reference), `seed ${seed}`);
      assert.equal(r.mined, blockTxs.filter((t) => accepted.includes(t)).length, `seed ${seed}`);
      // Nothing that should have stayed was dropped: every other survivor re-enters the reference too.
      for (const tx of accepted)
        if (!pool.has(txid(tx)) && !chosen.has(idOf(tx))) assert.ok(r.dropped.includes(idOf(tx)), `seed ${seed}: ${idOf(tx)} vanished`);
    }
  });

  it('acceptAsync checks signatures in slices, yielding to the event loop between them, and re-checks conflicts at the end', async function () {
    const pool = fx.pool();
    const coins = [1, 2, 3, 4, 5].map((h) => fx.cb(h));
    const big = spend(coins, [pay(bob, coins.reduce((n, c) => n + c.value, 0n) - 10_000n)]);
    let ticks = 0;
    let running = true;
    const tick = (): void => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const r = await pool.acceptAsync(big, 1);
    running = false;
    assert.equal(r.status, 'accepted');
    assert.ok(ticks >= 4, `the event loop ran between slices (${ticks} turns)`);
    // A rival spending one of the same coins arrives while the signatures are being checked.
    const pool2 = fx.pool();
    const pending = pool2.acceptAsync(big, 1);
    pool2.accept(transfer(coins[4]!, carol, 1000n));
    await assert.rejects(pending, (e: Error & { code?: string }) => e.code === 'txn-mempool-conflict');
  });

  it("with checking threads, acceptAsync verifies signatures off the event loop: the verifier there only reads the cache; a bad one is still refused with Core's code", async function () {
    const sigs = BlockSignatureVerifier.create(2);
    fx = new Fixture(20);
    try {
      const pool = fx.pool({ verifier: sigs.cache.verifier, preverify: (c) => sigs.preverifyChecks(c, 1) });
      const coins = [1, 2, 3, 4, 5].map((h) => fx.cb(h));
      const big = spend(coins, [pay(bob, coins.reduce((n, c) => n + c.value, 0n) - 10_000n)]);
      assert.equal((await pool.acceptAsync(big)).status, 'accepted');
      assert.equal(sigs.stats.parallel, 5, 'all five checked in the threads');
      assert.deepEqual([sigs.cache.stats.hits, sigs.cache.stats.misses], [5, 0], 'none verified on the event loop');
      // A signature of another message under the right key: the threads say no, the event loop's
      // verifier checks that one input itself and refuses with the consensus code.
      const good = spend([fx.cb(6), fx.cb(7)], [pay(carol, fx.cb(6).value + fx.cb(7).value - 10_000n)]);
      const forged = withScriptSig(good, 1, transfer(fx.cb(8), bob, 1000n).inputs[0]!.scriptSig);
      await assert.rejects(pool.acceptAsync(forged), (e: Error & { code?: string }) => e.code === 'mandatory-script-verify-flag-failed');
      assert.equal(sigs.cache.stats.misses, 1, 'only the failing input verified on the event loop');
      // A forged first input ends it there, as in Core: one check, not one per input.
      const wideCoins = [9, 10, 11, 12, 13, 14].map((h) => fx.cb(h));
      const wide = spend(wideCoins, [pay(carol, wideCoins.reduce((n, c) => n + c.value, 0n) - 10_000n)]);
      const forgedFirst = withScriptSig(wide, 0, transfer(fx.cb(8), bob, 1000n).inputs[0]!.scriptSig);
      const threadChecks = sigs.stats.parallel;
      await assert.rejects(
        pool.acceptAsync(forgedFirst),
        (e: Error & { code?: string; detail?: string }) =>
          e.code === 'mandatory-script-verify-flag-failed' && /input 0$/.test(e.detail ?? ''),
      );
      assert.deepEqual([sigs.stats.parallel - threadChecks, sigs.cache.stats.misses], [1, 2], 'input 0 alone was checked');
      // Threads that fail cost time only: the verdicts are the event loop's own.
      const broken = fx.pool({ verifier: sigs.cache.verifier, preverify: () => Promise.reject(new Error('threads gone')) });
      assert.equal((await broken.acceptAsync(good)).status, 'accepted');
    } finally {
      await sigs.close();
    }
  });

  it('acceptAsync of a transaction that enters the pool, or is mined, while its signatures are checked: known, or refused as already mined', async function () {
    fx = new Fixture(10);
    const coins = [1, 2, 3, 4, 5].map((h) => fx.cb(h));
    const big = spend(coins, [pay(bob, coins.reduce((n, c) => n + c.value, 0n) - 10_000n)]);
    const pool = fx.pool();
    const pending = pool.acceptAsync(big, 1);
    pool.accept(big);
    assert.equal((await pending).status, 'known');
    // In the pool and mined before the checks are done: its outputs are in the UTXO set.
    const other = fx.pool();
    const later = other.acceptAsync(big, 1);
    other.accept(big);
    other.update(fx.mine([big]));
    await assert.rejects(later, (e: Error & { code?: string }) => e.code === 'txn-already-known');
  });
});
