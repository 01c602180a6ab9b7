// history [name]: payments in and out of local addresses (or of one), newest first; incoming
// payments heard by sync and not mined yet show as "in", "pending".
import { type CliCommand, CliError } from '../../shared/node/cli.js';
import { formatCoins, formatSigned } from '../amount.js';
import { meaning, walletTxs } from '../txview.js';
import { colours, formatTime, printJson, shortHash, table } from '../terminal.js';
import { createWalletHint } from '../datadir.js';
import { withWallet } from '../wallet.js';

export const history: CliCommand = {
  name: 'history',
  readsDataDir: createWalletHint,
  describe: 'list payments in and out of local addresses, newest first',
  args: ['[name]'],
  async handler([name], _opts, ctx) {
    return withWallet(ctx, ({ db, keys }) => {
      let scopeKeys = keys;
      if (name !== undefined) {
        scopeKeys = keys.filter((k) => k.name === name || k.address === name);
        if (scopeKeys.length === 0) throw new CliError(`no local address named "${name}" (see mvb-wallet list-addresses)`);
      }
      const scope = new Set(scopeKeys.map((k) => k.pkhHex));
      const nameOf = new Map(keys.map((k) => [k.pkhHex, k.name]));
      const version = ctx.settings.params.addressVersion;
      const rows = walletTxs(db).flatMap((e) => {
        const m = meaning(e, scope, nameOf, version);
        return m ? [{ e, m }] : [];
      });
      if (ctx.json) {
        printJson(
          ctx,
          rows.map(({ e, m }) => ({
            txid: e.txid,
            status: e.status,
            direction: m.direction,
            amount: formatSigned(m.amount),
            fee: m.fee === null ? null : formatCoins(m.fee),
            counterparty: m.counterparty,
            names: m.names,
            height: e.height,
            blockHash: e.blockHash,
            time: new Date(e.time).toISOString(),
          })),
        );
        return 0;
      }
      if (rows.length === 0) {
        ctx.io.out(name === undefined ? 'no payments yet' : `no payments for ${name} yet`);
        return 0;
      }
      const c = colours(ctx);
      const t = table(ctx, ['Time', 'Height', 'Dir', 'Amount', 'Counterparty', 'Local', 'Status', 'Txid'], ['left', 'right', 'left', 'right', 'left', 'left', 'left', 'left']);
      for (const { e, m } of rows) {
        const amount = m.amount > 0n ? c.green(formatSigned(m.amount)) : m.amount < 0n ? c.red(formatSigned(m.amount)) : formatSigned(m.amount);
        const st = e.status === 'confirmed' ? e.status : e.status === 'pending' ? c.yellow(e.status) : c.red(e.status);
        t.push([formatTime(e.time), e.height === null ? '' : String(e.height), m.direction, amount, m.counterparty ?? '', m.names.join(', '), st, shortHash(e.txid)]);
      }
      ctx.io.out(t.toString());
      ctx.io.out(c.dim('amounts are net for the address(es) shown, fees included; `mvb-wallet status <txid prefix>` for details'));
      return 0;
    });
  },
};
