// light send <from> <amount> <to>: a payment from the light wallet's proven coins only (those of
// transactions it proved in its best header chain, not spent by another proven or sent one),
// signed as `send` signs, kept in DATADIR/light until proven mined, and posted to each --explorer
// (Esplora's POST /tx: the explorer validates and broadcasts it on the transaction port).
import { hashToHex, toHex } from '../../../shared/core/bytes.js';
import { encodeTx, decodeTx, txid } from '../../../shared/core/tx.js';
import { outpointKey } from '../../../shared/core/outpoint.js';
import { formatCoins, parseCoins, AmountError } from '../../../shared/core/amount.js';
import { CliError, command, flag, stringOption } from '../../../shared/node/cli/command.js';
import { openAppDb } from '../../../shared/node/store/schema.js';
import { createWalletHint } from '../../datadir.js';
import { openKeys, repairPublicKey, resolveDestination, resolveLocal, unlock, localKeys } from '../../keys.js';
import { buildPayment } from '../../spend.js';
import { printJson } from '../../terminal.js';
import { checkFeeCap } from '../send.js';
import { EsploraClient } from '../../light/esplora-client.js';
import { lightBalance } from '../../light/report.js';
import type { LightHeaders } from '../../light/headers.js';
import { EXPLORER_OPTION, parseExplorers } from './options.js';
import { openExistingLight } from './balance.js';

function amountArg(text: string, what: string): bigint {
  try {
    return parseCoins(text, what);
  } catch (e) {
    if (e instanceof AmountError) throw new CliError(e.message);
    throw e;
  }
}

/** Outpoints our own sent payments spend, until they are proven mined (then the proof says so). */
function heldBySent(headers: LightHeaders, proven: ReadonlySet<string>): Set<string> {
  const held = new Set<string>();
  for (const { value } of openAppDb(headers.store, 'light-sent').getRange()) {
    if (proven.has(value.txid)) continue;
    for (const i of decodeTx(Buffer.from(value.raw, 'hex')).inputs) held.add(outpointKey(i.prevTxid, i.vout));
  }
  return held;
}

export const lightSend = command({
  name: 'send',
  readsDataDir: createWalletHint,
  describe: "pay from the light wallet's proven coins, posted to the explorers",
  args: ['<from>', '<amount>', '<to>'],
  options: {
    explorer: EXPLORER_OPTION,
    fee: stringOption('--fee <amount>', 'absolute fee in coins (default: defaultFeeRate base units per byte)'),
    force: flag('--force', 'pay a fee above the maxFee cap'),
  },
  async handler([fromText, amountText, toText], opts, ctx) {
    const s = ctx.settings;
    const explorers = parseExplorers(opts.explorer, true);
    const amount = amountArg(amountText!, 'amount');
    if (amount === 0n) throw new CliError(`invalid amount "${amountText}": must be more than 0`);
    const fee = opts.fee === undefined ? undefined : amountArg(opts.fee, 'fee');
    const ks = openKeys(ctx);
    await repairPublicKey(ctx, ks, fromText!);
    const from = resolveLocal(ks, fromText!, s.params.addressVersion, s.params.name);
    const to = resolveDestination(ks, toText!, s.params.addressVersion, s.params.name);
    const secretKey = await unlock(ctx, ks, from);
    const headers = openExistingLight(ctx.datadir, s.params);
    try {
      const b = lightBalance(headers, localKeys(ks, s.params.addressVersion), s.params.coinbaseMaturity);
      const built = buildPayment({
        params: s.params,
        coins: b.coins.coins.filter((c) => c.pkh === from.pkhHex),
        held: heldBySent(headers, new Set(b.coins.proven.map((p) => p.rec.txid))),
        tipHeight: headers.height,
        amount,
        fee,
        feeRate: s.defaultFeeRate,
        minFeeRate: s.minRelayFeeRate,
        secretKey,
        fromPkh: from.pubkeyHash,
        toPkh: to.pkh,
        fromName: from.name,
      });
      const raw = toHex(encodeTx(built.tx));
      if (!opts.force) checkFeeCap(built.fee, amount, raw.length / 2, s);
      const id = hashToHex(txid(built.tx));
      await openAppDb(headers.store, 'light-sent').put(id, { txid: id, raw, at: Date.now() });
      const accepted: string[] = [];
      for (const u of explorers) {
        try {
          await new EsploraClient(u, 10_000, s.params.maxTxBytes).broadcast(raw);
          accepted.push(u);
        } catch (e) {
          ctx.io.err(`explorer ${u} refused it: ${(e as Error).message}`);
        }
      }
      if (ctx.json)
        printJson(ctx, { txid: id, amount: formatCoins(amount), fee: formatCoins(built.fee), size: raw.length / 2, acceptedBy: accepted });
      else {
        ctx.io.out(id);
        ctx.io.err(
          `sent ${formatCoins(amount)} from ${from.name} to ${to.name ?? to.address} (fee ${formatCoins(built.fee)}); posted to ${accepted.length} of ${explorers.length} explorer(s); \`light sync\` proves it once mined`,
        );
      }
      return accepted.length > 0 ? 0 : 1;
    } finally {
      headers.close();
    }
  },
});
