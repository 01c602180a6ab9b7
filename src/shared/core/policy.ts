// Relay policy ("standardness"): what a node accepts from the network before it is mined, on top
// of the consensus rules in validation.ts. Bitcoin Core keeps these in policy/policy.h and
// validation.cpp's PreChecks; the reasons below are Core's reject strings. Every mempool (a
// miner's, an explorer's, the one of incoming payments a wallet's sync keeps) goes through these
// pieces, so a wallet shows as "incoming" exactly what a miner would take. Pure: the view, the tip and the verifier
// come in as arguments.
import type { ConsensusParams } from './params.js';
import type { SignatureVerifier } from './ecdsa.js';
import { type Tx, isCoinbase, txSize } from './tx.js';
import { type CoinView, ValidationError, checkTxInputs, checkTxSanity, checkTxScripts, isFinalTx } from './validation.js';

/** Core's DEFAULT_ANCESTOR_LIMIT: a pool transaction with its unconfirmed ancestors, at most. */
export const DEFAULT_ANCESTOR_LIMIT = 25;
/** Core's DEFAULT_ANCESTOR_SIZE_LIMIT_KVB (kilo-virtual-bytes; our bytes are Core's vbytes: no witness). */
export const DEFAULT_ANCESTOR_SIZE_LIMIT_KVB = 101;
/** Core's DEFAULT_DESCENDANT_LIMIT. */
export const DEFAULT_DESCENDANT_LIMIT = 25;
/** Core's DEFAULT_DESCENDANT_SIZE_LIMIT_KVB. */
export const DEFAULT_DESCENDANT_SIZE_LIMIT_KVB = 101;

/** Relay reasons that say "nothing new here" rather than "this is wrong" (counted apart). */
export const ALREADY_KNOWN_CODES: ReadonlySet<string> = new Set([
  'txn-already-in-mempool',
  'txn-already-known',
  'txn-mempool-conflict',
  'txn-recently-rejected',
  'bad-txns-inputs-missingorspent',
]);

/** What the relay checks need to know about the chain tip. */
export interface RelayContext {
  readonly params: ConsensusParams;
  /** Height of the tip; the transaction would go into the block after it. */
  readonly tipHeight: number;
  /** Median time past of the tip (BIP113 lock-time cutoff). */
  readonly medianTimePast: number;
  /** Base units per byte (settings.minRelayFeeRate). */
  readonly minRelayFeeRate: number;
}

/**
 * Step 1 of Core's PreChecks, the context-free part: sane (CheckTransaction), not a coinbase,
 * final in the next block. Costs no lookups. Returns the serialized size.
 */
export function checkTxStandalone(tx: Tx, ctx: RelayContext): number {
  checkTxSanity(tx, ctx.params);
  if (isCoinbase(tx)) throw new ValidationError('coinbase', true, 'coinbase transactions are only valid in blocks');
  if (!isFinalTx(tx, ctx.tipHeight + 1, ctx.medianTimePast)) throw new ValidationError('non-final', false);
  return txSize(tx);
}

/** The fee a transaction of this size must pay at least. */
export function minRelayFee(size: number, minRelayFeeRate: number): bigint {
  return BigInt(Math.ceil(minRelayFeeRate * size));
}

/**
 * Step 2 of PreChecks, lookups only: every input exists unspent and mature in the view and the
 * fee covers the minimum relay fee rate. Returns the fee.
 */
export function checkTxFee(tx: Tx, size: number, view: CoinView, ctx: RelayContext): bigint {
  const fee = checkTxInputs(tx, view, ctx.tipHeight + 1, ctx.params);
  const min = minRelayFee(size, ctx.minRelayFeeRate);
  if (fee < min) throw new ValidationError('min relay fee not met', false, `${fee} < ${min} for ${size} bytes`);
  return fee;
}

/**
 * Everything a node checks before relaying a transaction that does not depend on other
 * unconfirmed transactions: cheap checks first, signatures last (Core's PreChecks, then
 * PolicyScriptChecks). Throws ValidationError with Core's reason.
 */
export function checkTxForRelay(tx: Tx, view: CoinView, ctx: RelayContext, verifier: SignatureVerifier): { fee: bigint; size: number } {
  const size = checkTxStandalone(tx, ctx);
  const fee = checkTxFee(tx, size, view, ctx);
  checkTxScripts(tx, view, verifier);
  return { fee, size };
}
