// `mvb devnet fund <address|wallet-K> <amount>`: coins for a newcomer in seconds. The devnet's
// miners pay their rewards to its wallets; this pays from the wallet holding the most spendable
// rewards (never the one being funded) with the real `mvb-wallet send`, whose sync loop then
// rebroadcasts it until a miner includes it.
import type { AddressRow } from '../../../shared/node/json-rows.js';
import { CliError, command } from '../../../shared/node/cli/command.js';
import { loadSettings } from '../../../shared/node/cli/config.js';
import { DIR_OPTION, type DevnetNode, requireState, runWallet } from './state.js';

export interface Funded {
  readonly txid: string;
  readonly from: string;
  readonly fromDatadir: string;
  readonly to: string;
  readonly amount: string;
}

/** Spendable coins of a devnet wallet now (balance less immature rewards), 0 if it cannot say. */
function spendable(w: DevnetNode): number {
  const r = runWallet(w.datadir, ['list-addresses', '--json']);
  if (r.code !== 0) return 0;
  const rows = JSON.parse(r.stdout) as AddressRow[];
  const row = rows.find((x) => x.name === w.name);
  return row ? Number(row.balance) - Number(row.immature ?? 0) : 0;
}

export function devnetFund(dirArg: string, to: string, amount: string): Funded {
  const state = requireState(dirArg);
  const wallets = state.nodes.filter((n) => n.kind === 'wallet');
  const target = wallets.find((w) => w.name === to);
  if (!target && /^wallet-\d+$/.test(to))
    throw new CliError(`this devnet has no ${to} (it has ${wallets.map((w) => w.name).join(', ') || 'no wallets'})`, 2);
  const address = target ? target.address : to;
  if (!address) throw new CliError(`${to} has no address in the devnet's record`);
  const sources = wallets.filter((w) => w !== target);
  if (!sources.length)
    throw new CliError(
      `no other wallet in this devnet holds miner rewards to pay from (start it with --wallets ${wallets.length + 1} or more)`,
    );
  const ranked = sources.map((w) => ({ w, coins: spendable(w) })).sort((a, b) => b.coins - a.coins);
  let lastRefusal = '';
  for (const { w } of ranked) {
    const r = runWallet(w.datadir, ['send', w.name, amount, address]);
    if (r.code === 0) return { txid: r.stdout.trim().split('\n').pop()!, from: w.name, fromDatadir: w.datadir, to, amount };
    lastRefusal = r.out
      .trim()
      .split('\n')
      .pop()!
      .replace(/^error: /, '');
    // Another wallet may have the coins; any other refusal (a bad amount or address) is final.
    if (!/insufficient funds|not yet mature/.test(lastRefusal)) throw new CliError(lastRefusal, 2);
  }
  const maturity = loadSettings({ network: state.network }).params.coinbaseMaturity;
  throw new CliError(
    `no wallet of this devnet can pay ${amount} yet (mined rewards can be spent ${maturity} blocks after they are mined): ${lastRefusal}`,
  );
}

export const fundCommand = command({
  name: 'fund',
  describe: "pay coins from the devnet's mined rewards to a devnet wallet (wallet-K) or an address",
  args: ['<to>', '<amount>'],
  options: { dir: DIR_OPTION },
  async handler([to, amount], opts, ctx) {
    const f = devnetFund(opts.dir, to!, amount!);
    if (ctx.json) ctx.io.out(JSON.stringify(f));
    else {
      ctx.io.out(f.txid);
      ctx.io.err(
        `paid ${amount} coins from ${f.from} to ${to}: pending until a miner includes it (seconds); follow it with: mvb-wallet --datadir ${f.fromDatadir} status ${f.txid}`,
      );
    }
    return 0;
  },
});
