// Chain selection and reorganisation: the valid branch with the most work is active, first seen
// wins among equals, a reorganisation leaves exactly the UTXO set of the winning branch, invalid
// branches are refused without touching the state, orphans wait for their parent, and the state
// survives reopening the store.
import assert from 'node:assert/strict';
import {
  type Block,
  type BlockResult,
  type ChainUpdate,
  Chain,
  ValidationError,
  blockWork,
  bitsToTarget,
  headerHash,
  targetToBits,
  txid,
} from '../src/shared/core/index.js';
import {
  BlockGen,
  NOW,
  TEST_POW_LIMIT_BITS,
  alice,
  bob,
  carol,
  coinOf,
  coinbaseCoin,
  hashOf,
  key,
  makeTestParams,
  transfer,
  expectCode,
} from './kit/blockgen.js';
import { ChainUnderTest, STORE_KINDS, type StoreKind, coinsOf, freshChain, stateOf } from './kit/chain-harness.js';

const params = makeTestParams();
/** The test network's subsidy at these heights (config.json's devnet, no halving before 150): 50 coins, written out. */
const SUBSIDY = 50n * 100_000_000n;

/** Processes blocks in order; each must be accepted (stored), whether or not it became the tip. */
function send(chain: Chain, blocks: readonly Block[]): Extract<BlockResult, { status: 'accepted' }>[] {
  return blocks.map((b) => {
    const r = chain.processBlock(b, NOW);
    assert.equal(r.status, 'accepted', `block ${hashOf(b)} was not accepted`);
    return r as Extract<BlockResult, { status: 'accepted' }>;
  });
}

/** The UTXO set of a fresh chain that saw only these blocks (which must end at its tip). */
function replayCoins(blocks: readonly Block[], p = params) {
  const { chain, store } = freshChain(p);
  send(chain, blocks);
  assert.equal(chain.tip.hashHex, hashOf(blocks[blocks.length - 1]!));
  return store.coins;
}

const hashes = (xs: ChainUpdate['connected']) => xs.map((x) => x.entry.hashHex);

/** Chains under test opened by the running test, closed (and an LMDB store's folder removed) after it. */
const opened: ChainUnderTest[] = [];
function open(kind: StoreKind): ChainUnderTest {
  const t = new ChainUnderTest(params, kind);
  opened.push(t);
  return t;
}
function closeAll(): void {
  for (const t of opened.splice(0)) t.close();
}

describe('chain selection and reorganisation', function () {
  let gen: BlockGen;
  /** p1..p4 on genesis: after them, coinbases of p1 (and at height 6, p2) are mature. */
  let prefix: Block[];
  beforeEach(function () {
    gen = new BlockGen(params);
    prefix = gen.chain(params.genesis, 4);
  });

  it('equal work: the branch seen first stays active, whichever it is', function () {
    const a = gen.chain(prefix[3]!, 2, { payTo: bob });
    const b = gen.chain(prefix[3]!, 2, { payTo: carol });
    for (const [first, second] of [
      [a, b],
      [b, a],
    ] as const) {
      const { chain, store } = freshChain(params);
      send(chain, [...prefix, ...first]);
      const before = stateOf(chain, store);
      const rs = send(chain, second);
      for (const r of rs) {
        assert.equal(r.connected.length + r.disconnected.length, 0);
        assert.equal(r.entry.status, 'data', 'a block off the active chain is stored, not connected');
      }
      assert.deepEqual(stateOf(chain, store), before);
      assert.equal(chain.tip.hashHex, hashOf(first[1]!));
      assert.equal(chain.getEntry(headerHash(second[1]!.header))!.chainWork, chain.tip.chainWork);
    }
  });

  it('equal work: a branch whose header came first but whose data came later does not displace the tip', function () {
    const { chain, store } = freshChain(params);
    send(chain, prefix);
    const a5 = gen.block(prefix[3]!, { payTo: bob });
    const b5 = gen.block(prefix[3]!, { payTo: carol });
    chain.acceptHeader(b5.header, NOW);
    send(chain, [a5]);
    assert.equal(chain.tip.hashHex, hashOf(a5));
    const before = stateOf(chain, store);
    const [r] = send(chain, [b5]);
    assert.equal(r!.connected.length, 0);
    assert.deepEqual(stateOf(chain, store), before);
  });

  it('lighter branch: stored, never connected, state unchanged', function () {
    const { chain, store } = freshChain(params);
    send(chain, [...prefix, ...gen.chain(prefix[3]!, 3)]);
    const before = stateOf(chain, store);
    const light = gen.chain(prefix[3]!, 2, { payTo: carol });
    for (const r of send(chain, light)) assert.equal(r.connected.length, 0);
    assert.deepEqual(stateOf(chain, store), before);
    assert.equal(chain.height, 7);
    assert.ok(chain.getEntry(headerHash(light[1]!.header))!.chainWork < chain.tip.chainWork);
    assert.equal(chain.bestHeader().hashHex, chain.tip.hashHex);
  });

  for (const kind of STORE_KINDS)
    describe(`a heavier branch [${kind} store]`, function () {
      let A: Block[];
      let B: Block[];
      let txA5: ReturnType<typeof transfer>;
      let txA6: ReturnType<typeof transfer>;
      afterEach(closeAll);
      beforeEach(function () {
        // A: a5 pays p1's coinbase to bob, a6 passes that on to carol, a7 is empty.
        txA5 = transfer(coinbaseCoin(prefix[0]!), bob, 1000n);
        txA6 = transfer(coinOf(txA5, 0, bob), carol, 1000n);
        const a5 = gen.block(prefix[3]!, { txs: [txA5], fees: 1000n });
        const a6 = gen.block(a5, { txs: [txA6], fees: 1000n });
        A = [a5, a6, gen.block(a6)];
        // B: b5 spends p1's coinbase differently (to carol), b6 spends p2's coinbase and b5's output,
        // b7 is empty, b8 spends b6's first output.
        const txB5 = transfer(coinbaseCoin(prefix[0]!), carol, 300n);
        const txB6a = transfer(coinbaseCoin(prefix[1]!), bob);
        const txB6b = transfer(coinOf(txB5, 0, carol), alice, 1n);
        const b5 = gen.block(prefix[3]!, { txs: [txB5], fees: 300n, payTo: key(9) });
        const b6 = gen.block(b5, { txs: [txB6a, txB6b], fees: 1n });
        const b7 = gen.block(b6);
        const b8 = gen.block(b7, { txs: [transfer(coinOf(txB6a, 0, bob), key(10))] });
        B = [b5, b6, b7, b8];
      });

      it('reorganises: tip moves, UTXO set equals a replay of the winning branch, disconnected blocks come back', function () {
        const { chain, store } = open(kind);
        send(chain, [...prefix, ...A]);
        assert.equal(chain.tip.hashHex, hashOf(A[2]!));
        const rs = send(chain, B);
        // b5..b7 have at most A's work: nothing moves until b8.
        for (const r of rs.slice(0, 3)) assert.equal(r.connected.length + r.disconnected.length, 0);
        assert.equal(chain.tip.hashHex, hashOf(B[3]!));
        assert.equal(chain.height, 8);
        const r = rs[3]!;
        assert.deepEqual(hashes(r.disconnected), [A[2]!, A[1]!, A[0]!].map(hashOf), 'disconnected newest first');
        assert.deepEqual(hashes(r.connected), B.map(hashOf), 'connected oldest first');
        assert.deepEqual(r.invalid, []);
        assert.deepEqual(Chain.returnedTransactions(r).map(txid), [txid(txA5), txid(txA6)]);
        assert.deepEqual(coinsOf(store), replayCoins([...prefix, ...B]));
        // A's outputs are gone, p1's coinbase is spent by B instead.
        assert.equal(store.getCoin(txid(txA5), 0), undefined);
        assert.equal(store.getCoin(txid(txA6), 0), undefined);
        for (let h = 1; h <= 8; h++) assert.equal(chain.atHeight(h)!.hashHex, hashOf([...prefix, ...B][h - 1]!));
      });

      it("reorganises back and forth, each time to exactly the winning branch's UTXO set", function () {
        const { chain, store } = open(kind);
        send(chain, [...prefix, ...A, ...B]);
        assert.deepEqual(coinsOf(store), replayCoins([...prefix, ...B]));
        // A grows past B: back to A (its blocks are connected again from the store).
        const A2 = [...A, ...gen.chain(A[2]!, 2)];
        const rs = send(chain, A2.slice(3));
        assert.equal(rs[0]!.connected.length, 0, "a8 only equals B's work");
        assert.deepEqual(hashes(rs[1]!.disconnected), [...B].reverse().map(hashOf));
        assert.deepEqual(hashes(rs[1]!.connected), A2.map(hashOf));
        assert.equal(chain.tip.hashHex, hashOf(A2[4]!));
        assert.deepEqual(coinsOf(store), replayCoins([...prefix, ...A2]));
        // And B again.
        const B2 = [...B, ...gen.chain(B[3]!, 2)];
        send(chain, B2.slice(4));
        assert.equal(chain.tip.hashHex, hashOf(B2[5]!));
        assert.deepEqual(coinsOf(store), replayCoins([...prefix, ...B2]));
      });

      it('reopening a Chain on the same store restores tip, active chain, UTXO set and the side branch', function () {
        const { chain, store } = open(kind);
        send(chain, [...prefix, ...A, ...B]);
        const before = stateOf(chain, store);
        const reopened = new Chain(params, store);
        assert.deepEqual(stateOf(reopened, store), before);
        for (let h = 0; h <= chain.height; h++) assert.equal(reopened.atHeight(h)!.hashHex, chain.atHeight(h)!.hashHex);
        assert.equal(reopened.tip.chainWork, chain.tip.chainWork);
        assert.equal(reopened.medianTimePast(reopened.tip), chain.medianTimePast(chain.tip));
        assert.equal(reopened.processBlock(A[1]!, NOW).status, 'duplicate');
        // The side branch A is still known with its data: two more blocks on it reorganise.
        const more = gen.chain(A[2]!, 2);
        send(reopened, more);
        assert.equal(reopened.tip.hashHex, hashOf(more[1]!));
        assert.deepEqual(coinsOf(store), replayCoins([...prefix, ...A, ...more]));
        // And once more after a second reopening.
        const again = new Chain(params, store);
        assert.equal(again.tip.hashHex, hashOf(more[1]!));
        assert.equal(again.height, 9);
      });
    });

  it('a double spend across the new branch: the branch is refused and the chain stays where it was', function () {
    const { chain, store } = freshChain(params);
    const a5 = gen.block(prefix[3]!);
    const A = [a5, gen.block(a5)];
    send(chain, [...prefix, ...A]);
    const before = stateOf(chain, store);
    // b5 spends p2's coinbase to bob (valid on its own), b6 spends it again to carol.
    const b5 = gen.block(prefix[3]!, { txs: [transfer(coinbaseCoin(prefix[1]!), bob)] });
    const b6 = gen.block(b5, { txs: [transfer(coinbaseCoin(prefix[1]!), carol)] });
    const b7 = gen.block(b6);
    send(chain, [b5, b6]);
    assert.deepEqual(stateOf(chain, store), before);
    // b7 makes the branch heavier; connecting it finds b6 invalid.
    const r = chain.processBlock(b7, NOW);
    assert.equal(r.status, 'accepted');
    if (r.status !== 'accepted') return;
    assert.equal(r.connected.length + r.disconnected.length, 0);
    assert.equal(r.invalid.length, 1);
    assert.equal(r.invalid[0]!.entry.hashHex, hashOf(b6));
    assert.equal(r.invalid[0]!.error.code, 'bad-txns-inputs-missingorspent');
    assert.deepEqual(stateOf(chain, store), before);
    assert.equal(chain.getEntry(headerHash(b5.header))!.status, 'data');
    assert.equal(chain.getEntry(headerHash(b6.header))!.status, 'failed');
    assert.equal(chain.getEntry(headerHash(b7.header))!.status, 'failed');
    assert.equal(chain.bestHeader().hashHex, chain.tip.hashHex, 'failed headers do not count as best');
    // Memory and store agree: the abandoned move left nothing behind.
    for (const b of [b5, b6, b7]) assert.equal(store.entries.get(hashOf(b))!.status, chain.getEntry(headerHash(b.header))!.status);
    assert.deepEqual(stateOf(new Chain(params, store), store), before);
    // The branch stays refused.
    expectCode(() => chain.processBlock(b6, NOW), 'duplicate-invalid');
    expectCode(() => chain.processBlock(b7, NOW), 'duplicate-invalid');
    expectCode(() => chain.processBlock(gen.block(b7), NOW), 'bad-prevblk');
    assert.deepEqual(stateOf(chain, store), before);
    // The valid branch goes on; so can a valid sibling of b6 (b5 itself was never at fault).
    send(chain, [gen.block(A[1]!)]);
    assert.equal(chain.height, 7);
    const c6 = gen.block(b5);
    const c7 = gen.block(c6);
    const c8 = gen.block(c7);
    send(chain, [c6, c7, c8]);
    assert.equal(chain.tip.hashHex, hashOf(c8));
    assert.deepEqual(store.coins, replayCoins([...prefix, b5, c6, c7, c8]));
  });

  it('an invalid block in the middle of a heavier branch is not connected; the state is unchanged and its descendants are refused', function () {
    const { chain, store } = freshChain(params);
    const A = gen.chain(prefix[3]!, 2);
    send(chain, [...prefix, ...A]);
    const before = stateOf(chain, store);
    const b5 = gen.block(prefix[3]!, { txs: [transfer(coinbaseCoin(prefix[0]!), bob)] });
    const b6 = gen.block(b5);
    // b7 claims one unit too much: valid header, invalid block.
    const b7 = gen.block(b6, { coinbaseValue: SUBSIDY + 1n });
    const b8 = gen.block(b7);
    const b9 = gen.block(b8);
    send(chain, [b5, b6]);
    // b7 would make the branch heavier: it is connected in a scratch view, fails, and is thrown out.
    const err = expectCode(() => chain.processBlock(b7, NOW), 'bad-cb-amount');
    assert.equal(err.misbehaving, true);
    assert.deepEqual(stateOf(chain, store), before);
    assert.equal(chain.getEntry(headerHash(b7.header))!.status, 'failed');
    assert.equal(chain.getEntry(headerHash(b6.header))!.status, 'data', "b7's ancestors are not blamed");
    expectCode(() => chain.processBlock(b7, NOW), 'duplicate-invalid');
    expectCode(() => chain.processBlock(b8, NOW), 'bad-prevblk');
    expectCode(() => chain.acceptHeader(b8.header, NOW), 'bad-prevblk');
    // b9's parent b8 was never admitted, so b9 can only wait (and will never connect).
    assert.equal(chain.processBlock(b9, NOW).status, 'orphan');
    assert.deepEqual(stateOf(chain, store), before);
    // The valid chain carries on.
    send(chain, [gen.block(A[1]!)]);
    assert.equal(chain.height, 7);
  });

  it('descendants that arrived first as orphans never connect once their parent proves invalid', function () {
    const { chain, store } = freshChain(params);
    send(chain, prefix);
    const before = stateOf(chain, store);
    const b5 = gen.block(prefix[3]!, { coinbaseValue: SUBSIDY + 1n });
    const b6 = gen.block(b5);
    const b7 = gen.block(b6);
    assert.equal(chain.processBlock(b7, NOW).status, 'orphan');
    assert.equal(chain.processBlock(b6, NOW).status, 'orphan');
    assert.equal(chain.orphanCount, 2);
    expectCode(() => chain.processBlock(b5, NOW), 'bad-cb-amount');
    assert.deepEqual(stateOf(chain, store), before);
    assert.equal(chain.getEntry(headerHash(b6.header)), undefined);
    assert.equal(chain.getEntry(headerHash(b7.header)), undefined);
    // Offered again, b6 now names a known-invalid parent.
    expectCode(() => chain.processBlock(b6, NOW), 'bad-prevblk');
    send(chain, [gen.block(prefix[3]!)]);
    assert.equal(chain.height, 5);
  });

  it('blocks arriving before their parent wait as orphans and connect when it arrives', function () {
    const { chain, store } = freshChain(params);
    const blocks = [...prefix, ...gen.chain(prefix[3]!, 2, { txs: [] })];
    const [p1, p2, p3, p4, p5, p6] = blocks as [Block, Block, Block, Block, Block, Block];
    for (const b of [p4, p3, p6]) {
      const r = chain.processBlock(b, NOW);
      assert.equal(r.status, 'orphan');
      if (r.status === 'orphan') assert.deepEqual(r.missingParent, b.header.prevHash);
    }
    assert.equal(chain.orphanCount, 3);
    assert.equal(chain.height, 0);
    assert.equal(chain.processBlock(p4, NOW).status, 'orphan', 'an orphan seen twice is still an orphan');
    assert.equal(chain.orphanCount, 3);
    send(chain, [p1]);
    assert.equal(chain.height, 1);
    const [r] = send(chain, [p2]);
    assert.deepEqual(hashes(r!.connected), [p2, p3, p4].map(hashOf));
    assert.equal(chain.tip.hashHex, hashOf(p4));
    assert.equal(chain.orphanCount, 1, 'p6 still waits for p5');
    send(chain, [p5]);
    assert.equal(chain.tip.hashHex, hashOf(p6));
    assert.equal(chain.orphanCount, 0);
    assert.deepEqual(store.coins, replayCoins(blocks));
  });

  it('most work, not most blocks: a shorter branch with harder bits beats a longer, easier one', function () {
    // Retarget every 4 blocks at 600 s. Branch H mines its first period 1 s per block, so its 4th
    // block must carry a 4x smaller target (4x the work); branch L takes 1000 s per block and
    // stays at powLimit.
    const p = makeTestParams({ retargetInterval: 4, targetBlockSeconds: 600 });
    const g = new BlockGen(p);
    const t0 = p.genesis.header.time;
    const quarter = targetToBits(bitsToTarget(TEST_POW_LIMIT_BITS) / 4n);
    const H = g.chain(p.genesis, 4, { payTo: bob });
    const L = g.chain(p.genesis, 8, (i) => ({ payTo: carol, time: t0 + 1000 * (i + 1) }));
    assert.deepEqual(
      H.map((b) => b.header.bits),
      [TEST_POW_LIMIT_BITS, TEST_POW_LIMIT_BITS, TEST_POW_LIMIT_BITS, quarter],
    );
    assert.ok(L.every((b) => b.header.bits === TEST_POW_LIMIT_BITS));
    const unit = blockWork(TEST_POW_LIMIT_BITS);
    assert.equal(blockWork(quarter), 4n * unit);

    const { chain, store } = freshChain(p);
    send(chain, L.slice(0, 6));
    assert.equal(chain.height, 6);
    assert.equal(chain.tip.chainWork, 7n * unit);
    // H's first three blocks are lighter; its fourth makes 1 + 3 + 4 = 8 units > 7.
    const rs = send(chain, H);
    for (const r of rs.slice(0, 3)) assert.equal(r.connected.length, 0);
    assert.equal(chain.tip.hashHex, hashOf(H[3]!));
    assert.equal(chain.height, 4, 'the active chain got shorter');
    assert.equal(chain.tip.chainWork, 8n * unit);
    assert.equal(rs[3]!.disconnected.length, 6);
    assert.deepEqual(store.coins, replayCoins(H, p));
    // L's 7th block only ties (8 units): the first seen at that work, H, stays.
    send(chain, [L[6]!]);
    assert.equal(chain.tip.hashHex, hashOf(H[3]!));
    // Its 8th block has more work: back to L, now twice as long as H.
    send(chain, [L[7]!]);
    assert.equal(chain.tip.hashHex, hashOf(L[7]!));
    assert.equal(chain.tip.chainWork, 9n * unit);
    assert.deepEqual(store.coins, replayCoins(L, p));
  });
});
