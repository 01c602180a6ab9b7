// A small generator of test chains, in the spirit of btcd's fullblocktests: deterministic keys, a
// test network with trivial proof of work, and blocks built on any block built before, valid by
// default and easy to tamper with. The generator keeps its own header tree (a Chain that only ever
// sees headers) to know each block's height, required nBits and median time past, so branches can
// be built before (or without) showing them to the chain under test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  type Block,
  type Coin,
  type ConsensusParams,
  type Header,
  type NetworkConfig,
  type Tx,
  type TxOutput,
  Chain,
  MemoryChainStore,
  SIGHASH_ALL,
  ValidationError,
  assembleBlock,
  bitsToTarget,
  blockSubsidy,
  concatBytes,
  encodeBlock,
  hash160,
  hashToNumber,
  headerHash,
  legacySighash,
  makeCoinbase,
  makeParams,
  merkleRoot,
  p2pkhOutput,
  p2pkhScript,
  p2pkhScriptSig,
  publicKeyOf,
  signDer,
  signP2pkhTx,
  solveHeader,
  toHex,
  txid,
} from '../../src/shared/core/index.js';
import { EASY_BITS, testGenesisHex } from './genesis.js';

// ------------------------------------------------------------------ keys

export interface Key {
  readonly secretKey: Uint8Array;
  readonly pubkey: Uint8Array;
  readonly pkh: Uint8Array;
}

/** Key number n: the secret key is the 32-byte big-endian integer n (1, 2, 3, ...). */
export function key(n: number): Key {
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new RangeError('key number out of range');
  const secretKey = new Uint8Array(32);
  new DataView(secretKey.buffer).setUint32(28, n);
  const pubkey = publicKeyOf(secretKey, true);
  return { secretKey, pubkey, pkh: hash160(pubkey) };
}

export const alice = key(1);
export const bob = key(2);
export const carol = key(3);

/** A P2PKH output paying value to k. */
export function pay(k: Key, value: bigint): TxOutput {
  return p2pkhOutput(value, k.pkh);
}

// ------------------------------------------------------------------ params

export const TEST_POW_LIMIT_BITS = EASY_BITS;
export const GENESIS_TIME = 1_700_000_000;
/** The validating node's clock in these tests: far enough past every block time we build. */
export const NOW = GENESIS_TIME + 1_000_000;

const CONFIG_URL = new URL('../../../config.json', import.meta.url);

/**
 * config.json's devnet entry with trivial proof of work (powLimitBits 0x207fffff, a freshly mined
 * genesis), coinbase maturity 3 and no retarget in sight, unless overridden.
 */
export function makeTestParams(over: Partial<Omit<NetworkConfig, 'genesis'>> = {}): ConsensusParams {
  const config = JSON.parse(readFileSync(CONFIG_URL, 'utf8')) as { networks: Record<string, NetworkConfig> };
  const devnet = config.networks['devnet'];
  if (!devnet) throw new Error('config.json has no devnet entry');
  const c: NetworkConfig = {
    ...devnet,
    name: 'blockgen',
    powLimitBits: TEST_POW_LIMIT_BITS,
    coinbaseMaturity: 3,
    retargetInterval: 100_000,
    ...over,
  };
  const bits = typeof c.powLimitBits === 'string' ? Number(c.powLimitBits) : c.powLimitBits;
  return makeParams({ ...c, genesis: testGenesisHex({ bits, time: GENESIS_TIME, tag: 'mvb blockgen genesis' }) });
}

// ------------------------------------------------------------------ blocks

export interface BlockOpts {
  /** Transactions after the coinbase. */
  readonly txs?: readonly Tx[];
  /** Fees the coinbase claims on top of the subsidy (default 0: fees left unclaimed). */
  readonly fees?: bigint;
  /** The coinbase's total value (overrides subsidy + fees). */
  readonly coinbaseValue?: bigint;
  /** Who the coinbase pays (default alice). */
  readonly payTo?: Key;
  /** The height the coinbase's BIP34 push claims (default: the real one). */
  readonly cbHeight?: number;
  /** A complete coinbase instead of the generated one. */
  readonly coinbase?: Tx;
  /** Default: one second after the later of the parent's time and its median time past. */
  readonly time?: number;
  /** Default: what the rules require after the parent. */
  readonly bits?: number;
  /** Coinbase extra bytes; default a counter, so every generated block is unique. */
  readonly tag?: string;
}

export class BlockGen {
  /** Headers of every block built (and valid as a header): heights, nBits, median times. */
  readonly tree: Chain;
  private counter = 0;

  constructor(readonly params: ConsensusParams = makeTestParams()) {
    this.tree = new Chain(params, new MemoryChainStore());
  }

  get genesis(): Block {
    return this.params.genesis;
  }

  heightOf(b: Block): number {
    return this.entryOf(b).height;
  }

  private entryOf(b: Block) {
    const e = this.tree.getEntry(headerHash(b.header));
    if (!e) throw new Error('block was not built by this generator (or has an invalid header)');
    return e;
  }

  /** A block on parent, valid unless opts say otherwise, solved. */
  block(parent: Block, opts: BlockOpts = {}): Block {
    const p = this.entryOf(parent);
    const height = p.height + 1;
    const txs = opts.txs ?? [];
    const coinbase =
      opts.coinbase ??
      makeCoinbase(
        opts.cbHeight ?? height,
        [pay(opts.payTo ?? alice, opts.coinbaseValue ?? blockSubsidy(height, this.params) + (opts.fees ?? 0n))],
        new TextEncoder().encode(opts.tag ?? `blockgen ${this.counter++}`),
      );
    const time = opts.time ?? Math.max(p.header.time, this.tree.medianTimePast(p)) + 1;
    const bits = opts.bits ?? this.tree.requiredBits(p);
    const b = assembleBlock(p.hash, [coinbase, ...txs], time, bits);
    return this.register({ header: mine(b.header), txs: b.txs });
  }

  /** n blocks, each on the previous, starting on parent; returns them oldest first. */
  chain(parent: Block, n: number, opts: BlockOpts | ((i: number) => BlockOpts) = {}): Block[] {
    const out: Block[] = [];
    for (let i = 0; i < n; i++) {
      const b = this.block(out[i - 1] ?? parent, typeof opts === 'function' ? opts(i) : opts);
      out.push(b);
    }
    return out;
  }

  /** Adds a (possibly tampered) block's header to the tree so children can be built on it. */
  register(b: Block): Block {
    try {
      this.tree.acceptHeader(b.header, 0xffffffff);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
    }
    return b;
  }
}

/** Solves a header at its own nBits (a few hashes at the test limit). */
export function mine(h: Header): Header {
  const solved = solveHeader(h, 10_000_000);
  if (!solved) throw new Error('no nonce found');
  return solved;
}

// ------------------------------------------------------------------ tampering

/** The block with header fields changed and the header solved again. */
export function withHeader(b: Block, changes: Partial<Header>): Block {
  return { header: mine({ ...b.header, ...changes }), txs: b.txs };
}

/** The block with other transactions, Merkle root recomputed (unless keepRoot) and solved again. */
export function withTxs(b: Block, txs: readonly Tx[], keepRoot = false): Block {
  const root = keepRoot ? b.header.merkleRoot : merkleRoot(txs.map(txid));
  return { header: mine({ ...b.header, merkleRoot: root }), txs };
}

/** The block with a nonce whose hash misses the target: fails proof of work. */
export function failPow(b: Block): Block {
  const target = bitsToTarget(b.header.bits);
  for (let nonce = 0; ; nonce++) {
    const header = { ...b.header, nonce };
    if (hashToNumber(headerHash(header)) > target) return { header, txs: b.txs };
  }
}

// ------------------------------------------------------------------ transactions

/** An output someone can spend: where it is, what it holds, whose key unlocks it. */
export interface Spendable {
  readonly txid: Uint8Array;
  readonly vout: number;
  readonly value: bigint;
  readonly key: Key;
}

export function coinOf(tx: Tx, vout: number, k: Key): Spendable {
  const o = tx.outputs[vout];
  if (!o) throw new RangeError('no such output');
  return { txid: txid(tx), vout, value: o.value, key: k };
}

/** Output 0 of a block's coinbase (paid to alice unless the block said otherwise). */
export function coinbaseCoin(b: Block, k: Key = alice): Spendable {
  return coinOf(b.txs[0]!, 0, k);
}

/** A signed transaction spending coins (each with its own key) to outputs. */
export function spend(coins: readonly Spendable[], outputs: readonly TxOutput[], locktime = 0): Tx {
  return signP2pkhTx(
    coins.map((c) => ({ prevTxid: c.txid, vout: c.vout, secretKey: c.key.secretKey })),
    outputs,
    locktime,
  );
}

/** Spends one coin to `to`, paying fee. */
export function transfer(c: Spendable, to: Key, fee = 0n): Tx {
  return spend([c], [pay(to, c.value - fee)]);
}

/**
 * Signs every input of an arbitrary transaction (any sequence, locktime) with SIGHASH_ALL, input k
 * with keys[k]; the signer sees the output as P2PKH to that key.
 */
export function signInputs(tx: Tx, keys: readonly Key[]): Tx {
  const unsigned: Tx = { ...tx, inputs: tx.inputs.map((i) => ({ ...i, scriptSig: new Uint8Array(0) })) };
  const sigs = keys.map((k, i) => {
    const msg = legacySighash(unsigned, i, p2pkhScript(k.pkh), SIGHASH_ALL);
    return p2pkhScriptSig(concatBytes(signDer(msg, k.secretKey), Uint8Array.of(SIGHASH_ALL)), k.pubkey);
  });
  return { ...unsigned, inputs: unsigned.inputs.map((i, k) => ({ ...i, scriptSig: sigs[k]! })) };
}

/** The tx with input k's scriptSig replaced. */
export function withScriptSig(tx: Tx, k: number, scriptSig: Uint8Array): Tx {
  return { ...tx, inputs: tx.inputs.map((i, j) => (j === k ? { ...i, scriptSig } : i)) };
}

// ------------------------------------------------------------------ results

export function hashOf(b: Block): string {
  return toHex(headerHash(b.header));
}

/** Runs fn, which must throw a ValidationError with this code; returns the error. */
export function expectCode(fn: () => unknown, code: string): ValidationError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    assert.equal(e.code, code, `expected ${code}, got ${e.message}`);
    return e;
  }
  assert.fail(`expected ValidationError ${code}, nothing was thrown`);
}
