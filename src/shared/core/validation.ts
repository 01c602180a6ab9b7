// Consensus rules, split as in Bitcoin Core and btcd: context-free sanity checks (a transaction or
// block on its own) apart from contextual checks (against the previous headers, the UTXO view, the
// height and the time the caller passes in). Every failure is a ValidationError carrying Core's
// reason string and whether the sender misbehaved, which the network shell maps to drop/ban/log.
import { DecodeError, equalBytes, toHex } from './bytes.js';
import { displayOutpoint, outpointKey } from './outpoint.js';
import { type Block, blockSize } from './block.js';
import { type Header, hashToNumber, headerHash } from './header.js';
import { hash160, sha256 } from './hash.js';
import { merkleRootMutated } from './merkle.js';
import { type ConsensusParams, LOCKTIME_THRESHOLD, MAX_FUTURE_BLOCK_SECONDS, blockSubsidy, moneyRange } from './params.js';
import { checkProofOfWork } from './pow.js';
import { isValidSignatureEncoding, isPubkeyEncoding, type SignatureVerifier, nobleVerifier, verifyDer, isLowS, parseDer } from './ecdsa.js';
import { bip34Prefix, p2pkhHash, parsePushes } from './script.js';
import { legacySighash, legacySighashPreimage } from './sighash.js';
import {
  MAX_COINBASE_SCRIPT_BYTES,
  MIN_COINBASE_SCRIPT_BYTES,
  NULL_INDEX,
  SEQUENCE_FINAL,
  type Tx,
  isCoinbase,
  txSize,
  txid,
} from './tx.js';

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    /** Bitcoin Core's reject reason, e.g. "bad-txns-inputs-missingorspent". */
    readonly code: string,
    /** True when only a misbehaving or broken peer would send this (Core's DoS/ban score). */
    readonly misbehaving: boolean,
    readonly detail = '',
  ) {
    super(detail ? `${code}: ${detail}` : code);
  }
}

const fail = (code: string, detail = '', misbehaving = true): never => {
  throw new ValidationError(code, misbehaving, detail);
};

/** An unspent output as the UTXO set keeps it (Core's Coin). */
export interface Coin {
  readonly value: bigint;
  readonly scriptPubKey: Uint8Array;
  readonly height: number;
  readonly coinbase: boolean;
}

/** Read access to unspent outputs; the caller decides what backs it (memory, a store, a mempool overlay). */
export interface CoinView {
  getCoin(prevTxid: Uint8Array, vout: number): Coin | undefined;
}

/**
 * How many more blocks before a coin may be spent in a block at spendHeight: 0 when it may now.
 * Only coinbase outputs wait (Core's COINBASE_MATURITY rule in CheckTxInputs: spending at a depth
 * spendHeight - coin.height below coinbaseMaturity is bad-txns-premature-spend-of-coinbase).
 */
export function blocksToMaturity(coin: Pick<Coin, 'height' | 'coinbase'>, spendHeight: number, coinbaseMaturity: number): number {
  if (!coin.coinbase) return 0;
  return Math.max(0, coin.height + coinbaseMaturity - spendHeight);
}

// ---------------------------------------------------------------- context-free (sanity) checks

/** Core's CheckTransaction plus mvb's rules: P2PKH outputs only, size within one datagram. */
export function checkTxSanity(tx: Tx, params: ConsensusParams): void {
  if (tx.inputs.length === 0) fail('bad-txns-vin-empty');
  if (tx.outputs.length === 0) fail('bad-txns-vout-empty');
  if (txSize(tx) > params.maxTxBytes) fail('bad-txns-oversize', `over ${params.maxTxBytes} bytes`);
  let total = 0n;
  for (const o of tx.outputs) {
    if (o.value < 0n) fail('bad-txns-vout-negative');
    if (!moneyRange(o.value)) fail('bad-txns-vout-toolarge');
    total += o.value;
    if (!moneyRange(total)) fail('bad-txns-txouttotal-toolarge');
    if (p2pkhHash(o.scriptPubKey) === undefined) fail('bad-txns-vout-not-p2pkh', 'every output must be pay-to-pubkey-hash');
  }
  // CVE-2018-17144: a transaction spending the same outpoint twice.
  const seen = new Set<string>();
  for (const i of tx.inputs) {
    const k = outpointKey(i.prevTxid, i.vout);
    if (seen.has(k)) fail('bad-txns-inputs-duplicate');
    seen.add(k);
  }
  if (isCoinbase(tx)) {
    const n = tx.inputs[0]!.scriptSig.length;
    if (n < MIN_COINBASE_SCRIPT_BYTES || n > MAX_COINBASE_SCRIPT_BYTES) fail('bad-cb-length');
  } else {
    for (const i of tx.inputs) {
      if (i.vout === NULL_INDEX && i.prevTxid.every((b) => b === 0)) fail('bad-txns-prevout-null');
    }
  }
}

/** Core's CheckBlockHeader: the header's hash meets the target its nBits claims, within powLimit. */
export function checkHeaderSanity(header: Header, params: ConsensusParams, hash = headerHash(header)): void {
  if (!checkProofOfWork(hashToNumber(hash), header.bits, params.powLimit)) fail('high-hash', 'proof of work failed');
}

/** Core's CheckBlock: proof of work, Merkle root, size, exactly one coinbase first, each tx's sanity. */
export function checkBlockSanity(block: Block, params: ConsensusParams): void {
  checkHeaderSanity(block.header, params);
  if (block.txs.length === 0) fail('bad-blk-length', 'no transactions');
  const ids = block.txs.map(txid);
  const { root, mutated } = merkleRootMutated(ids);
  if (!equalBytes(root, block.header.merkleRoot)) fail('bad-txnmrklroot', 'hashMerkleRoot mismatch');
  // A mutated tree (CVE-2012-2459) hides duplicate transactions behind a valid root.
  if (mutated) fail('bad-txns-duplicate', 'duplicate transaction');
  if (blockSize(block) > params.maxBlockBytes) fail('bad-blk-length', `over ${params.maxBlockBytes} bytes`);
  if (!isCoinbase(block.txs[0]!)) fail('bad-cb-missing', 'first tx is not coinbase');
  for (let i = 1; i < block.txs.length; i++) if (isCoinbase(block.txs[i]!)) fail('bad-cb-multiple', 'more than one coinbase');
  for (const tx of block.txs) checkTxSanity(tx, params);
  const seen = new Set<string>();
  for (const id of ids) {
    const k = toHex(id);
    if (seen.has(k)) fail('bad-txns-duplicate', 'duplicate transaction');
    seen.add(k);
  }
}

// ---------------------------------------------------------------- contextual checks

/** What contextual header checks need to know about the chain the header extends. */
export interface PrevContext {
  /** Height of the previous block. */
  readonly height: number;
  /** nBits the next block must carry (see requiredBits). */
  readonly requiredBits: number;
  /** Median time of the last 11 blocks ending at the previous block. */
  readonly medianTimePast: number;
}

/** Core's ContextualCheckBlockHeader: nBits as the retarget rule says, time within its window. */
export function checkHeaderContext(header: Header, prev: PrevContext, nowSeconds: number): void {
  if (header.bits !== prev.requiredBits)
    fail('bad-diffbits', `incorrect proof of work: bits ${header.bits.toString(16)}, expected ${prev.requiredBits.toString(16)}`);
  if (header.time <= prev.medianTimePast) fail('time-too-old', 'block timestamp is not after the median of the last 11 blocks');
  // Not a misbehaviour: our clock may simply be behind; the block can be offered again later.
  if (header.time > nowSeconds + MAX_FUTURE_BLOCK_SECONDS) fail('time-too-new', 'block timestamp too far in the future', false);
}

/** Core's IsFinalTx: a transaction is final once its lock height or lock time has passed. */
export function isFinalTx(tx: Tx, height: number, lockTimeCutoff: number): boolean {
  if (tx.locktime === 0) return true;
  if (tx.locktime < (tx.locktime < LOCKTIME_THRESHOLD ? height : lockTimeCutoff)) return true;
  return tx.inputs.every((i) => i.sequence === SEQUENCE_FINAL);
}

/**
 * Core's ContextualCheckBlock: every transaction final at this height (BIP113: against the
 * previous block's median time past) and the coinbase starting with the height (BIP34).
 */
export function checkBlockContext(block: Block, height: number, prevMedianTimePast: number): void {
  for (const tx of block.txs) if (!isFinalTx(tx, height, prevMedianTimePast)) fail('bad-txns-nonfinal', 'non-final transaction');
  const prefix = bip34Prefix(height);
  const sig = block.txs[0]!.inputs[0]!.scriptSig;
  if (sig.length < prefix.length || !equalBytes(sig.subarray(0, prefix.length), prefix))
    fail('bad-cb-height', 'block height mismatch in coinbase');
}

/**
 * Core's Consensus::CheckTxInputs for a non-coinbase transaction: every input exists unspent in
 * the view, coinbase outputs are mature, and inputs cover outputs. Returns the fee.
 */
export function checkTxInputs(tx: Tx, view: CoinView, spendHeight: number, params: ConsensusParams): bigint {
  let valueIn = 0n;
  for (const i of tx.inputs) {
    const coin = view.getCoin(i.prevTxid, i.vout);
    if (coin === undefined) fail('bad-txns-inputs-missingorspent', `input ${displayOutpoint(i.prevTxid, i.vout)} missing or spent`, false);
    if (blocksToMaturity(coin!, spendHeight, params.coinbaseMaturity) > 0) {
      fail('bad-txns-premature-spend-of-coinbase', `tried to spend coinbase at depth ${spendHeight - coin!.height}`, false);
    }
    valueIn += coin!.value;
    if (!moneyRange(coin!.value) || !moneyRange(valueIn)) fail('bad-txns-inputvalues-outofrange');
  }
  let valueOut = 0n;
  for (const o of tx.outputs) valueOut += o.value;
  if (valueIn < valueOut) fail('bad-txns-in-belowout', `value in ${valueIn} < value out ${valueOut}`);
  const fee = valueIn - valueOut;
  if (!moneyRange(fee)) fail('bad-txns-fee-outofrange');
  return fee;
}

/** Core's script failure messages, as reported under "mandatory-script-verify-flag-failed". */
const SCRIPT_ERR = {
  nonP2pkh: 'previous output is not pay-to-pubkey-hash',
  pushOnly: 'Only push operators allowed in signatures',
  stack: 'scriptSig must push exactly a signature and a public key',
  der: 'Non-canonical DER signature',
  highS: 'Non-canonical signature: S value is unnecessarily high',
  pubkey: 'Public key is neither compressed or uncompressed',
  equalVerify: 'Script failed an OP_EQUALVERIFY operation',
  evalFalse: 'Script evaluated without error but finished with a false/empty top stack element',
} as const;

/** One signature to verify: the strict-DER signature (no hash type), its sighash's first SHA-256, the key. */
export interface SignatureCheck {
  readonly der: Uint8Array;
  /** SHA-256 of the sighash preimage (the sighash is its SHA-256); absent for Core's constant ONE. */
  readonly firstHash: Uint8Array | undefined;
  /** The message hash itself when firstHash is absent (Core's SIGHASH_SINGLE "ONE"). */
  readonly digest: Uint8Array | undefined;
  readonly pubkey: Uint8Array;
}

/**
 * Everything a P2PKH spend needs short of the curve math: the scriptSig pushes exactly a strict-DER
 * signature (with hash type) and a public key whose HASH160 is the output's. Returns Core's script
 * error string when that fails, else the signature check to run over the legacy sighash.
 */
export function p2pkhSignatureCheck(
  tx: Tx,
  inputIndex: number,
  prevScriptPubKey: Uint8Array,
  opts: { allowHighS?: boolean } = {},
): string | SignatureCheck {
  const pkh = p2pkhHash(prevScriptPubKey);
  if (pkh === undefined) return SCRIPT_ERR.nonP2pkh;
  const input = tx.inputs[inputIndex];
  if (input === undefined) return SCRIPT_ERR.stack;
  let items: Uint8Array[];
  try {
    items = parsePushes(input.scriptSig);
  } catch (e) {
    if (e instanceof DecodeError) return SCRIPT_ERR.pushOnly;
    throw e;
  }
  if (items.length !== 2) return SCRIPT_ERR.stack;
  const [sig, pub] = items as [Uint8Array, Uint8Array];
  if (!isValidSignatureEncoding(sig)) return SCRIPT_ERR.der;
  const der = sig.subarray(0, sig.length - 1);
  if (!opts.allowHighS && !isLowS(parseDer(der).s)) return SCRIPT_ERR.highS;
  if (!isPubkeyEncoding(pub)) return SCRIPT_ERR.pubkey;
  if (!equalBytes(hash160(pub), pkh)) return SCRIPT_ERR.equalVerify;
  const hashType = sig[sig.length - 1]!;
  const pre = legacySighashPreimage(tx, inputIndex, prevScriptPubKey, hashType);
  if (pre === undefined)
    return { der, firstHash: undefined, digest: legacySighash(tx, inputIndex, prevScriptPubKey, hashType), pubkey: pub };
  return { der, firstHash: sha256(pre), digest: undefined, pubkey: pub };
}

/**
 * Why a P2PKH spend fails, or undefined when it is valid: p2pkhSignatureCheck's checks, then the
 * signature verifies over the legacy sighash. This is what evaluating the two scripts amounts to.
 */
export function p2pkhInputError(
  tx: Tx,
  inputIndex: number,
  prevScriptPubKey: Uint8Array,
  opts: { allowHighS?: boolean; verifier?: SignatureVerifier } = {},
): string | undefined {
  return signatureCheckError(p2pkhSignatureCheck(tx, inputIndex, prevScriptPubKey, opts), opts);
}

/**
 * The second half of p2pkhInputError, for a check prepared ahead (p2pkhSignatureCheck): its
 * script error, or the curve math's verdict (SCRIPT_ERR_EVAL_FALSE when the signature does not verify).
 */
export function signatureCheckError(
  c: string | SignatureCheck,
  opts: { allowHighS?: boolean; verifier?: SignatureVerifier } = {},
): string | undefined {
  if (typeof c === 'string') return c;
  const ok =
    c.firstHash === undefined
      ? verifyDer(c.der, c.digest!, c.pubkey, opts) // Core's constant ONE
      : (opts.verifier ?? nobleVerifier)(c.der, c.firstHash, c.pubkey, opts);
  if (!ok) return SCRIPT_ERR.evalFalse;
  return undefined;
}

/**
 * The signature checks transactions will need (a block's, or several blocks' in chain order), for
 * a verifier to run ahead of connecting them (in parallel, or to fill a cache): every input
 * whose coin is in `view` or created by an earlier transaction of the list, and that passes the
 * checks before the curve math. Inputs that fail those are left out: connecting reports them.
 * `created` (outpoint key -> scriptPubKey) carries the outputs of lists passed before, so the
 * blocks of a batch can be handed over a few at a time; this call adds its own to it.
 */
export function signatureChecks(txs: readonly Tx[], view: CoinView, created = new Map<string, Uint8Array>()): SignatureCheck[] {
  const out: SignatureCheck[] = [];
  for (const tx of txs) {
    if (!isCoinbase(tx)) {
      tx.inputs.forEach((inp, k) => {
        const spk = created.get(outpointKey(inp.prevTxid, inp.vout)) ?? view.getCoin(inp.prevTxid, inp.vout)?.scriptPubKey;
        const c = spk && p2pkhSignatureCheck(tx, k, spk);
        if (c && typeof c !== 'string' && c.firstHash) out.push(c);
      });
    }
    const id = txid(tx);
    tx.outputs.forEach((o, vout) => created.set(outpointKey(id, vout), o.scriptPubKey));
  }
  return out;
}

/** True when input inputIndex of tx validly spends a P2PKH output with this scriptPubKey. */
export function verifyP2pkhInput(
  tx: Tx,
  inputIndex: number,
  prevScriptPubKey: Uint8Array,
  opts: { allowHighS?: boolean; verifier?: SignatureVerifier } = {},
): boolean {
  return p2pkhInputError(tx, inputIndex, prevScriptPubKey, opts) === undefined;
}

/** Core's CheckInputScripts for our P2PKH-only rules. */
export function checkTxScripts(tx: Tx, view: CoinView, verifier: SignatureVerifier = nobleVerifier): void {
  for (let k = 0; k < tx.inputs.length; k++) {
    const i = tx.inputs[k]!;
    const coin = view.getCoin(i.prevTxid, i.vout);
    if (coin === undefined) fail('bad-txns-inputs-missingorspent', '', false);
    const err = p2pkhInputError(tx, k, coin!.scriptPubKey, { verifier });
    if (err !== undefined) fail('mandatory-script-verify-flag-failed', `(${err}) input ${k}`);
  }
}

/** The coinbase may claim at most the subsidy plus the block's fees (Core: "bad-cb-amount"). */
export function checkCoinbaseAmount(block: Block, height: number, fees: bigint, params: ConsensusParams): void {
  let out = 0n;
  for (const o of block.txs[0]!.outputs) out += o.value;
  const limit = blockSubsidy(height, params) + fees;
  if (out > limit) fail('bad-cb-amount', `coinbase pays too much (actual=${out} vs limit=${limit})`);
}
