// Building what the rules accept: coinbases, signed P2PKH spends, blocks. Pure helpers shared by
// the miner, the wallet and the tests.
import { Writer, concatBytes } from './bytes.js';
import { type Block } from './block.js';
import { type Header, hashToNumber, headerHash } from './header.js';
import { hash160 } from './hash.js';
import { merkleRoot } from './merkle.js';
import { bip34Prefix, p2pkhScript, p2pkhScriptSig, pushData } from './script.js';
import { SIGHASH_ALL, legacySighash } from './sighash.js';
import { publicKeyOf, signDer } from './ecdsa.js';
import { MIN_COINBASE_SCRIPT_BYTES, NULL_INDEX, SEQUENCE_FINAL, type Tx, type TxOutput, txid } from './tx.js';
import { bitsToTarget } from './pow.js';

/**
 * A coinbase for a height: BIP34 height push, then extra bytes to make it unique, one push each
 * (a list: the miner's tag in its own push, then its extra nonce, so explorers read the tag alone).
 */
export function makeCoinbase(
  height: number,
  outputs: readonly TxOutput[],
  extra: Uint8Array | readonly Uint8Array[] = new Uint8Array(0),
): Tx {
  const w = new Writer(40);
  w.bytes(bip34Prefix(height));
  const pushes = extra instanceof Uint8Array ? [extra] : extra;
  if (pushes.every((p) => p.length === 0)) pushData(w, new TextEncoder().encode('mvb'));
  else for (const p of pushes) pushData(w, p);
  let scriptSig = w.finish();
  if (scriptSig.length < MIN_COINBASE_SCRIPT_BYTES)
    scriptSig = concatBytes(scriptSig, new Uint8Array(MIN_COINBASE_SCRIPT_BYTES - scriptSig.length));
  return {
    version: 1,
    inputs: [{ prevTxid: new Uint8Array(32), vout: NULL_INDEX, scriptSig, sequence: SEQUENCE_FINAL }],
    outputs,
    locktime: 0,
  };
}

export interface SpendInput {
  readonly prevTxid: Uint8Array;
  readonly vout: number;
  /** The key whose HASH160 the spent output names. */
  readonly secretKey: Uint8Array;
  readonly compressed?: boolean;
}

/** A transaction spending P2PKH coins, each input signed with SIGHASH_ALL. */
export function signP2pkhTx(inputs: readonly SpendInput[], outputs: readonly TxOutput[], locktime = 0): Tx {
  const unsigned: Tx = {
    version: 1,
    inputs: inputs.map((i) => ({ prevTxid: i.prevTxid, vout: i.vout, scriptSig: new Uint8Array(0), sequence: SEQUENCE_FINAL })),
    outputs,
    locktime,
  };
  const scriptSigs = inputs.map((inp, k) => {
    const pub = publicKeyOf(inp.secretKey, inp.compressed ?? true);
    const msg = legacySighash(unsigned, k, p2pkhScript(hash160(pub)), SIGHASH_ALL);
    return p2pkhScriptSig(concatBytes(signDer(msg, inp.secretKey), Uint8Array.of(SIGHASH_ALL)), pub);
  });
  return { ...unsigned, inputs: unsigned.inputs.map((i, k) => ({ ...i, scriptSig: scriptSigs[k]! })) };
}

export function p2pkhOutput(value: bigint, pubkeyHash: Uint8Array): TxOutput {
  return { value, scriptPubKey: p2pkhScript(pubkeyHash) };
}

/** A block over txs (coinbase first) with the Merkle root filled in; nonce 0. */
export function assembleBlock(prevHash: Uint8Array, txs: readonly Tx[], time: number, bits: number, version = 1): Block {
  const header: Header = { version, prevHash, merkleRoot: merkleRoot(txs.map(txid)), time, bits, nonce: 0 };
  return { header, txs };
}

/**
 * Searches nonces until the header's hash meets its target. A plain loop for tests and tools; the
 * miner's fast path lives in src/miner. Returns undefined if no nonce works (then change time or
 * the coinbase).
 */
export function solveHeader(header: Header, maxTries = 0x100000000): Header | undefined {
  const target = bitsToTarget(header.bits);
  for (let n = 0; n < maxTries && n <= 0xffffffff; n++) {
    const h = { ...header, nonce: n };
    if (hashToNumber(headerHash(h)) <= target) return h;
  }
  return undefined;
}
