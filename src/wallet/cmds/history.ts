// history [name]: payments in and out of local addresses (or of one), newest first; incoming
// payments heard by sync and not mined yet show as "in", "pending". Mined rewards are grouped, one
// row per REWARD_GROUP_BLOCKS blocks (a miner earns one per block: hundreds would hide the few
// payments), unless --all; --limit N shows the newest N rows (20 in the table by default).
import { type CommandContext, CliError, command, flag, numberOption } from '../../shared/node/cli/command.js';
import { formatCoins, formatSigned } from '../../shared/core/amount.js';
import type { ReorgNotice } from '../../shared/node/store/schema.js';
import { reorgSentence } from '../reorg-notice.js';
import { type TxEntry, type TxMeaning, meaning, walletTxs } from '../txview.js';
import { colours, formatTime, printJson, shortHash, table } from '../terminal.js';
import { createWalletHint } from '../datadir.js';
import { withWallet } from '../wallet.js';

/** Mined rewards are grouped by this many blocks of height. */
export const REWARD_GROUP_BLOCKS = 100;
/** Table rows shown without --limit or --all. */
const DEFAULT_TABLE_ROWS = 20;

type Row = { readonly e: TxEntry; readonly m: TxMeaning };
/** Several mined rewards in one span of heights, shown as one row. */
export interface RewardGroup {
  readonly count: number;
  readonly amount: bigint;
  readonly fromHeight: number;
  readonly toHeight: number;
  readonly names: readonly string[];
  readonly time: number;
  /** The newest reward of the group (shown as itself when alone). */
  readonly first: Row;
}

const isReward = (r: Row) => r.e.coinbase && r.e.status === 'confirmed' && r.e.height !== null;

/** Neighbouring confirmed rewards (newest first) in one REWARD_GROUP_BLOCKS span and to the same keys become one row. */
export function groupRewards(rows: readonly Row[]): (Row | RewardGroup)[] {
  const out: (Row | RewardGroup)[] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    if (
      isReward(r) &&
      last &&
      'count' in last &&
      Math.floor(last.fromHeight / REWARD_GROUP_BLOCKS) === Math.floor(r.e.height! / REWARD_GROUP_BLOCKS) &&
      last.names.join() === r.m.names.join()
    ) {
      out[out.length - 1] = { ...last, count: last.count + 1, amount: last.amount + r.m.amount, fromHeight: r.e.height! };
    } else if (isReward(r)) {
      out.push({
        count: 1,
        amount: r.m.amount,
        fromHeight: r.e.height!,
        toHeight: r.e.height!,
        names: r.m.names,
        time: r.e.time,
        first: r,
      });
    } else out.push(r);
  }
  return out.map((x) => ('count' in x && x.count === 1 ? x.first : x));
}

export const history = command({
  name: 'history',
  readsDataDir: createWalletHint,
  describe: 'list payments in and out of local addresses, newest first',
  args: ['[name]'],
  options: {
    limit: numberOption(
      '--limit <n>',
      `show the newest n rows (default: ${DEFAULT_TABLE_ROWS} in the table, all with --json)`,
      1,
      1_000_000,
    ),
    all: flag('--all', 'every row: each mined reward on its own, no limit'),
  },
  async handler([name], opts, ctx) {
    const all = opts.all;
    const limit = all ? Infinity : (opts.limit ?? (ctx.json ? Infinity : DEFAULT_TABLE_ROWS));
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
          rows.slice(0, limit).map(({ e, m }) => ({
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
        printReorgs(ctx, db.reorgNotices());
        return 0;
      }
      const lines = all ? rows : groupRewards(rows);
      const shown = lines.slice(0, limit);
      const hidden = lines.length - shown.length;
      printTable(ctx, shown);
      const c = colours(ctx);
      if (hidden > 0) ctx.io.out(c.dim(`${hidden} older row${hidden === 1 ? '' : 's'} not shown: --limit N for more, --all for every row`));
      ctx.io.out(c.dim('amounts are net for the address(es) shown, fees included; `mvb-wallet status <txid prefix>` for details'));
      printReorgs(ctx, db.reorgNotices());
      return 0;
    });
  },
});

/** Reorganisation notices shown under the history, newest first. */
const MAX_REORGS_SHOWN = 5;

/** Why a balance changed without a payment: the last reorganisations that touched this wallet. */
function printReorgs(ctx: CommandContext, notices: readonly ReorgNotice[]): void {
  if (notices.length === 0) return;
  const c = colours(ctx);
  ctx.io.out(
    c.yellow(`reorganisations that changed this wallet (the last ${Math.min(notices.length, MAX_REORGS_SHOWN)} of ${notices.length}):`),
  );
  for (const n of [...notices].reverse().slice(0, MAX_REORGS_SHOWN))
    ctx.io.out(`  ${new Date(n.at).toLocaleString()}  ${reorgSentence(n)}`);
}

function printTable(ctx: CommandContext, rows: readonly (Row | RewardGroup)[]): void {
  const c = colours(ctx);
  const t = table(
    ctx,
    ['Time', 'Height', 'Dir', 'Amount', 'Counterparty', 'Local', 'Status', 'Txid'],
    ['left', 'right', 'left', 'right', 'left', 'left', 'left', 'left'],
  );
  for (const r of rows) {
    if ('count' in r) {
      t.push([
        formatTime(r.time),
        `${r.fromHeight}-${r.toHeight}`,
        'in',
        c.green(formatSigned(r.amount)),
        `${r.count} mined rewards`,
        r.names.join(', '),
        'confirmed',
        '',
      ]);
      continue;
    }
    const { e, m } = r;
    const amount = m.amount > 0n ? c.green(formatSigned(m.amount)) : m.amount < 0n ? c.red(formatSigned(m.amount)) : formatSigned(m.amount);
    const st = e.status === 'confirmed' ? e.status : e.status === 'pending' ? c.yellow(e.status) : c.red(e.status);
    t.push([
      formatTime(e.time),
      e.height === null ? '' : String(e.height),
      m.direction,
      amount,
      m.counterparty ?? '',
      m.names.join(', '),
      st,
      shortHash(e.txid),
    ]);
  }
  ctx.io.out(t.toString());
}
