// status <txid>: pending, confirmed (block, height, confirmations) or failed, for a payment this
// wallet made, a mined transaction that touched its addresses, or an incoming payment that sync
// heard and validated (pending, incoming). A unique txid prefix is enough.
import { CliError, command } from '../../shared/node/cli/command.js';
import { formatCoins, formatSigned } from '../../shared/core/amount.js';
import { type TxEntry, meaning, walletTxs } from '../txview.js';
import { colours, formatTime, printJson } from '../terminal.js';
import { createWalletHint } from '../datadir.js';
import { withWallet } from '../wallet.js';

export function findTx(all: readonly TxEntry[], text: string): TxEntry {
  const q = text.toLowerCase();
  if (!/^[0-9a-f]{6,64}$/.test(q)) throw new CliError(`invalid txid "${text}": expected 64 hex digits (or a unique prefix of at least 6)`);
  const hits = all.filter((e) => e.txid.startsWith(q));
  if (hits.length === 0)
    throw new CliError(
      `unknown transaction ${text}: not a payment of this wallet, a mined transaction touching its addresses, nor an incoming payment heard by sync`,
    );
  if (hits.length > 1) throw new CliError(`txid prefix ${text} is ambiguous (${hits.length} transactions)`);
  return hits[0]!;
}

export const status = command({
  name: 'status',
  readsDataDir: createWalletHint,
  describe: 'show whether a payment is pending, confirmed or failed',
  args: ['<txid>'],
  async handler([text], _opts, ctx) {
    return withWallet(ctx, ({ db, keys }) => {
      const e = findTx(walletTxs(db), text!);
      const tipHeight = db.tip()?.height ?? 0;
      const confirmations = e.height === null ? 0 : tipHeight - e.height + 1;
      const p = e.payment;
      const inc = e.incoming;
      const scope = new Set(keys.map((k) => k.pkhHex));
      const m = meaning(e, scope, new Map(keys.map((k) => [k.pkhHex, k.name])), ctx.settings.params.addressVersion);
      if (ctx.json) {
        printJson(ctx, {
          txid: e.txid,
          status: e.status,
          blockHash: e.blockHash,
          height: e.height,
          confirmations,
          time: new Date(e.time).toISOString(),
          ...(p ? { from: p.fromAddress, to: p.to, amount: formatCoins(BigInt(p.amount)), fee: formatCoins(BigInt(p.fee)) } : {}),
          ...(inc
            ? { incoming: true, from: inc.fromAddress, amount: formatCoins(BigInt(inc.amount)), fee: formatCoins(BigInt(inc.fee)) }
            : {}),
          ...(m ? { net: formatSigned(m.amount) } : {}),
          ...(p?.failure
            ? { reason: p.failure.detail, ...(p.failure.conflictTxid ? { conflictingTxid: p.failure.conflictTxid } : {}) }
            : {}),
        });
        return 0;
      }
      const c = colours(ctx);
      ctx.io.out(`txid ${e.txid}`);
      if (e.status === 'confirmed') {
        ctx.io.out(
          `${c.green('confirmed')} in block ${e.blockHash} at height ${e.height}, ${confirmations} confirmation${confirmations === 1 ? '' : 's'} (${formatTime(e.time)})`,
        );
      } else if (inc) {
        ctx.io.out(`${c.yellow('pending (incoming)')}: not yet mined (heard ${formatTime(e.time)}); counts once it is in a block`);
      } else if (e.status === 'pending') {
        ctx.io.out(`${c.yellow('pending')}: not yet mined (made ${formatTime(e.time)})`);
      } else {
        ctx.io.out(`${c.red('failed')}: ${p?.failure?.detail ?? 'unknown reason'}`);
      }
      if (p)
        ctx.io.out(
          `payment of ${formatCoins(BigInt(p.amount))} from ${p.from} (${p.fromAddress}) to ${p.toName ? `${p.toName} (${p.to})` : p.to}, fee ${formatCoins(BigInt(p.fee))}, ${p.size} bytes`,
        );
      else if (m)
        ctx.io.out(
          `${m.direction === 'in' ? 'received' : 'net'} ${formatSigned(m.amount)} on ${m.names.join(', ')}${m.counterparty ? ` from ${m.counterparty}` : ''}`,
        );
      return 0;
    });
  },
});
