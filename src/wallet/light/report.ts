// What the light wallet says about its balance: per key, from proven transactions only (coins.ts),
// with the part not yet mature, and what SPV cannot know. Shared by `light sync` and `light balance`.
import { formatCoins } from '../../shared/core/amount.js';
import { hashToHex } from '../../shared/core/bytes.js';
import { openAppDb } from '../../shared/node/store/schema.js';
import type { CommandContext } from '../../shared/node/cli/command.js';
import type { LocalKey } from '../keys.js';
import { maturity } from '../wallet.js';
import { type LightCoins, provenCoins } from './coins.js';
import type { LightHeaders } from './headers.js';

export const SPV_CAVEAT =
  'SPV: every amount above is in a transaction proven by a Merkle branch to a header of our best chain; a server can hide a payment, not fake one, so a payment no explorer shows is not counted (ask a second --explorer)';

export interface BalanceRow {
  readonly name: string;
  readonly address: string;
  readonly balance: bigint;
  readonly immature: bigint;
}

export interface LightBalance {
  readonly rows: BalanceRow[];
  readonly total: bigint;
  readonly immature: bigint;
  readonly coins: LightCoins;
}

export function lightBalance(headers: LightHeaders, keys: readonly LocalKey[], coinbaseMaturity: number): LightBalance {
  const coins = provenCoins(
    openAppDb(headers.store, 'light-txs')
      .getRange()
      .map(({ value }) => value),
    headers,
    new Set(keys.map((k) => k.pkhHex)),
  );
  const rows = keys.map((k) => {
    let balance = 0n;
    let immature = 0n;
    for (const c of coins.coins.filter((x) => x.pkh === k.pkhHex)) {
      balance += BigInt(c.value);
      if (!maturity(c.height, c.coinbase, headers.height, coinbaseMaturity).mature) immature += BigInt(c.value);
    }
    return { name: k.name, address: k.address, balance, immature };
  });
  const sum = (f: (r: BalanceRow) => bigint) => rows.reduce((a, r) => a + f(r), 0n);
  return { rows, total: sum((r) => r.balance), immature: sum((r) => r.immature), coins };
}

export function balanceJson(headers: LightHeaders, b: LightBalance): Record<string, unknown> {
  return {
    height: headers.height,
    tip: hashToHex(headers.tip.hash),
    balance: formatCoins(b.total),
    immature: formatCoins(b.immature),
    keys: b.rows.map((r) => ({ name: r.name, address: r.address, balance: formatCoins(r.balance), immature: formatCoins(r.immature) })),
    provenTxs: b.coins.proven.length,
    coins: b.coins.coins.length,
    dropped: b.coins.dropped,
  };
}

export function printBalance(ctx: CommandContext, headers: LightHeaders, b: LightBalance): void {
  for (const r of b.rows)
    ctx.io.out(`${r.name} ${r.address} ${formatCoins(r.balance)}${r.immature > 0n ? ` (${formatCoins(r.immature)} not yet mature)` : ''}`);
  ctx.io.out(
    `total ${formatCoins(b.total)} in ${b.coins.coins.length} coin(s) of ${b.coins.proven.length} proven transaction(s); headers to height ${headers.height} (tip ${hashToHex(headers.tip.hash).slice(0, 16)}…)`,
  );
  for (const d of b.coins.dropped) ctx.io.err(`not counted: ${d.txid}: ${d.reason}`);
  ctx.io.err(SPV_CAVEAT);
}
