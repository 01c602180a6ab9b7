// Named test blocks for every consensus rule, as btcd's fullblocktests: each case generates, up
// front and without any chain under test, a list of `{ name, block, expect }` (accepted, a
// duplicate, or rejected with Bitcoin Core's reason string); the blocks are built valid on a test
// network, then broken in exactly one way. Each list then runs against a fresh chain on BOTH
// stores, the core's MemoryChainStore and the node's LMDB store, so the atomic commit path is under
// every consensus test; after a rejection the chain (tip, height, UTXO set read back from the
// store) must be exactly as it was. Consensus constants are written out here, not imported from
// the code under test.
import assert from 'node:assert/strict';
import {
  type Block,
  type ConsensusParams,
  type Tx,
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
  headerHash,
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
  hashOf,
  makeTestParams,
  pay,
  signInputs,
  spend,
  transfer,
  withHeader,
  withScriptSig,
  withTxs,
  expectCode,
} from './kit/blockgen.js';
import { type ChainUnderTest as ChainUnderTestT, ChainUnderTest, STORE_KINDS } from './kit/chain-harness.js';

// ------------------------------------------------------------------ constants, written out

/** Base units per coin (Core's COIN, amount.h). */
const COIN = 100_000_000n;
/** Core's MAX_MONEY (amount.h): 21 million coins. */
const MAX_MONEY = 21_000_000n * COIN;
/** The order of secp256k1's group (SEC 2, section 2.4.1). */
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** The test network's block subsidy before any halving (config.json's devnet: 50 coins). */
const SUBSIDY = 50n * COIN;
/** Core's MAX_FUTURE_BLOCK_TIME (chain.h): two hours, in seconds. */
const MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60;

// ------------------------------------------------------------------ the data

/** What the chain must do with a block (btcd's AcceptedBlock / RejectedBlock / duplicate). */
type Expect = 'accepted' | 'duplicate' | { readonly rejected: string; readonly misbehaving?: boolean; readonly detail?: RegExp };

interface BlockTest {
  readonly name: string;
  readonly block: Block;
  readonly expect: Expect;
  /** The validating node's clock (default NOW). */
  readonly now?: number;
  /** Further facts about the chain under test after this block. */
  readonly after?: (t: ChainUnderTestT) => void;
}

/**
 * Builds one case's block list. The generator keeps its own header tree, so it knows every
 * block's height, nBits and median time past without a chain under test.
 */
class CaseGen {
  readonly gen: BlockGen;
  /** The expected active chain: blocks[h] at height h. */
  readonly blocks: Block[];
  readonly tests: BlockTest[] = [];

  constructor(
    readonly params: ConsensusParams,
    height: number,
  ) {
    this.gen = new BlockGen(params);
    this.blocks = [params.genesis];
    for (let i = 1; i <= height; i++) this.accept(`prefix ${i}`, this.gen.block(this.tip));
  }

  get tip(): Block {
    return this.blocks[this.blocks.length - 1]!;
  }

  /** Median time past of the expected tip, as the header tree computes it. */
  mtp(): number {
    return this.gen.tree.medianTimePast(this.gen.tree.getEntry(headerHash(this.tip.header))!);
  }

  /** The block must be accepted and become the tip. */
  accept(name: string, block: Block, o: { now?: number; after?: BlockTest['after'] } = {}): Block {
    this.tests.push({ name, block, expect: 'accepted', ...o });
    this.blocks.push(block);
    return block;
  }

  /** The block must be refused with code, leaving the chain as it was. */
  reject(
    name: string,
    block: Block,
    code: string,
    o: { misbehaving?: boolean; detail?: RegExp; now?: number; after?: BlockTest['after'] } = {},
  ): void {
    const { now, after, ...why } = o;
    this.tests.push({ name, block, expect: { rejected: code, ...why }, now, after });
  }

  duplicate(name: string, block: Block): void {
    this.tests.push({ name, block, expect: 'duplicate' });
  }

  /** Adds a check of the chain under test after the last block so far. */
  then(after: (t: ChainUnderTestT) => void): void {
    const last = this.tests.pop()!;
    const before = last.after;
    this.tests.push({ ...last, after: (t) => (before?.(t), after(t)) });
  }
}

interface ConsensusCase {
  readonly name: string;
  readonly group: string;
  /** Default: the test network (maturity 3, trivial proof of work). */
  readonly params?: () => ConsensusParams;
  /** Blocks on genesis before the case's own; default 5 (coinbases of heights 1..3 are then mature at height 6). */
  readonly height?: number;
  /** Generates the blocks (and asserts the context-free facts they rest on). */
  readonly build: (g: CaseGen) => void;
}

/** The scriptSig's two pushes: signature with hash type, public key. */
function sigAndKey(tx: Tx, k = 0): [Uint8Array, Uint8Array] {
  const items = parsePushes(tx.inputs[k]!.scriptSig);
  assert.equal(items.length, 2);
  return [items[0]!, items[1]!];
}

const params = makeTestParams();

const CASES: readonly ConsensusCase[] = [
  {
    group: 'test network',
    name: 'test network sanity: maturity 3, trivial proof of work, height 5 reached',
    build(g) {
      assert.equal(g.params.coinbaseMaturity, 3);
      assert.equal(g.params.powLimitBits, 0x207fffff);
      g.then((t) => {
        assert.equal(t.chain.height, 5);
        // Coinbases of heights 1..5 are unspent (the genesis coinbase never enters the UTXO set).
        assert.equal(t.coins().size, 5);
        assert.equal(t.getCoin(txid(g.params.genesis.txs[0]!), 0), undefined);
      });
    },
  },

  // ---------------------------------------------------------------- transactions and scripts
  {
    group: 'transactions and scripts',
    name: 'b-spend: a valid P2PKH spend with its fee claimed is accepted and updates the UTXO set',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = transfer(c, bob, 1000n);
      g.accept('b-spend', g.gen.block(g.tip, { txs: [tx], fees: 1000n }), {
        after(t) {
          assert.equal(t.getCoin(c.txid, c.vout), undefined, 'spent coin still unspent');
          const created = t.getCoin(txid(tx), 0);
          assert.deepEqual(created && { ...created, scriptPubKey: Uint8Array.from(created.scriptPubKey) }, {
            value: c.value - 1000n,
            scriptPubKey: p2pkhScript(bob.pkh),
            height: 6,
            coinbase: false,
          });
          // The new coinbase plus the new output, less the spent coinbase.
          assert.equal(t.coins().size, 6 + 1 - 1);
        },
      });
    },
  },
  {
    group: 'transactions and scripts',
    name: "b-wrong-key: a key whose HASH160 is not the output's fails OP_EQUALVERIFY",
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = spend([{ ...c, key: bob }], [pay(bob, c.value)]);
      g.reject('b-wrong-key', g.gen.block(g.tip, { txs: [tx] }), 'mandatory-script-verify-flag-failed', {
        detail: /OP_EQUALVERIFY/,
        misbehaving: true,
      });
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-bad-sig: a signature over other data evaluates to false',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const signed = transfer(c, bob);
      // Change what was signed: the output now pays 1 less, the signature no longer matches.
      const tx: Tx = { ...signed, outputs: [pay(bob, c.value - 1n)] };
      g.reject('b-bad-sig', g.gen.block(g.tip, { txs: [tx] }), 'mandatory-script-verify-flag-failed', {
        detail: /false\/empty top stack element/,
      });
      // The untouched transaction is fine.
      g.accept('b-good-sig', g.gen.block(g.tip, { txs: [signed] }));
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-non-der: a signature with a needlessly padded R is not strict DER (BIP66)',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = transfer(c, bob);
      const [sig, pub] = sigAndKey(tx);
      const der = sig.subarray(0, sig.length - 1);
      const lenR = der[3]!;
      // 0x30 len 0x02 lenR R ... -> R with an extra leading zero byte (the number is unchanged).
      const padded = concatBytes(Uint8Array.of(0x30, der[1]! + 1, 0x02, lenR + 1, 0x00), der.subarray(4));
      assert.equal(isStrictDer(der), true);
      assert.equal(isStrictDer(padded), false);
      const bad = withScriptSig(tx, 0, p2pkhScriptSig(concatBytes(padded, sig.subarray(sig.length - 1)), pub));
      g.reject('b-non-der', g.gen.block(g.tip, { txs: [bad] }), 'mandatory-script-verify-flag-failed', {
        detail: /Non-canonical DER signature/,
      });
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-high-s: the high-S twin of a valid signature is refused (LOW_S)',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = transfer(c, bob);
      const [sig, pub] = sigAndKey(tx);
      const { r, s } = parseDer(sig.subarray(0, sig.length - 1));
      const highS = concatBytes(encodeDer(r, CURVE_N - s), sig.subarray(sig.length - 1));
      const bad = withScriptSig(tx, 0, p2pkhScriptSig(highS, pub));
      // The only flaw is S: without the low-S rule the signature verifies.
      assert.equal(p2pkhInputError(bad, 0, p2pkhScript(alice.pkh), { allowHighS: true }), undefined);
      g.reject('b-high-s', g.gen.block(g.tip, { txs: [bad] }), 'mandatory-script-verify-flag-failed', {
        detail: /S value is unnecessarily high/,
      });
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-non-push-scriptsig: a scriptSig with an opcode is refused',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = transfer(c, bob);
      const bad = withScriptSig(tx, 0, concatBytes(tx.inputs[0]!.scriptSig, Uint8Array.of(0x76)));
      g.reject('b-non-push-scriptsig', g.gen.block(g.tip, { txs: [bad] }), 'mandatory-script-verify-flag-failed', {
        detail: /Only push operators/,
      });
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-vout-negative: a negative output amount',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = spend([c], [pay(bob, -1n), pay(bob, c.value)]);
      expectCode(() => checkTxSanity(tx, g.params), 'bad-txns-vout-negative');
      g.reject('b-vout-negative', g.gen.block(g.tip, { txs: [tx] }), 'bad-txns-vout-negative');
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-vout-toolarge: an output over MAX_MONEY (MAX_MONEY itself passes the sanity check)',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      checkTxSanity(spend([c], [pay(bob, MAX_MONEY)]), g.params);
      const tx = spend([c], [pay(bob, MAX_MONEY + 1n)]);
      expectCode(() => checkTxSanity(tx, g.params), 'bad-txns-vout-toolarge');
      g.reject('b-vout-toolarge', g.gen.block(g.tip, { txs: [tx] }), 'bad-txns-vout-toolarge');
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-txouttotal-toolarge: outputs each in range but summing over MAX_MONEY',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = spend([c], [pay(bob, MAX_MONEY), pay(bob, 1n)]);
      expectCode(() => checkTxSanity(tx, g.params), 'bad-txns-txouttotal-toolarge');
      g.reject('b-txouttotal-toolarge', g.gen.block(g.tip, { txs: [tx] }), 'bad-txns-txouttotal-toolarge');
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-in-belowout: spending more than the inputs hold (exactly the inputs is fine)',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      g.reject('b-in-belowout', g.gen.block(g.tip, { txs: [spend([c], [pay(bob, c.value + 1n)])] }), 'bad-txns-in-belowout');
      g.accept('b-in-equalout', g.gen.block(g.tip, { txs: [spend([c], [pay(bob, c.value)])] }));
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-inputs-duplicate: one transaction spending the same outpoint twice (CVE-2018-17144)',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = spend([c, c], [pay(bob, c.value * 2n)]);
      expectCode(() => checkTxSanity(tx, g.params), 'bad-txns-inputs-duplicate');
      g.reject('b-inputs-duplicate', g.gen.block(g.tip, { txs: [tx] }), 'bad-txns-inputs-duplicate');
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-double-spend: two transactions in one block spending the same output',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      // A block with a double spend can only come from a broken or hostile peer.
      g.reject('b-double-spend', g.gen.block(g.tip, { txs: [transfer(c, bob), transfer(c, carol)] }), 'bad-txns-inputs-missingorspent', {
        misbehaving: true,
      });
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-missing-input: spending an output that never existed',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      // An unknown txid, and an existing transaction's output index that is out of range.
      g.reject(
        'b-missing-txid',
        g.gen.block(g.tip, { txs: [spend([{ ...c, txid: new Uint8Array(32).fill(7) }], [pay(bob, 1n)])] }),
        'bad-txns-inputs-missingorspent',
      );
      g.reject(
        'b-missing-vout',
        g.gen.block(g.tip, { txs: [spend([{ ...c, vout: 1 }], [pay(bob, 1n)])] }),
        'bad-txns-inputs-missingorspent',
      );
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-spent-earlier: spending an output a previous block already spent',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      g.accept('b-spend-once', g.gen.block(g.tip, { txs: [transfer(c, bob)] }));
      g.reject('b-spent-earlier', g.gen.block(g.tip, { txs: [transfer(c, carol)] }), 'bad-txns-inputs-missingorspent');
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-chain-in-block: a transaction may spend an earlier one in the same block, not a later one',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const t1 = transfer(c, bob, 100n);
      const t2 = transfer(coinOf(t1, 0, bob), carol, 100n);
      g.reject('b-child-first', g.gen.block(g.tip, { txs: [t2, t1] }), 'bad-txns-inputs-missingorspent');
      g.accept('b-parent-first', g.gen.block(g.tip, { txs: [t1, t2], fees: 200n }), {
        after(t) {
          assert.equal(t.getCoin(txid(t1), 0), undefined);
          assert.equal(t.getCoin(txid(t2), 0)?.value, c.value - 200n);
        },
      });
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-oversize-tx: a transaction over maxTxBytes (exactly maxTxBytes passes)',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const outputs = Array.from({ length: Math.ceil(g.params.maxTxBytes / 34) + 1 }, () => pay(bob, 1n));
      const tx = spend([c], outputs);
      assert.ok(txSize(tx) > g.params.maxTxBytes);
      checkTxSanity(tx, { ...g.params, maxTxBytes: txSize(tx) });
      expectCode(() => checkTxSanity(tx, { ...g.params, maxTxBytes: txSize(tx) - 1 }), 'bad-txns-oversize');
      g.reject('b-oversize-tx', g.gen.block(g.tip, { txs: [tx] }), 'bad-txns-oversize');
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-non-p2pkh: an output that is not pay-to-pubkey-hash, in a spend or in the coinbase',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const opReturn = { value: 0n, scriptPubKey: Uint8Array.of(0x6a, 0x01, 0x2a) };
      const p2sh = { value: c.value, scriptPubKey: concatBytes(Uint8Array.of(0xa9, 0x14), new Uint8Array(20), Uint8Array.of(0x87)) };
      const tx = spend([c], [p2sh]);
      expectCode(() => checkTxSanity(tx, g.params), 'bad-txns-vout-not-p2pkh');
      g.reject('b-p2sh-output', g.gen.block(g.tip, { txs: [tx] }), 'bad-txns-vout-not-p2pkh');
      const cb = makeCoinbase(6, [pay(alice, SUBSIDY), opReturn]);
      g.reject('b-op-return-coinbase', g.gen.block(g.tip, { coinbase: cb }), 'bad-txns-vout-not-p2pkh');
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-vin-empty / b-vout-empty: a transaction without inputs or without outputs',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = transfer(c, bob);
      expectCode(() => checkTxSanity({ ...tx, inputs: [] }, g.params), 'bad-txns-vin-empty');
      expectCode(() => checkTxSanity({ ...tx, outputs: [] }, g.params), 'bad-txns-vout-empty');
      g.reject('b-vout-empty', g.gen.block(g.tip, { txs: [spend([c], [])] }), 'bad-txns-vout-empty');
    },
  },
  {
    group: 'transactions and scripts',
    name: 'b-prevout-null: a non-coinbase input naming the null outpoint',
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const tx = spend([c, { ...c, txid: new Uint8Array(32), vout: 0xffffffff }], [pay(bob, 1n)]);
      expectCode(() => checkTxSanity(tx, g.params), 'bad-txns-prevout-null');
      g.reject('b-prevout-null', g.gen.block(g.tip, { txs: [tx] }), 'bad-txns-prevout-null');
    },
  },
  {
    group: 'transactions and scripts',
    name: "b-nonfinal: a transaction locked to the block's own height is not final; one height earlier is",
    build(g) {
      const c = coinbaseCoin(g.blocks[1]!);
      const unsigned = (locktime: number): Tx => ({
        version: 1,
        inputs: [{ prevTxid: c.txid, vout: c.vout, scriptSig: new Uint8Array(0), sequence: 0 }],
        outputs: [pay(bob, c.value)],
        locktime,
      });
      const locked = signInputs(unsigned(6), [alice]);
      assert.equal(isFinalTx(locked, 6, 0), false);
      g.reject('b-nonfinal', g.gen.block(g.tip, { txs: [locked] }), 'bad-txns-nonfinal');
      g.accept('b-final', g.gen.block(g.tip, { txs: [signInputs(unsigned(5), [alice])] }));
    },
  },

  // ---------------------------------------------------------------- coinbase
  {
    group: 'coinbase',
    name: 'b-cb-amount: a coinbase claiming one unit more than subsidy + fees',
    build(g) {
      const tx = transfer(coinbaseCoin(g.blocks[1]!), bob, 5000n);
      g.reject('b-cb-amount-fees', g.gen.block(g.tip, { txs: [tx], fees: 5001n }), 'bad-cb-amount', { detail: /actual=\d+ vs limit=\d+/ });
      g.reject('b-cb-amount-subsidy', g.gen.block(g.tip, { coinbaseValue: SUBSIDY + 1n }), 'bad-cb-amount');
    },
  },
  {
    group: 'coinbase',
    name: 'b-cb-exact: a coinbase claiming exactly subsidy + fees is accepted',
    build(g) {
      const t1 = transfer(coinbaseCoin(g.blocks[1]!), bob, 5000n);
      const t2 = transfer(coinbaseCoin(g.blocks[2]!), carol, 7n);
      const b = g.gen.block(g.tip, { txs: [t1, t2], fees: 5007n });
      assert.equal(b.txs[0]!.outputs[0]!.value, SUBSIDY + 5007n);
      g.accept('b-cb-exact', b, { after: (t) => assert.equal(t.getCoin(txid(b.txs[0]!), 0)?.value, SUBSIDY + 5007n) });
    },
  },
  {
    group: 'coinbase',
    name: 'b-cb-missing / b-cb-multiple / no transactions',
    build(g) {
      const tx = transfer(coinbaseCoin(g.blocks[1]!), bob);
      const tipHash = headerHash(g.tip.header);
      const time = g.mtp() + 1;
      const solve = (txs: Tx[]) => withHeader(assembleBlock(tipHash, txs, time, TEST_POW_LIMIT_BITS), {});
      g.reject('b-cb-missing', solve([tx]), 'bad-cb-missing');
      const cb = makeCoinbase(6, [pay(alice, SUBSIDY)]);
      const cb2 = makeCoinbase(6, [pay(bob, 1n)], new TextEncoder().encode('second'));
      g.reject('b-cb-multiple', solve([cb, cb2]), 'bad-cb-multiple');
      g.reject('b-cb-multiple-later', solve([cb, tx, cb2]), 'bad-cb-multiple');
      g.reject(
        'b-no-txs',
        withHeader({ header: { ...solve([cb]).header, merkleRoot: new Uint8Array(32) }, txs: [] }, {}),
        'bad-blk-length',
      );
      g.accept('b-cb-first', solve([cb, tx]));
    },
  },
  {
    group: 'coinbase',
    name: 'b-cb-height: a coinbase claiming the wrong BIP34 height; the block is then known invalid',
    build(g) {
      const b = g.gen.block(g.tip, { cbHeight: 7 });
      g.reject('b-cb-height', b, 'bad-cb-height', { misbehaving: true });
      g.reject('b-cb-height again', b, 'duplicate-invalid');
      g.reject('b-cb-height-low', g.gen.block(g.tip, { cbHeight: 5 }), 'bad-cb-height');
      g.accept('b-cb-height-right', g.gen.block(g.tip, { cbHeight: 6 }));
    },
  },
  {
    group: 'coinbase',
    name: 'b-cb-length: a coinbase scriptSig over 100 bytes',
    build(g) {
      const b = g.gen.block(g.tip, { tag: 'x'.repeat(98) });
      assert.equal(b.txs[0]!.inputs[0]!.scriptSig.length, 101);
      g.reject('b-cb-length', b, 'bad-cb-length');
      const ok = g.gen.block(g.tip, { tag: 'x'.repeat(97) });
      assert.equal(ok.txs[0]!.inputs[0]!.scriptSig.length, 100);
      g.accept('b-cb-length-100', ok);
    },
  },
  {
    group: 'coinbase',
    name: 'b-premature: a coinbase spend at depth maturity-1 is refused, the same spend at depth maturity accepted',
    build(g) {
      const c = coinbaseCoin(g.blocks[4]!);
      const tx = transfer(c, bob);
      // Next block is height 6: depth 2 < 3. Only a broken or hostile peer sends such a block.
      g.reject('b-premature', g.gen.block(g.tip, { txs: [tx] }), 'bad-txns-premature-spend-of-coinbase', {
        detail: /depth 2/,
        misbehaving: true,
      });
      g.accept('b-empty-6', g.gen.block(g.tip));
      // Height 7: depth 3.
      g.accept('b-mature', g.gen.block(g.tip, { txs: [tx] }), {
        after(t) {
          assert.equal(t.getCoin(c.txid, 0), undefined);
          assert.ok(t.getCoin(txid(tx), 0));
        },
      });
    },
  },

  // ---------------------------------------------------------------- block structure
  {
    group: 'block structure',
    name: 'b-merkle: a bad Merkle root; the same header with the right transactions is still accepted',
    build(g) {
      const good = g.gen.block(g.tip, { txs: [transfer(coinbaseCoin(g.blocks[1]!), bob)] });
      // Same header (same hash), one transaction left out.
      g.reject('b-merkle-missing-tx', { header: good.header, txs: good.txs.slice(0, 1) }, 'bad-txnmrklroot', { misbehaving: true });
      // A changed root field with the original transactions.
      g.reject('b-merkle-field', withHeader(good, { merkleRoot: new Uint8Array(32).fill(1) }), 'bad-txnmrklroot');
      // Not marked invalid by hash: the real block with that header is accepted.
      g.accept('b-merkle-good', good);
    },
  },
  {
    group: 'block structure',
    name: 'b-mutated (CVE-2012-2459): a duplicated last transaction keeps the root but is refused; the real block then connects',
    build(g) {
      const a = transfer(coinbaseCoin(g.blocks[1]!), bob);
      const b = transfer(coinbaseCoin(g.blocks[2]!), bob);
      const good = g.gen.block(g.tip, { txs: [a, b] });
      const txs = [...good.txs, b];
      assert.deepEqual(merkleRoot(txs.map(txid)), good.header.merkleRoot, 'the duplicate does not change the root');
      g.reject('b-mutated', { header: good.header, txs }, 'bad-txns-duplicate');
      g.accept('b-unmutated', good);
    },
  },
  {
    group: 'block structure',
    name: 'b-duplicate-tx: the same transaction twice, not adjacent (root recomputed)',
    build(g) {
      const a = transfer(coinbaseCoin(g.blocks[1]!), bob);
      const b = transfer(coinbaseCoin(g.blocks[2]!), bob);
      const good = g.gen.block(g.tip, { txs: [a, b] });
      g.reject('b-duplicate-tx', withTxs(good, [...good.txs, a]), 'bad-txns-duplicate');
    },
  },
  {
    group: 'block structure',
    name: 'b-too-large: a block over maxBlockBytes (exactly maxBlockBytes passes the sanity check)',
    params: () => makeTestParams({ maxBlockBytes: 1000 }),
    height: 1,
    build(g) {
      const outs = Array.from({ length: 30 }, (_, i) => pay(alice, BigInt(i + 1)));
      const big = g.gen.block(g.tip, { coinbase: makeCoinbase(2, outs) });
      const size = blockSize(big);
      assert.ok(size > 1000 && txSize(big.txs[0]!) <= g.params.maxTxBytes);
      checkBlockSanity(big, { ...g.params, maxBlockBytes: size });
      expectCode(() => checkBlockSanity(big, { ...g.params, maxBlockBytes: size - 1 }), 'bad-blk-length');
      g.reject('b-too-large', big, 'bad-blk-length');
      g.accept('b-small-enough', g.gen.block(g.tip, { coinbase: makeCoinbase(2, outs.slice(0, 10)) }));
    },
  },
  {
    group: 'block structure',
    name: 'duplicate block: a block seen before is reported as a duplicate, not reconnected',
    build(g) {
      const b = g.accept('b-once', g.gen.block(g.tip));
      g.duplicate('b-once again', b);
    },
  },

  // ---------------------------------------------------------------- header: proof of work and time
  {
    group: 'header: proof of work and time',
    name: 'b-diffbits: nBits other than what the rules require (harder, with valid proof of work)',
    build(g) {
      const b = g.gen.block(g.tip, { bits: 0x201fffff });
      assert.ok(bitsToTarget(0x201fffff) < g.params.powLimit);
      g.reject('b-diffbits', b, 'bad-diffbits', {
        after: (t) => assert.equal(t.chain.getEntry(b.header.prevHash)?.children.length, 0, 'the header was added to the tree'),
      });
    },
  },
  {
    group: 'header: proof of work and time',
    name: 'b-high-hash: a hash above the target, and nBits easier than powLimit',
    build(g) {
      const good = g.gen.block(g.tip);
      g.reject('b-high-hash', failPow(good), 'high-hash', { misbehaving: true });
      g.reject('b-easier-than-limit', withHeader(good, { bits: 0x2100ffff }), 'high-hash');
      g.accept('b-pow-good', good);
    },
  },
  {
    group: 'header: proof of work and time',
    name: "b-time-too-old: a time equal to median-time-past is refused, one second later accepted (even before the parent's time)",
    build(g) {
      const mtp = g.mtp();
      assert.ok(mtp + 1 < g.tip.header.time, 'test needs MTP+1 to be earlier than the parent');
      expectCode(
        () => checkHeaderContext({ ...g.tip.header, time: mtp }, { height: 5, requiredBits: g.tip.header.bits, medianTimePast: mtp }, NOW),
        'time-too-old',
      );
      g.then((t) => assert.equal(t.chain.medianTimePast(t.chain.tip), mtp, 'the chain under test agrees on median time past'));
      g.reject('b-time-mtp', g.gen.block(g.tip, { time: mtp }), 'time-too-old');
      g.reject('b-time-before-mtp', g.gen.block(g.tip, { time: mtp - 1000 }), 'time-too-old');
      g.accept('b-time-mtp-plus-1', g.gen.block(g.tip, { time: mtp + 1 }));
    },
  },
  {
    group: 'header: proof of work and time',
    name: 'b-time-too-new: more than 2 hours past our clock is refused without blame, and accepted once our clock catches up',
    build(g) {
      const b = g.gen.block(g.tip, { time: NOW + MAX_FUTURE_BLOCK_TIME + 1 });
      g.reject('b-time-too-new', b, 'time-too-new', { misbehaving: false, now: NOW });
      // Not remembered as invalid: the same block a second later (exactly 2 hours ahead) is fine.
      g.accept('b-time-2h-ahead', b, { now: NOW + 1 });
    },
  },

  // ---------------------------------------------------------------- subsidy and retarget
  {
    group: 'subsidy and retarget',
    name: 'subsidy halves at halvingInterval: 50, then 25 (claiming 50 is bad-cb-amount), then 12.5',
    params: () => makeTestParams({ halvingInterval: 4 }),
    height: 3,
    build(g) {
      const p = g.params;
      assert.equal(blockSubsidy(3, p), 50n * COIN);
      assert.equal(blockSubsidy(4, p), 25n * COIN);
      assert.equal(blockSubsidy(8, p), 1_250_000_000n);
      assert.equal(blockSubsidy(64 * 4, p), 0n);
      assert.equal(g.blocks[3]!.txs[0]!.outputs[0]!.value, 50n * COIN);
      g.reject('b-50-at-4', g.gen.block(g.tip, { coinbaseValue: 50n * COIN }), 'bad-cb-amount');
      g.reject('b-25+1-at-4', g.gen.block(g.tip, { coinbaseValue: 25n * COIN + 1n }), 'bad-cb-amount');
      g.accept('b-25-at-4', g.gen.block(g.tip, { coinbaseValue: 25n * COIN }));
      for (let h = 5; h < 8; h++) g.accept(`b-${h}`, g.gen.block(g.tip));
      g.reject('b-25-at-8', g.gen.block(g.tip, { coinbaseValue: 25n * COIN }), 'bad-cb-amount');
      g.accept('b-12.5-at-8', g.gen.block(g.tip, { coinbaseValue: 1_250_000_000n }));
    },
  },
  {
    group: 'subsidy and retarget',
    name: 'retarget at retargetInterval: nBits as nextBits says over the period (first block to last), kept until the next period',
    // Period of 4 blocks at 600 s: 2400 s expected; blocks 400 s apart take 1200 s -> target halves.
    params: () => makeTestParams({ retargetInterval: 4, targetBlockSeconds: 600 }),
    height: 0,
    build(g) {
      const t0 = g.params.genesis.header.time;
      for (let h = 1; h <= 3; h++) g.accept(`b-${h}`, g.gen.block(g.tip, { time: t0 + 400 * h }));
      const expected = nextBits(TEST_POW_LIMIT_BITS, t0, t0 + 1200, { targetTimespan: 2400, powLimit: g.params.powLimit });
      assert.equal(expected, targetToBits(bitsToTarget(TEST_POW_LIMIT_BITS) / 2n));
      assert.notEqual(expected, TEST_POW_LIMIT_BITS);
      g.then((t) => {
        assert.equal(t.chain.requiredBits(t.chain.atHeight(2)!), TEST_POW_LIMIT_BITS, 'no retarget inside a period');
        assert.equal(t.chain.requiredBits(t.chain.tip), expected);
      });
      g.reject('b-4-old-bits', g.gen.block(g.tip, { time: t0 + 1600, bits: TEST_POW_LIMIT_BITS }), 'bad-diffbits');
      g.accept('b-4-new-bits', g.gen.block(g.tip, { time: t0 + 1600, bits: expected }));
      // Inside the new period the bits stay.
      g.reject('b-5-old-bits', g.gen.block(g.tip, { bits: TEST_POW_LIMIT_BITS }), 'bad-diffbits');
      g.accept('b-5-new-bits', g.gen.block(g.tip, { bits: expected }));
    },
  },
  {
    group: 'subsidy and retarget',
    name: 'retarget clamps: a period far too fast makes the target only 4x smaller',
    params: () => makeTestParams({ retargetInterval: 4, targetBlockSeconds: 600 }),
    // Blocks 1 s apart: 3 s instead of 2400 s, clamped to 600 s.
    height: 3,
    build(g) {
      const quarter = targetToBits(bitsToTarget(TEST_POW_LIMIT_BITS) / 4n);
      g.then((t) => assert.equal(t.chain.requiredBits(t.chain.tip), quarter));
      g.reject('b-fifth', g.gen.block(g.tip, { bits: targetToBits(bitsToTarget(TEST_POW_LIMIT_BITS) / 5n) }), 'bad-diffbits');
      g.accept('b-quarter', g.gen.block(g.tip, { bits: quarter }));
    },
  },
  {
    group: 'subsidy and retarget',
    name: 'retarget clamps: a far too slow period stops at powLimit',
    params: () => makeTestParams({ retargetInterval: 4, targetBlockSeconds: 600 }),
    height: 0,
    build(g) {
      // Blocks 240 000 s apart: 300x too slow, clamped to 4x easier, then capped at powLimit.
      const t0 = g.params.genesis.header.time;
      for (let h = 1; h <= 3; h++) g.accept(`b-${h}`, g.gen.block(g.tip, { time: t0 + 240_000 * h }));
      assert.ok(bitsToTarget(TEST_POW_LIMIT_BITS) * 4n > g.params.powLimit);
      g.then((t) => assert.equal(t.chain.requiredBits(t.chain.tip), TEST_POW_LIMIT_BITS));
      g.accept('b-at-limit', g.gen.block(g.tip, { bits: TEST_POW_LIMIT_BITS }));
    },
  },
];

// ------------------------------------------------------------------ the runner

/** Runs one block test against a chain under test. */
function runBlockTest(t: ChainUnderTestT, x: BlockTest): void {
  const now = x.now ?? NOW;
  const where = `${x.name} [${t.kind}]`;
  if (x.expect === 'accepted') {
    const r = t.process(x.block, now);
    assert.equal(r.status, 'accepted', where);
    assert.equal(t.chain.tip.hashHex, hashOf(x.block), `${where}: block did not become the tip`);
  } else if (x.expect === 'duplicate') {
    const before = t.state();
    assert.equal(t.process(x.block, now).status, 'duplicate', where);
    assert.deepEqual(t.state(), before, where);
  } else {
    const before = t.state();
    const err: ValidationError = expectCode(() => t.process(x.block, now), x.expect.rejected);
    assert.deepEqual(t.state(), before, `${where}: a rejected block changed the chain state`);
    if (x.expect.misbehaving !== undefined) assert.equal(err.misbehaving, x.expect.misbehaving, where);
    if (x.expect.detail) assert.match(err.detail, x.expect.detail, where);
  }
  x.after?.(t);
}

describe('consensus rules (fullblocktests-style named blocks, on both stores)', function () {
  const groups = [...new Set(CASES.map((c) => c.group))];
  for (const group of groups) {
    describe(group, function () {
      for (const c of CASES.filter((x) => x.group === group)) {
        let generated: { params: ConsensusParams; tests: readonly BlockTest[] } | undefined;
        const generate = () => {
          if (!generated) {
            const p = c.params?.() ?? params;
            const g = new CaseGen(p, c.height ?? 5);
            c.build(g);
            generated = { params: p, tests: g.tests };
          }
          return generated;
        };
        for (const kind of STORE_KINDS) {
          it(`${c.name} [${kind}]`, function () {
            const { params: p, tests } = generate();
            const t = new ChainUnderTest(p, kind);
            try {
              for (const x of tests) runBlockTest(t, x);
            } finally {
              t.close();
            }
          });
        }
      }
    });
  }

  it('every case has its own name', function () {
    const names = CASES.map((c) => c.name);
    assert.equal(new Set(names).size, names.length);
  });
});
