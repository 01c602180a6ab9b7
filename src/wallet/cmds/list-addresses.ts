// list-addresses: every local address with its confirmed balance (from the coin index), what
// pending payments will change (- outgoing, + incoming: payments this wallet made between its own
// addresses, and payments from anyone that this wallet's sync heard on the LAN and validated
// against its own chain, see incoming.ts), totals, and how far the local chain has synced.
import type { CliCommand } from '../../shared/node/cli/runner.js';
import type { AddressRow } from '../../shared/node/json-rows.js';
import { formatCoins, formatSigned } from '../amount.js';
import { netFor } from '../db.js';
import { ago, colours, printJson, shortHash, table } from '../terminal.js';
import { createWalletHint, runningSyncPid } from '../datadir.js';
import { maturity, withWallet } from '../wallet.js';

export const listAddresses: CliCommand = {
  name: 'list-addresses',
  readsDataDir: createWalletHint,
  describe: 'list local addresses with balances and pending payments',
  async handler(_args, _opts, ctx) {
    return withWallet(ctx, ({ db, ks, keys }) => {
      const params = ctx.settings.params;
      // A damaged key file must not just vanish from the list (nor its balance from the total).
      for (const p of ks.problems()) ctx.io.err(`warning: key "${p.name}" (${ks.dir}/${p.name}.pem): ${p.problem}`);
      const tip = db.tip();
      const tipHeight = tip?.height ?? 0;
      const coins = db.walletCoins();
      const pending = db.pendingPayments();
      const incoming = db.incomingPending();
      const rows = keys.map((k) => {
        const mine = coins.filter((c) => c.pkh === k.pkhHex);
        const balance = mine.reduce((a, c) => a + BigInt(c.value), 0n);
        let immature = 0n;
        let maturesIn = 0;
        for (const c of mine) {
          const m = maturity(c.height, c.coinbase, tipHeight, params.coinbaseMaturity);
          if (!m.mature) {
            immature += BigInt(c.value);
            maturesIn = Math.max(maturesIn, m.inBlocks);
          }
        }
        const one = new Set([k.pkhHex]);
        const pend =
          pending.reduce((a, p) => a + netFor(p.inputs, p.outputs, one).net, 0n) +
          incoming.reduce((a, r) => a + netFor(r.inputs, r.outputs, one).net, 0n);
        return { key: k, balance, pending: pend, immature, maturesIn };
      });
      if (ctx.json) {
        printJson(
          ctx,
          rows.map((r) => ({
            name: r.key.name,
            address: r.key.address,
            balance: formatCoins(r.balance),
            pending: formatSigned(r.pending),
            immature: formatCoins(r.immature),
            height: tipHeight,
          })),
        );
        return 0;
      }
      const c = colours(ctx);
      if (rows.length === 0) {
        ctx.io.out('no addresses yet: create one with `mvb-wallet new-address <name>`');
      } else {
        const t = table(ctx, ['Name', 'Balance', 'Pending', 'Address'], ['left', 'right', 'right', 'left']);
        const pendingCell = (v: bigint) => (v > 0n ? c.green(formatSigned(v)) : v < 0n ? c.red(formatSigned(v)) : c.dim(formatSigned(v)));
        for (const r of rows)
          t.push([r.key.name + (r.key.encrypted ? c.dim(' (enc)') : ''), formatCoins(r.balance), pendingCell(r.pending), r.key.address]);
        const total = rows.reduce((a, r) => a + r.balance, 0n);
        const totalPending = rows.reduce((a, r) => a + r.pending, 0n);
        t.push([c.bold('total'), c.bold(formatCoins(total)), pendingCell(totalPending), '']);
        ctx.io.out(t.toString());
        const immature = rows.reduce((a, r) => a + r.immature, 0n);
        if (immature > 0n) {
          const last = Math.max(...rows.map((r) => r.maturesIn));
          ctx.io.out(
            c.dim(
              `of which ${formatCoins(immature)} are mined rewards not yet mature (all mature within ${last} block${last === 1 ? '' : 's'})`,
            ),
          );
        }
        if (pending.length || incoming.length) {
          const parts = [
            ...(pending.length ? [`${pending.length} payment(s) made here`] : []),
            ...(incoming.length ? [`${incoming.length} incoming payment(s)`] : []),
          ];
          ctx.io.out(
            c.dim(
              `pending: ${parts.join(' and ')} not yet mined; + counts payments between this wallet's own addresses and payments from anyone that this wallet's sync heard on the LAN and validated`,
            ),
          );
        }
      }
      const best = db.bestHeard();
      const running = runningSyncPid(ctx.datadir);
      const syncNote = running ? ` (sync running, pid ${running})` : '';
      if (!tip) {
        ctx.io.out(`chain: not synced yet; run \`mvb-wallet sync\`${syncNote}`);
      } else if (best) {
        const behind = best.height - tip.height;
        const state = behind > 0 ? c.yellow(`${behind} block${behind === 1 ? '' : 's'} behind`) : c.green('synced');
        ctx.io.out(
          `chain: height ${tip.height} of ${best.height} heard from ${best.peers} miner${best.peers === 1 ? '' : 's'} ${ago(best.at)}: ${state}; tip ${shortHash(tip.hash)}${syncNote}`,
        );
      } else {
        ctx.io.out(`chain: height ${tip.height}, tip ${shortHash(tip.hash)}; no miner heard yet${syncNote}`);
      }
      return 0;
    });
  },
};
