// Building a payment: coin selection over the sender's confirmed, mature coins that no pending
// payment holds, a change output back to the sender, and the fee: either given, or the fee rate
// times the size of the signed transaction, found by signing again until the fee covers the size.
import { p2pkhOutput, signP2pkhTx } from '../shared/core/builder.js';
import { CliError } from '../shared/node/cli/runner.js';
import type { ConsensusParams } from '../shared/core/params.js';
import { p2pkhScript } from '../shared/core/script.js';
import { type Tx, txSize } from '../shared/core/tx.js';
import { type Coin, checkTxScripts, checkTxSanity } from '../shared/core/validation.js';
import { outpointKey, parseOutpointKey } from '../shared/core/outpoint.js';
import { formatCoins } from '../shared/core/amount.js';
import type { WalletCoin } from './db/index.js';
import { maturity } from './wallet.js';
import { opensslVerifier } from '../shared/node/verify/verifier.js';

export interface PaymentRequest {
  readonly params: ConsensusParams;
  /** Every confirmed coin of the sender. */
  readonly coins: readonly WalletCoin[];
  /** Outpoints held by pending payments. */
  readonly held: ReadonlySet<string>;
  readonly tipHeight: number;
  readonly amount: bigint;
  /** An absolute fee; else feeRate (base units per byte) times the size. */
  readonly fee?: bigint;
  readonly feeRate: number;
  readonly minFeeRate: number;
  readonly secretKey: Uint8Array;
  readonly fromPkh: Uint8Array;
  readonly toPkh: Uint8Array;
  readonly fromName: string;
}

export interface BuiltPayment {
  readonly tx: Tx;
  readonly fee: bigint;
  readonly size: number;
  readonly inputs: readonly WalletCoin[];
  readonly change: bigint;
}

const feeFor = (rate: number, size: number): bigint => BigInt(Math.ceil(rate * size));

/** Coin order for selection: larger value first, then lower height (more confirmations), then outpoint. */
export function byValueThenDepth(a: WalletCoin, b: WalletCoin): number {
  const va = BigInt(a.value);
  const vb = BigInt(b.value);
  if (va !== vb) return vb > va ? 1 : -1;
  if (a.height !== b.height) return a.height - b.height;
  return a.outpoint < b.outpoint ? -1 : a.outpoint > b.outpoint ? 1 : 0;
}

export function buildPayment(r: PaymentRequest): BuiltPayment {
  const { params } = r;
  const free = r.coins.filter((c) => !r.held.has(c.outpoint));
  const heldTotal = r.coins.filter((c) => r.held.has(c.outpoint)).reduce((a, c) => a + BigInt(c.value), 0n);
  const mature: WalletCoin[] = [];
  const immature: { coin: WalletCoin; inBlocks: number }[] = [];
  for (const c of free) {
    const m = maturity(c.height, c.coinbase, r.tipHeight, params.coinbaseMaturity);
    if (m.mature) mature.push(c);
    else immature.push({ coin: c, inBlocks: m.inBlocks });
  }
  // Largest first: the fewest inputs, the smallest transaction. Among equal values (mined rewards
  // all are), the most confirmed first: a payment from deeply buried coins survives a reorganisation
  // of the last few blocks, so it can always be mined again on the winning branch.
  mature.sort(byValueThenDepth);
  const matureTotal = mature.reduce((a, c) => a + BigInt(c.value), 0n);
  const minRate = r.minFeeRate;
  const rate = Math.max(r.feeRate, minRate);

  let fee = r.fee ?? 0n;
  for (let round = 0; round < 32; round++) {
    const need = r.amount + fee;
    const selected: WalletCoin[] = [];
    let total = 0n;
    for (const c of mature) {
      if (total >= need) break;
      selected.push(c);
      total += BigInt(c.value);
    }
    if (total < need) {
      // Before the first signing the fee is not known yet: estimate it from the input count.
      const known = r.fee !== undefined || fee > 0n;
      const needFor = (inputs: number) => r.amount + (known ? fee : feeFor(rate, estimateSize(inputs)));
      throw shortfall(r, needFor, mature.length, matureTotal, heldTotal, immature, !known);
    }
    const change = total - need;
    const outputs = [p2pkhOutput(r.amount, r.toPkh)];
    if (change > 0n) outputs.push(p2pkhOutput(change, r.fromPkh));
    const tx = signP2pkhTx(
      selected.map((c) => {
        const o = parseOutpointKey(c.outpoint);
        return { prevTxid: o.txid, vout: o.vout, secretKey: r.secretKey };
      }),
      outputs,
    );
    const size = txSize(tx);
    if (size > params.maxTxBytes) {
      throw new CliError(
        `the transaction would be ${size} bytes, over the limit of ${params.maxTxBytes}: it needs ${selected.length} small coins; send less`,
      );
    }
    const minFee = feeFor(minRate, size);
    if (r.fee !== undefined) {
      if (r.fee < minFee) {
        throw new CliError(
          `fee ${formatCoins(r.fee)} is below the minimum relay fee: ${formatCoins(minFee)} for ${size} bytes at ${minRate} base units per byte`,
        );
      }
      return checkAsNodesWould({ tx, fee, size, inputs: selected, change }, r);
    }
    const want = feeFor(rate, size);
    if (fee >= want) return checkAsNodesWould({ tx, fee, size, inputs: selected, change }, r);
    fee = want;
  }
  throw new Error('fee calculation did not settle');
}

/** Size of a signed P2PKH payment: ~148 bytes per input, 34 per output, 10 more. */
function estimateSize(inputs: number): number {
  return 10 + 148 * inputs + 34 * 2;
}

function shortfall(
  r: PaymentRequest,
  needFor: (inputs: number) => bigint,
  matureCount: number,
  matureTotal: bigint,
  heldTotal: bigint,
  immature: { coin: WalletCoin; inBlocks: number }[],
  feeUnknown: boolean,
): CliError {
  const immatureTotal = immature.reduce((a, x) => a + BigInt(x.coin.value), 0n);
  if (immature.length && matureTotal + immatureTotal >= needFor(matureCount + immature.length)) {
    // The earliest point at which enough has matured.
    immature.sort((a, b) => a.inBlocks - b.inBlocks);
    let have = matureTotal;
    let coins = 0n;
    let n = matureCount;
    for (const x of immature) {
      have += BigInt(x.coin.value);
      coins += BigInt(x.coin.value);
      if (have >= needFor(++n)) {
        return new CliError(
          `funds not yet mature: ${formatCoins(coins)} coins mature in ${x.inBlocks} block${x.inBlocks === 1 ? '' : 's'} (mined rewards need ${r.params.coinbaseMaturity} confirmations); ${r.fromName} can spend ${formatCoins(matureTotal)} now`,
        );
      }
    }
  }
  const held = heldTotal > 0n ? `, ${formatCoins(heldTotal)} more held by pending payments` : '';
  const imm = immatureTotal > 0n ? `, ${formatCoins(immatureTotal)} not yet mature` : '';
  const need = feeUnknown ? `${formatCoins(r.amount)} plus the fee` : `${formatCoins(needFor(matureCount))} (amount + fee)`;
  return new CliError(
    `insufficient funds: ${r.fromName} has ${formatCoins(matureTotal)} spendable${held}${imm}; this payment needs ${need}`,
  );
}

/** The rules a node will apply, checked before anything is stored. */
function checkAsNodesWould(p: BuiltPayment, r: PaymentRequest): BuiltPayment {
  const script = p2pkhScript(r.fromPkh);
  const view = new Map<string, Coin>(
    p.inputs.map((c) => [c.outpoint, { value: BigInt(c.value), scriptPubKey: script, height: c.height, coinbase: c.coinbase }]),
  );
  checkTxSanity(p.tx, r.params);
  checkTxScripts(p.tx, { getCoin: (t, v) => view.get(outpointKey(t, v)) }, opensslVerifier);
  return p;
}
