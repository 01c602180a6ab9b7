// list-addresses: every local address with its confirmed balance (from the coin index), what
// pending payments will change (- outgoing, + incoming: payments this wallet made between its own
// addresses, and payments from anyone that this wallet's sync heard on the LAN and validated
// against its own chain, see incoming.ts), totals, and how far the local chain has synced.
import { type CommandContext, command } from '../../shared/node/cli/command.js';
import type { AddressRow } from '../../shared/node/json-rows.js';
import { formatCoins, formatSigned } from '../../shared/core/amount.js';
import { reorgSentence, recentNotices } from '../reorg-notice.js';
import { netFor } from '../db/index.js';
import { ago, colours, printJson, shortHash, table } from '../terminal.js';
import { createWalletHint, runningSyncPid } from '../datadir.js';
import { type OpenWallet, maturity, withWallet } from '../wallet.js';

/** One row per local key: confirmed balance, its immature part, and what pending payments change. */
function addressRows(w: OpenWallet, coinbaseMaturity: number, tipHeight: number): Row[] {
  const coins = w.db.walletCoins();
  const pending = w.db.pendingPayments();
  const incoming = w.db.incomingPending();
  return w.keys.map((k) => {
    const mine = coins.filter((c) => c.pkh === k.pkhHex);
    const balance = mine.reduce((a, c) => a + BigInt(c.value), 0n);
    let immature = 0n;
    let maturesIn = 0;
    for (const c of mine) {
      const m = maturity(c.height, c.coinbase, tipHeight, coinbaseMaturity);
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
}

type Row = { key: OpenWallet['keys'][number]; balance: bigint; pending: bigint; immature: bigint; maturesIn: number };

/** The table with its totals, then what is immature and what is pending, in words. */
function printTable(ctx: CommandContext, rows: readonly Row[], pendingCount: number, incomingCount: number): void {
  const c = colours(ctx);
  if (rows.length === 0) {
    ctx.io.out('no addresses yet: create one with `mvb-wallet new-address <name>`');
    return;
  }
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
      c.dim(`of which ${formatCoins(immature)} are mined rewards not yet mature (all mature within ${last} block${last === 1 ? '' : 's'})`),
    );
  }
  if (pendingCount || incomingCount) {
    const parts = [
      ...(pendingCount ? [`${pendingCount} payment(s) made here`] : []),
      ...(incomingCount ? [`${incomingCount} incoming payment(s)`] : []),
    ];
    ctx.io.out(
      c.dim(
        `pending: ${parts.join(' and ')} not yet mined; + counts payments between this wallet's own addresses and payments from anyone that this wallet's sync heard on the LAN and validated`,
      ),
    );
  }
}

/** How far the local chain has synced, against the best height heard from miners. */
function printChainLine(ctx: CommandContext, w: OpenWallet): void {
  const c = colours(ctx);
  const tip = w.db.tip();
  const best = w.db.bestHeard();
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
}

/** A reorganisation of the last day that changed a balance here: say so under the table (a balance must never change silently). */
function printRecentReorgs(ctx: CommandContext, w: OpenWallet): void {
  const recent = recentNotices(w.db.reorgNotices(), Date.now(), 24 * 3600_000);
  const c = colours(ctx);
  for (const n of recent.slice(0, 3)) ctx.io.out(c.yellow(`${new Date(n.at).toLocaleTimeString()} ${reorgSentence(n)}`));
  if (recent.length > 3) ctx.io.out(c.dim(`${recent.length - 3} more today: mvb-wallet history`));
}

export const listAddresses = command({
  name: 'list-addresses',
  readsDataDir: createWalletHint,
  describe: 'list local addresses with balances and pending payments',
  async handler(_args, _opts, ctx) {
    return withWallet(ctx, (w) => {
      // A damaged key file must not just vanish from the list (nor its balance from the total).
      for (const p of w.ks.problems()) ctx.io.err(`warning: key "${p.name}" (${w.ks.dir}/${p.name}.pem): ${p.problem}`);
      const tipHeight = w.db.tip()?.height ?? 0;
      const rows = addressRows(w, ctx.settings.params.coinbaseMaturity, tipHeight);
      if (ctx.json) {
        const json: AddressRow[] = rows.map((r) => ({
          name: r.key.name,
          address: r.key.address,
          balance: formatCoins(r.balance),
          pending: formatSigned(r.pending),
          immature: formatCoins(r.immature),
          height: tipHeight,
        }));
        printJson(ctx, json);
        return 0;
      }
      printTable(ctx, rows, w.db.pendingPayments().length, w.db.incomingPending().length);
      printChainLine(ctx, w);
      printRecentReorgs(ctx, w);
      return 0;
    });
  },
});
