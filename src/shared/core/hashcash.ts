// Hashcash stamps (Adam Back, 1997; Bitcoin's proof of work is the same idea on block headers): a
// request carries a nonce such that SHA-256d("challenge:resource:nonce") starts with `bits` zero
// bits, so asking costs about 2^bits hashes and checking costs one. The classroom faucet asks for
// one per grant, so a student with many addresses pays for each (explorer/faucet.ts), and
// `mvb-wallet join` makes it.
import { sha256d } from './hash.js';

/** Longest nonce accepted, in decimal digits. */
export const MAX_STAMP_NONCE_DIGITS = 12;

/** True if the first `bits` bits of h are zero. */
function leadingZeroBits(h: Uint8Array, bits: number): boolean {
  let left = bits;
  for (const byte of h) {
    if (left <= 0) return true;
    if (left < 8) return byte >> (8 - left) === 0;
    if (byte !== 0) return false;
    left -= 8;
  }
  return left <= 0;
}

const NONCE_RE = new RegExp(`^[0-9]{1,${MAX_STAMP_NONCE_DIGITS}}$`);

/** SHA-256d over bytes: core's (noble) by default; a process may pass a faster one (node:crypto's). */
export type Sha256d = (data: Uint8Array) => Uint8Array;

/** True if nonce (decimal digits) stamps "challenge:resource" with `bits` leading zero bits. */
export function stampValid(challenge: string, resource: string, nonce: string, bits: number, hash: Sha256d = sha256d): boolean {
  if (!NONCE_RE.test(nonce)) return false;
  return leadingZeroBits(hash(new TextEncoder().encode(`${challenge}:${resource}:${nonce}`)), bits);
}

/** The first nonce that stamps "challenge:resource"; undefined after maxTries. About 2^bits hashes. */
export function makeStamp(
  challenge: string,
  resource: string,
  bits: number,
  hash: Sha256d = sha256d,
  maxTries = 2 ** 30,
): string | undefined {
  const prefix = new TextEncoder().encode(`${challenge}:${resource}:`);
  const buf = new Uint8Array(prefix.length + MAX_STAMP_NONCE_DIGITS);
  buf.set(prefix);
  for (let n = 0; n < maxTries; n++) {
    const digits = String(n);
    for (let i = 0; i < digits.length; i++) buf[prefix.length + i] = digits.charCodeAt(i);
    if (leadingZeroBits(hash(buf.subarray(0, prefix.length + digits.length)), bits)) return digits;
  }
  return undefined;
}
