// Field schemas more than one input shares: an amount of coins as people write it in a file
// (experiments' payments, scenarios' payments and fees), an IPv4 address (config.json).
import { isIPv4 } from 'node:net';
import { type Schema, reject, show } from './schema.js';

/** Whole coins up to 8 digits, then up to 8 decimals (1 coin = 10^8 base units, as in Bitcoin). */
const COINS_RE = /^(0|[1-9]\d{0,7})(\.\d{1,8})?$/;
const ZERO_RE = /^0(\.0*)?$/;

/**
 * An amount of coins as a decimal string ("1.5") or a JSON number (1.5), returned as the string
 * the wallet parses into base units (no float arithmetic on money). `positive`: zero is refused.
 */
export function coins(o: { readonly positive: boolean }): Schema<string> {
  const expected = `${o.positive ? 'a positive' : 'an'} amount of coins (up to 8 decimals)`;
  return {
    expected,
    read: (v, at) => {
      const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
      if (typeof text !== 'string' || text.length > 20 || !COINS_RE.test(text) || (o.positive && ZERO_RE.test(text)))
        reject(at, `expected ${expected}, got ${show(v)}`);
      return text as string;
    },
  };
}

/** An IPv4 address in dotted form. */
export function ipv4(): Schema<string> {
  const expected = 'an IPv4 address such as 192.168.1.255';
  return {
    expected,
    read: (v, at) => (typeof v === 'string' && v.length <= 15 && isIPv4(v) ? v : reject(at, `expected ${expected}, got ${show(v)}`)),
  };
}
