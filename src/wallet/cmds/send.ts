// send <from> <amount> <to>: signs a payment from a local address and stores it as pending in the
// same write transaction that chose its coins (durable before anything leaves the machine), then
// broadcasts it once on the transaction port. `sync` rebroadcasts it until it is mined.
import { hashToHex, toHex } from '../../shared/core/bytes.js';
import { type CommandContext, CliError, command, flag, stringOption } from '../../shared/node/cli/command.js';
import { MsgType } from '../../shared/node/net/protocol.js';
import { sendOnce } from '../../shared/node/net/udp.js';
import { encodeTx, txid } from '../../shared/core/tx.js';
import { AmountError, formatCoins, parseCoins } from '../../shared/core/amount.js';
import { type PaymentRecord, outputSummaries } from '../db/index.js';
import { openKeys, repairPublicKey, resolveDestination, resolveLocal, unlock } from '../keys.js';
import { buildPayment } from '../spend.js';
import { printJson } from '../terminal.js';
import { createWalletHint, runningSyncPid } from '../datadir.js';
import { withWallet } from '../wallet.js';

function amountArg(text: string, what: string): bigint {
  try {
    return parseCoins(text, what);
  } catch (e) {
    if (e instanceof AmountError) throw new CliError(e.message);
    throw e;
  }
}

/** Every address a transaction goes to: the broadcast address and each configured peer. */
export function txDestinations(s: { broadcastAddress: string; peers: readonly string[] }): string[] {
  return [...new Set([s.broadcastAddress, ...s.peers])];
}

/**
 * Refuses a fee above the cap (Core's wallet refuses fees above -maxtxfee): more than maxFee times
 * the amount, and more than the wallet's own fee at defaultFeeRate for this size.
 */
export function checkFeeCap(fee: bigint, amount: bigint, size: number, s: { maxFee: number; defaultFeeRate: number }): void {
  const PPM = 1_000_000n;
  const shareCap = (amount * BigInt(Math.round(s.maxFee * 1e6))) / PPM;
  const ownFee = BigInt(Math.ceil(s.defaultFeeRate * size));
  if (fee <= shareCap || fee <= ownFee) return;
  const pct = Number((fee * 10_000n) / (amount > 0n ? amount : 1n)) / 100;
  throw new CliError(
    `fee ${formatCoins(fee)} is ${pct}% of the amount ${formatCoins(amount)}, above the cap (maxFee ${s.maxFee}: at most ${formatCoins(shareCap > ownFee ? shareCap : ownFee)}); lower --fee, or pass --force to pay it`,
  );
}

type Built = ReturnType<typeof buildPayment>;

/** The payment as the wallet stores it (pending until mined), with the summaries its views need. */
function paymentRecord(
  built: Built,
  raw: Uint8Array,
  from: ReturnType<typeof resolveLocal>,
  to: ReturnType<typeof resolveDestination>,
  amount: bigint,
): PaymentRecord {
  return {
    txid: hashToHex(txid(built.tx)),
    raw: toHex(raw),
    status: 'pending',
    createdAt: Date.now(),
    from: from.name,
    fromAddress: from.address,
    fromPkh: from.pkhHex,
    to: to.address,
    toPkh: toHex(to.pkh),
    ...(to.name ? { toName: to.name } : {}),
    amount: amount.toString(),
    fee: built.fee.toString(),
    size: raw.length,
    inputs: built.inputs.map((c) => ({ outpoint: c.outpoint, value: c.value, pkh: c.pkh })),
    outputs: outputSummaries(built.tx),
  };
}

/** The txid on stdout (or the JSON), what was sent and who rebroadcasts it on stderr. */
function reportSent(
  ctx: CommandContext,
  record: PaymentRecord,
  amount: bigint,
  fromName: string,
  toName: string,
  broadcastError: string | undefined,
): void {
  const running = runningSyncPid(ctx.datadir);
  if (ctx.json) {
    printJson(ctx, {
      txid: record.txid,
      status: 'pending',
      from: record.fromAddress,
      to: record.to,
      amount: formatCoins(amount),
      fee: formatCoins(BigInt(record.fee)),
      size: record.size,
      broadcast: broadcastError === undefined,
    });
    return;
  }
  ctx.io.out(record.txid);
  ctx.io.err(
    `sent ${formatCoins(amount)} from ${fromName} to ${toName} (fee ${formatCoins(BigInt(record.fee))}, ${record.size} bytes); pending until mined`,
  );
  if (broadcastError !== undefined) ctx.io.err(`warning: broadcast failed (${broadcastError}); the payment is stored and sync will retry`);
  ctx.io.err(
    running
      ? `the wallet's sync (pid ${running}) rebroadcasts it until it is mined`
      : 'run `mvb-wallet sync` to rebroadcast it until it is mined and see it confirm',
  );
}

export const send = command({
  name: 'send',
  readsDataDir: createWalletHint,
  describe: 'pay <amount> coins from a local address to a local name or an address',
  args: ['<from>', '<amount>', '<to>'],
  options: {
    fee: stringOption('--fee <amount>', 'absolute fee in coins (default: defaultFeeRate base units per byte of the signed transaction)'),
    force: flag('--force', 'pay a fee above the maxFee cap (a share of the amount)'),
  },
  async handler([fromText, amountText, toText], opts, ctx) {
    const s = ctx.settings;
    const params = s.params;
    const amount = amountArg(amountText!, 'amount');
    if (amount === 0n) throw new CliError('invalid amount "' + amountText + '": must be more than 0');
    const fee = opts.fee === undefined ? undefined : amountArg(opts.fee, 'fee');
    const ks = openKeys(ctx);
    await repairPublicKey(ctx, ks, fromText!);
    const from = resolveLocal(ks, fromText!, params.addressVersion, params.name);
    const to = resolveDestination(ks, toText!, params.addressVersion, params.name);
    const secretKey = await unlock(ctx, ks, from);
    return withWallet(ctx, async ({ db }) => {
      // Selection, signing and storing in one LMDB write transaction: serialised with every other
      // writer in every process, so concurrent sends never pick the same coin.
      const record = db.write((): PaymentRecord => {
        const tipHeight = db.tip()?.height ?? 0;
        const coins = db.walletCoins().filter((c) => c.pkh === from.pkhHex);
        const held = new Set(coins.filter((c) => db.pendingSpender(c.outpoint) !== undefined).map((c) => c.outpoint));
        const built = buildPayment({
          params,
          coins,
          held,
          tipHeight,
          amount,
          fee,
          feeRate: s.defaultFeeRate,
          minFeeRate: s.minRelayFeeRate,
          secretKey,
          fromPkh: from.pubkeyHash,
          toPkh: to.pkh,
          fromName: from.name,
        });
        const raw = encodeTx(built.tx);
        if (!opts.force) checkFeeCap(built.fee, amount, raw.length, s);
        const p = paymentRecord(built, raw, from, to, amount);
        db.putPayment(p);
        return p;
      });
      db.journalPayment(record); // kept outside the store too: `resync` restores it if the store is damaged
      let broadcastError: string | undefined;
      try {
        await sendOnce(params, MsgType.Tx, Buffer.from(record.raw, 'hex'), s.transactionPort, txDestinations(s));
      } catch (e) {
        broadcastError = (e as Error).message;
      }
      reportSent(ctx, record, amount, from.name, to.name ?? to.address, broadcastError);
      return 0;
    });
  },
});
