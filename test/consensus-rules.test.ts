// Named test blocks for every consensus rule, in the style of btcd's fullblocktests: each block is
// built valid on a test network, then broken in exactly one way, and must be refused with Bitcoin
// Core's reason string while the chain (tip, height, UTXO set) stays exactly as it was.
import assert from 'node:assert/strict';
import {
  type Block,
  type Chain,
  type ConsensusParams,
  type MemoryChainStore,
  type Tx,
  CURVE_N,
  MAX_MONEY,
  ValidationError,
  assembleBlock,
  bitsToTarget,
  blockSize,
  blockSubsidy,
  checkBlockSanity,
  checkHeaderContext,
  checkTxSanity,
  concatBytes,
  encodeDer,
  isFinalTx,
  makeCoinbase,
  merkleRoot,
  nextBits,
  isStrictDer,
  p2pkhInputError,
  p2pkhScript,
  p2pkhScriptSig,
  parseDer,
  parsePushes,
  targetToBits,
  txSize,
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
  failPow,
  freshChain,
  hashOf,
  makeTestParams,
  pay,
  signInputs,
  spend,
  stateOf,
  transfer,
  withHeader,
  withScriptSig,
  withTxs,
  expectCode,
} from './kit/blockgen.js';

/** A chain under test with its generator and the blocks of its active chain, blocks[h] at height h. */
class Fixture {
  readonly gen: BlockGen;
  readonly chain: Chain;
  readonly store: MemoryChainStore;
  readonly blocks: Block[];

  constructor(readonly params: ConsensusParams, height: number) {
    this.gen = new BlockGen(params);
    ({ chain: this.chain, store: this.store } = freshChain(params));
    this.blocks = [params.genesis];
    for (let i = 0; i < height; i++) this.accept(this.gen.block(this.tip));
  }

  get tip(): Block {
    return this.blocks[this.blocks.length - 1]!;
  }

  /** The block must be accepted and become the tip. */
  accept(b: Block, now = NOW): void {
    const r = this.chain.processBlock(b, now);
    assert.equal(r.status, 'accepted');
    assert.equal(this.chain.tip.hashHex, hashOf(b), 'block did not become the tip');
    this.blocks.push(b);
  }

  /** The block must be refused with code, leaving tip, height and UTXO set untouched. */
  reject(b: Block, code: string, now = NOW): ValidationError {
    const before = stateOf(this.chain, this.store);
    const err = expectCode(() => this.chain.processBlock(b, now), code);
    assert.deepEqual(stateOf(this.chain, this.store), before, 'a rejected block changed the chain state');
    return err;
  }
}

/** The scriptSig's two pushes: signature with hash type, public key. */
function sigAndKey(tx: Tx, k = 0): [Uint8Array, Uint8Array] {
  const items = parsePushes(tx.inputs[k]!.scriptSig);
  assert.equal(items.length, 2);
  return [items[0]!, items[1]!];
}

const params = makeTestParams();

describe('consensus rules (fullblocktests-style named blocks)', function () {
  // Five blocks on genesis, all coinbases to alice; with maturity 3 the next block (height 6) may
  // spend the coinbases of heights 1 to 3.
  let f: Fixture;
  beforeEach(function () {
    f = new Fixture(params, 5);
  });

  it('test network sanity: maturity 3, trivial proof of work, height 5 reached', function () {
    assert.equal(params.coinbaseMaturity, 3);
    assert.equal(params.powLimitBits, TEST_POW_LIMIT_BITS);
    assert.equal(f.chain.height, 5);
    // Coinbases of heights 1..5 are unspent (the genesis coinbase never enters the UTXO set).
    assert.equal(f.store.coins.size, 5);
    assert.equal(f.store.getCoin(txid(params.genesis.txs[0]!), 0), undefined);
  });

  describe('transactions and scripts', function () {
    it('b-spend: a valid P2PKH spend with its fee claimed is accepted and updates the UTXO set', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = transfer(c, bob, 1000n);
      f.accept(f.gen.block(f.tip, { txs: [tx], fees: 1000n }));
      assert.equal(f.store.getCoin(c.txid, c.vout), undefined, 'spent coin still unspent');
      const created = f.store.getCoin(txid(tx), 0);
      assert.deepEqual(created, { value: c.value - 1000n, scriptPubKey: p2pkhScript(bob.pkh), height: 6, coinbase: false });
      // The new coinbase plus the new output, less the spent coinbase.
      assert.equal(f.store.coins.size, 6 + 1 - 1);
    });

    it('b-wrong-key: a key whose HASH160 is not the output\'s fails OP_EQUALVERIFY', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = spend([{ ...c, key: bob }], [pay(bob, c.value)]);
      const err = f.reject(f.gen.block(f.tip, { txs: [tx] }), 'mandatory-script-verify-flag-failed');
      assert.match(err.detail, /OP_EQUALVERIFY/);
      assert.equal(err.misbehaving, true);
    });

    it('b-bad-sig: a signature over other data evaluates to false', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const signed = transfer(c, bob);
      // Change what was signed: the output now pays 1 less, the signature no longer matches.
      const tx: Tx = { ...signed, outputs: [pay(bob, c.value - 1n)] };
      const err = f.reject(f.gen.block(f.tip, { txs: [tx] }), 'mandatory-script-verify-flag-failed');
      assert.match(err.detail, /false\/empty top stack element/);
      // The untouched transaction is fine.
      f.accept(f.gen.block(f.tip, { txs: [signed] }));
    });

    it('b-non-der: a signature with a needlessly padded R is not strict DER (BIP66)', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = transfer(c, bob);
      const [sig, pub] = sigAndKey(tx);
      const der = sig.subarray(0, sig.length - 1);
      const lenR = der[3]!;
      // 0x30 len 0x02 lenR R ... -> R with an extra leading zero byte (the number is unchanged).
      const padded = concatBytes(Uint8Array.of(0x30, der[1]! + 1, 0x02, lenR + 1, 0x00), der.subarray(4));
      assert.equal(isStrictDer(der), true);
      assert.equal(isStrictDer(padded), false);
      const bad = withScriptSig(tx, 0, p2pkhScriptSig(concatBytes(padded, sig.subarray(sig.length - 1)), pub));
      const err = f.reject(f.gen.block(f.tip, { txs: [bad] }), 'mandatory-script-verify-flag-failed');
      assert.match(err.detail, /Non-canonical DER signature/);
    });

    it('b-high-s: the high-S twin of a valid signature is refused (LOW_S)', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = transfer(c, bob);
      const [sig, pub] = sigAndKey(tx);
      const { r, s } = parseDer(sig.subarray(0, sig.length - 1));
      const highS = concatBytes(encodeDer(r, CURVE_N - s), sig.subarray(sig.length - 1));
      const bad = withScriptSig(tx, 0, p2pkhScriptSig(highS, pub));
      // The only flaw is S: without the low-S rule the signature verifies.
      assert.equal(p2pkhInputError(bad, 0, p2pkhScript(alice.pkh), { allowHighS: true }), undefined);
      const err = f.reject(f.gen.block(f.tip, { txs: [bad] }), 'mandatory-script-verify-flag-failed');
      assert.match(err.detail, /S value is unnecessarily high/);
    });

    it('b-non-push-scriptsig: a scriptSig with an opcode is refused', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = transfer(c, bob);
      const bad = withScriptSig(tx, 0, concatBytes(tx.inputs[0]!.scriptSig, Uint8Array.of(0x76)));
      const err = f.reject(f.gen.block(f.tip, { txs: [bad] }), 'mandatory-script-verify-flag-failed');
      assert.match(err.detail, /Only push operators/);
    });

    it('b-vout-negative: a negative output amount', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = spend([c], [pay(bob, -1n), pay(bob, c.value)]);
      expectCode(() => checkTxSanity(tx, params), 'bad-txns-vout-negative');
      f.reject(f.gen.block(f.tip, { txs: [tx] }), 'bad-txns-vout-negative');
    });

    it('b-vout-toolarge: an output over MAX_MONEY (MAX_MONEY itself passes the sanity check)', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      checkTxSanity(spend([c], [pay(bob, MAX_MONEY)]), params);
      const tx = spend([c], [pay(bob, MAX_MONEY + 1n)]);
      expectCode(() => checkTxSanity(tx, params), 'bad-txns-vout-toolarge');
      f.reject(f.gen.block(f.tip, { txs: [tx] }), 'bad-txns-vout-toolarge');
    });

    it('b-txouttotal-toolarge: outputs each in range but summing over MAX_MONEY', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = spend([c], [pay(bob, MAX_MONEY), pay(bob, 1n)]);
      expectCode(() => checkTxSanity(tx, params), 'bad-txns-txouttotal-toolarge');
      f.reject(f.gen.block(f.tip, { txs: [tx] }), 'bad-txns-txouttotal-toolarge');
    });

    it('b-in-belowout: spending more than the inputs hold (exactly the inputs is fine)', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      f.reject(f.gen.block(f.tip, { txs: [spend([c], [pay(bob, c.value + 1n)])] }), 'bad-txns-in-belowout');
      f.accept(f.gen.block(f.tip, { txs: [spend([c], [pay(bob, c.value)])] }));
    });

    it('b-inputs-duplicate: one transaction spending the same outpoint twice (CVE-2018-17144)', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = spend([c, c], [pay(bob, c.value * 2n)]);
      expectCode(() => checkTxSanity(tx, params), 'bad-txns-inputs-duplicate');
      f.reject(f.gen.block(f.tip, { txs: [tx] }), 'bad-txns-inputs-duplicate');
    });

    it('b-double-spend: two transactions in one block spending the same output', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const err = f.reject(f.gen.block(f.tip, { txs: [transfer(c, bob), transfer(c, carol)] }), 'bad-txns-inputs-missingorspent');
      assert.equal(err.misbehaving, true, 'a block with a double spend can only come from a broken or hostile peer');
    });

    it('b-missing-input: spending an output that never existed', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      // An unknown txid, and an existing transaction's output index that is out of range.
      f.reject(f.gen.block(f.tip, { txs: [spend([{ ...c, txid: new Uint8Array(32).fill(7) }], [pay(bob, 1n)])] }), 'bad-txns-inputs-missingorspent');
      f.reject(f.gen.block(f.tip, { txs: [spend([{ ...c, vout: 1 }], [pay(bob, 1n)])] }), 'bad-txns-inputs-missingorspent');
    });

    it('b-spent-earlier: spending an output a previous block already spent', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      f.accept(f.gen.block(f.tip, { txs: [transfer(c, bob)] }));
      f.reject(f.gen.block(f.tip, { txs: [transfer(c, carol)] }), 'bad-txns-inputs-missingorspent');
    });

    it('b-chain-in-block: a transaction may spend an earlier one in the same block, not a later one', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const t1 = transfer(c, bob, 100n);
      const t2 = transfer(coinOf(t1, 0, bob), carol, 100n);
      f.reject(f.gen.block(f.tip, { txs: [t2, t1] }), 'bad-txns-inputs-missingorspent');
      f.accept(f.gen.block(f.tip, { txs: [t1, t2], fees: 200n }));
      assert.equal(f.store.getCoin(txid(t1), 0), undefined);
      assert.equal(f.store.getCoin(txid(t2), 0)?.value, c.value - 200n);
    });

    it('b-oversize-tx: a transaction over maxTxBytes (exactly maxTxBytes passes)', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const outputs = Array.from({ length: Math.ceil(params.maxTxBytes / 34) + 1 }, () => pay(bob, 1n));
      const tx = spend([c], outputs);
      assert.ok(txSize(tx) > params.maxTxBytes);
      checkTxSanity(tx, { ...params, maxTxBytes: txSize(tx) });
      expectCode(() => checkTxSanity(tx, { ...params, maxTxBytes: txSize(tx) - 1 }), 'bad-txns-oversize');
      f.reject(f.gen.block(f.tip, { txs: [tx] }), 'bad-txns-oversize');
    });

    it('b-non-p2pkh: an output that is not pay-to-pubkey-hash, in a spend or in the coinbase', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const opReturn = { value: 0n, scriptPubKey: Uint8Array.of(0x6a, 0x01, 0x2a) };
      const p2sh = { value: c.value, scriptPubKey: concatBytes(Uint8Array.of(0xa9, 0x14), new Uint8Array(20), Uint8Array.of(0x87)) };
      const tx = spend([c], [p2sh]);
      expectCode(() => checkTxSanity(tx, params), 'bad-txns-vout-not-p2pkh');
      f.reject(f.gen.block(f.tip, { txs: [tx] }), 'bad-txns-vout-not-p2pkh');
      const cb = makeCoinbase(6, [pay(alice, blockSubsidy(6, params)), opReturn]);
      f.reject(f.gen.block(f.tip, { coinbase: cb }), 'bad-txns-vout-not-p2pkh');
    });

    it('b-vin-empty / b-vout-empty: a transaction without inputs or without outputs', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = transfer(c, bob);
      expectCode(() => checkTxSanity({ ...tx, inputs: [] }, params), 'bad-txns-vin-empty');
      expectCode(() => checkTxSanity({ ...tx, outputs: [] }, params), 'bad-txns-vout-empty');
      f.reject(f.gen.block(f.tip, { txs: [spend([c], [])] }), 'bad-txns-vout-empty');
    });

    it('b-prevout-null: a non-coinbase input naming the null outpoint', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const tx = spend([c, { ...c, txid: new Uint8Array(32), vout: 0xffffffff }], [pay(bob, 1n)]);
      expectCode(() => checkTxSanity(tx, params), 'bad-txns-prevout-null');
      f.reject(f.gen.block(f.tip, { txs: [tx] }), 'bad-txns-prevout-null');
    });

    it('b-nonfinal: a transaction locked to the block\'s own height is not final; one height earlier is', function () {
      const c = coinbaseCoin(f.blocks[1]!);
      const unsigned = (locktime: number): Tx => ({
        version: 1,
        inputs: [{ prevTxid: c.txid, vout: c.vout, scriptSig: new Uint8Array(0), sequence: 0 }],
        outputs: [pay(bob, c.value)],
        locktime,
      });
      const locked = signInputs(unsigned(6), [alice]);
      assert.equal(isFinalTx(locked, 6, 0), false);
      f.reject(f.gen.block(f.tip, { txs: [locked] }), 'bad-txns-nonfinal');
      f.accept(f.gen.block(f.tip, { txs: [signInputs(unsigned(5), [alice])] }));
    });
  });

  describe('coinbase', function () {
    it('b-cb-amount: a coinbase claiming one unit more than subsidy + fees', function () {
      const tx = transfer(coinbaseCoin(f.blocks[1]!), bob, 5000n);
      const err = f.reject(f.gen.block(f.tip, { txs: [tx], fees: 5001n }), 'bad-cb-amount');
      assert.match(err.detail, /actual=\d+ vs limit=\d+/);
      f.reject(f.gen.block(f.tip, { coinbaseValue: blockSubsidy(6, params) + 1n }), 'bad-cb-amount');
    });

    it('b-cb-exact: a coinbase claiming exactly subsidy + fees is accepted', function () {
      const t1 = transfer(coinbaseCoin(f.blocks[1]!), bob, 5000n);
      const t2 = transfer(coinbaseCoin(f.blocks[2]!), carol, 7n);
      const b = f.gen.block(f.tip, { txs: [t1, t2], fees: 5007n });
      assert.equal(b.txs[0]!.outputs[0]!.value, blockSubsidy(6, params) + 5007n);
      f.accept(b);
      assert.equal(f.store.getCoin(txid(b.txs[0]!), 0)?.value, blockSubsidy(6, params) + 5007n);
    });

    it('b-cb-missing / b-cb-multiple / no transactions', function () {
      const tx = transfer(coinbaseCoin(f.blocks[1]!), bob);
      const tipHash = f.chain.tip.hash;
      const time = f.chain.medianTimePast(f.chain.tip) + 1;
      const solve = (txs: Tx[]) => withHeader(assembleBlock(tipHash, txs, time, TEST_POW_LIMIT_BITS), {});
      f.reject(solve([tx]), 'bad-cb-missing');
      const cb = makeCoinbase(6, [pay(alice, blockSubsidy(6, params))]);
      const cb2 = makeCoinbase(6, [pay(bob, 1n)], new TextEncoder().encode('second'));
      f.reject(solve([cb, cb2]), 'bad-cb-multiple');
      f.reject(solve([cb, tx, cb2]), 'bad-cb-multiple');
      f.reject(withHeader({ header: { ...solve([cb]).header, merkleRoot: new Uint8Array(32) }, txs: [] }, {}), 'bad-blk-length');
      f.accept(solve([cb, tx]));
    });

    it('b-cb-height: a coinbase claiming the wrong BIP34 height; the block is then known invalid', function () {
      const b = f.gen.block(f.tip, { cbHeight: 7 });
      const err = f.reject(b, 'bad-cb-height');
      assert.equal(err.misbehaving, true);
      f.reject(b, 'duplicate-invalid');
      f.reject(f.gen.block(f.tip, { cbHeight: 5 }), 'bad-cb-height');
      f.accept(f.gen.block(f.tip, { cbHeight: 6 }));
    });

    it('b-cb-length: a coinbase scriptSig over 100 bytes', function () {
      const b = f.gen.block(f.tip, { tag: 'x'.repeat(98) });
      assert.equal(b.txs[0]!.inputs[0]!.scriptSig.length, 101);
      f.reject(b, 'bad-cb-length');
      const ok = f.gen.block(f.tip, { tag: 'x'.repeat(97) });
      assert.equal(ok.txs[0]!.inputs[0]!.scriptSig.length, 100);
      f.accept(ok);
    });

    it('b-premature: a coinbase spend at depth maturity-1 is refused, the same spend at depth maturity accepted', function () {
      const c = coinbaseCoin(f.blocks[4]!);
      const tx = transfer(c, bob);
      // Next block is height 6: depth 2 < 3.
      const err = f.reject(f.gen.block(f.tip, { txs: [tx] }), 'bad-txns-premature-spend-of-coinbase');
      assert.match(err.detail, /depth 2/);
      assert.equal(err.misbehaving, true, 'a block with a premature spend can only come from a broken or hostile peer');
      f.accept(f.gen.block(f.tip));
      // Height 7: depth 3.
      f.accept(f.gen.block(f.tip, { txs: [tx] }));
      assert.equal(f.store.getCoin(c.txid, 0), undefined);
      assert.ok(f.store.getCoin(txid(tx), 0));
    });
  });

  describe('block structure', function () {
    it('b-merkle: a bad Merkle root; the same header with the right transactions is still accepted', function () {
      const good = f.gen.block(f.tip, { txs: [transfer(coinbaseCoin(f.blocks[1]!), bob)] });
      // Same header (same hash), one transaction left out.
      const bad: Block = { header: good.header, txs: good.txs.slice(0, 1) };
      const err = f.reject(bad, 'bad-txnmrklroot');
      assert.equal(err.misbehaving, true);
      // A changed root field with the original transactions.
      f.reject(withHeader(good, { merkleRoot: new Uint8Array(32).fill(1) }), 'bad-txnmrklroot');
      // Not marked invalid by hash: the real block with that header is accepted.
      f.accept(good);
    });

    it('b-mutated (CVE-2012-2459): a duplicated last transaction keeps the root but is refused; the real block then connects', function () {
      const a = transfer(coinbaseCoin(f.blocks[1]!), bob);
      const b = transfer(coinbaseCoin(f.blocks[2]!), bob);
      const good = f.gen.block(f.tip, { txs: [a, b] });
      const txs = [...good.txs, b];
      assert.deepEqual(merkleRoot(txs.map(txid)), good.header.merkleRoot, 'the duplicate does not change the root');
      f.reject({ header: good.header, txs }, 'bad-txns-duplicate');
      f.accept(good);
    });

    it('b-duplicate-tx: the same transaction twice, not adjacent (root recomputed)', function () {
      const a = transfer(coinbaseCoin(f.blocks[1]!), bob);
      const b = transfer(coinbaseCoin(f.blocks[2]!), bob);
      const good = f.gen.block(f.tip, { txs: [a, b] });
      f.reject(withTxs(good, [...good.txs, a]), 'bad-txns-duplicate');
    });

    it('b-too-large: a block over maxBlockBytes (exactly maxBlockBytes passes the sanity check)', function () {
      const small = makeTestParams({ maxBlockBytes: 1000 });
      const g = new Fixture(small, 1);
      const outs = Array.from({ length: 30 }, (_, i) => pay(alice, BigInt(i + 1)));
      const big = g.gen.block(g.tip, { coinbase: makeCoinbase(2, outs) });
      const size = blockSize(big);
      assert.ok(size > 1000 && txSize(big.txs[0]!) <= small.maxTxBytes);
      checkBlockSanity(big, { ...small, maxBlockBytes: size });
      expectCode(() => checkBlockSanity(big, { ...small, maxBlockBytes: size - 1 }), 'bad-blk-length');
      g.reject(big, 'bad-blk-length');
      g.accept(g.gen.block(g.tip, { coinbase: makeCoinbase(2, outs.slice(0, 10)) }));
    });

    it('duplicate block: a block seen before is reported as a duplicate, not reconnected', function () {
      const b = f.gen.block(f.tip);
      f.accept(b);
      const before = stateOf(f.chain, f.store);
      assert.equal(f.chain.processBlock(b, NOW).status, 'duplicate');
      assert.deepEqual(stateOf(f.chain, f.store), before);
    });
  });

  describe('header: proof of work and time', function () {
    it('b-diffbits: nBits other than what the rules require (harder, with valid proof of work)', function () {
      const b = f.gen.block(f.tip, { bits: 0x201fffff });
      assert.ok(bitsToTarget(0x201fffff) < params.powLimit);
      f.reject(b, 'bad-diffbits');
      assert.equal(f.chain.getEntry(b.header.prevHash)?.children.length, 0, 'the header was added to the tree');
    });

    it('b-high-hash: a hash above the target, and nBits easier than powLimit', function () {
      const good = f.gen.block(f.tip);
      const err = f.reject(failPow(good), 'high-hash');
      assert.equal(err.misbehaving, true);
      f.reject(withHeader(good, { bits: 0x2100ffff }), 'high-hash');
      f.accept(good);
    });

    it('b-time-too-old: a time equal to median-time-past is refused, one second later accepted (even before the parent\'s time)', function () {
      const mtp = f.chain.medianTimePast(f.chain.tip);
      assert.ok(mtp + 1 < f.tip.header.time, 'test needs MTP+1 to be earlier than the parent');
      expectCode(() => checkHeaderContext({ ...f.tip.header, time: mtp }, { height: 5, requiredBits: f.tip.header.bits, medianTimePast: mtp }, NOW), 'time-too-old');
      f.reject(f.gen.block(f.tip, { time: mtp }), 'time-too-old');
      f.reject(f.gen.block(f.tip, { time: mtp - 1000 }), 'time-too-old');
      f.accept(f.gen.block(f.tip, { time: mtp + 1 }));
    });

    it('b-time-too-new: more than 2 hours past our clock is refused without blame, and accepted once our clock catches up', function () {
      const b = f.gen.block(f.tip, { time: NOW + 2 * 60 * 60 + 1 });
      const err = f.reject(b, 'time-too-new', NOW);
      assert.equal(err.misbehaving, false);
      // Not remembered as invalid: the same block a second later (exactly 2 hours ahead) is fine.
      f.accept(b, NOW + 1);
    });
  });

  describe('subsidy and retarget', function () {
    it('subsidy halves at halvingInterval: 50, then 25 (claiming 50 is bad-cb-amount), then 12.5', function () {
      const p = makeTestParams({ halvingInterval: 4 });
      const g = new Fixture(p, 3);
      const coin = 100_000_000n;
      assert.equal(blockSubsidy(3, p), 50n * coin);
      assert.equal(blockSubsidy(4, p), 25n * coin);
      assert.equal(blockSubsidy(8, p), 1_250_000_000n);
      assert.equal(blockSubsidy(64 * 4, p), 0n);
      assert.equal(g.blocks[3]!.txs[0]!.outputs[0]!.value, 50n * coin);
      g.reject(g.gen.block(g.tip, { coinbaseValue: 50n * coin }), 'bad-cb-amount');
      g.reject(g.gen.block(g.tip, { coinbaseValue: 25n * coin + 1n }), 'bad-cb-amount');
      g.accept(g.gen.block(g.tip, { coinbaseValue: 25n * coin }));
      for (let h = 5; h < 8; h++) g.accept(g.gen.block(g.tip));
      g.reject(g.gen.block(g.tip, { coinbaseValue: 25n * coin }), 'bad-cb-amount');
      g.accept(g.gen.block(g.tip, { coinbaseValue: 1_250_000_000n }));
    });

    it('retarget at retargetInterval: nBits as nextBits says over the period (first block to last), kept until the next period', function () {
      // Period of 4 blocks at 600 s: 2400 s expected; blocks 400 s apart take 1200 s -> target halves.
      const p = makeTestParams({ retargetInterval: 4, targetBlockSeconds: 600 });
      const g = new Fixture(p, 0);
      const t0 = p.genesis.header.time;
      for (let h = 1; h <= 3; h++) g.accept(g.gen.block(g.tip, { time: t0 + 400 * h }));
      assert.equal(g.chain.requiredBits(g.chain.atHeight(2)!), TEST_POW_LIMIT_BITS, 'no retarget inside a period');
      const expected = nextBits(TEST_POW_LIMIT_BITS, t0, t0 + 1200, { targetTimespan: 2400, powLimit: p.powLimit });
      assert.equal(expected, targetToBits(bitsToTarget(TEST_POW_LIMIT_BITS) / 2n));
      assert.notEqual(expected, TEST_POW_LIMIT_BITS);
      assert.equal(g.chain.requiredBits(g.chain.tip), expected);
      g.reject(g.gen.block(g.tip, { time: t0 + 1600, bits: TEST_POW_LIMIT_BITS }), 'bad-diffbits');
      g.accept(g.gen.block(g.tip, { time: t0 + 1600, bits: expected }));
      // Inside the new period the bits stay.
      g.reject(g.gen.block(g.tip, { bits: TEST_POW_LIMIT_BITS }), 'bad-diffbits');
      g.accept(g.gen.block(g.tip, { bits: expected }));
    });

    it('retarget clamps: a period far too fast makes the target only 4x smaller; a far too slow one stops at powLimit', function () {
      const p = makeTestParams({ retargetInterval: 4, targetBlockSeconds: 600 });
      // Blocks 1 s apart: 3 s instead of 2400 s, clamped to 600 s.
      const fast = new Fixture(p, 3);
      const quarter = targetToBits(bitsToTarget(TEST_POW_LIMIT_BITS) / 4n);
      assert.equal(fast.chain.requiredBits(fast.chain.tip), quarter);
      fast.reject(fast.gen.block(fast.tip, { bits: targetToBits(bitsToTarget(TEST_POW_LIMIT_BITS) / 5n) }), 'bad-diffbits');
      fast.accept(fast.gen.block(fast.tip, { bits: quarter }));
      // Blocks 240 000 s apart: 300x too slow, clamped to 4x easier, then capped at powLimit.
      const slow = new Fixture(p, 0);
      const t0 = p.genesis.header.time;
      for (let h = 1; h <= 3; h++) slow.accept(slow.gen.block(slow.tip, { time: t0 + 240_000 * h }));
      assert.ok(bitsToTarget(TEST_POW_LIMIT_BITS) * 4n > p.powLimit);
      assert.equal(slow.chain.requiredBits(slow.chain.tip), TEST_POW_LIMIT_BITS);
      slow.accept(slow.gen.block(slow.tip, { bits: TEST_POW_LIMIT_BITS }));
    });
  });
});
