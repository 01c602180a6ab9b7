// Amounts: bigint base units everywhere (1 coin = 10^8 base units, as Bitcoin's satoshi), parsed
// from and printed as exact decimal strings. No floating point ever touches an amount. The one coin
// parser and formatter: the wallet, the tools and the explorer's text all print through it.
import { COIN, MAX_MONEY } from './params.js';

export const DECIMALS = 8;

export class AmountError extends Error {
  override readonly name = 'AmountError';
}

/** Coins: "12", "12.5" or ".5". */
const AMOUNT_RE = /^(?=\.?\d)(\d*)(?:\.(\d+))?$/;

/**
 * Parses a coin amount such as "12.5" or "0.00000001" into base units. Accepts digits with an
 * optional fraction of at most 8 digits (".5" too); rejects signs, exponents, spaces, empty parts and anything
 * above the 21 million coin limit.
 */
export function parseCoins(text: string, what = 'amount'): bigint {
  const m = AMOUNT_RE.exec(text);
  if (!m) {
    if (/^\s*-/.test(text)) throw new AmountError(`invalid ${what} "${text}": must not be negative`);
    throw new AmountError(`invalid ${what} "${text}": expected coins as a decimal number such as 12.5 or 0.00000001`);
  }
  const whole = m[1] || '0';
  const frac = m[2] ?? '';
  if (frac.length > DECIMALS) throw new AmountError(`invalid ${what} "${text}": at most ${DECIMALS} decimals (1 base unit = 0.00000001)`);
  if (whole.length > 12) throw new AmountError(`invalid ${what} "${text}": more than 21 million coins`);
  const units = BigInt(whole) * COIN + BigInt(frac.padEnd(DECIMALS, '0') || '0');
  if (units > MAX_MONEY) throw new AmountError(`invalid ${what} "${text}": more than 21 million coins`);
  return units;
}

/** "12.50000000": always 8 decimals. */
export function formatCoins(units: bigint): string {
  const neg = units < 0n;
  const v = neg ? -units : units;
  const s = `${v / COIN}.${(v % COIN).toString().padStart(DECIMALS, '0')}`;
  return neg ? `-${s}` : s;
}

/** "+1.00000000", "-1.00010000" or "0.00000000". */
export function formatSigned(units: bigint): string {
  if (units === 0n) return formatCoins(0n);
  return units > 0n ? `+${formatCoins(units)}` : formatCoins(units);
}

/** "50", "12.5" or "0.00000001": no trailing zeros, for prose ("each block pays 50 coins"). */
export function formatCoinsShort(units: bigint): string {
  return formatCoins(units).replace(/\.?0+$/, '');
}
