// Every path and query parameter passes through one of these checks before use: hex of an exact
// length, decimal numbers with a bounded number of digits and range, addresses by checksum and
// network. A failure is an HttpError(400) with one line; nothing unchecked reaches a lookup.
import { decodeAddress } from '../shared/core/address.js';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const bad = (msg: string): never => {
  throw new HttpError(400, msg);
};
export const notFound = (msg: string): never => {
  throw new HttpError(404, msg);
};

/** A 32-byte hash in display hex (64 hex digits, either case); returned lowercase. */
export function hash64(s: string, what: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(s)) bad(`invalid ${what}: expected 64 hex digits`);
  return s.toLowerCase();
}

/** A decimal integer from 0 to max, at most 10 digits, no sign, no leading zeros beyond "0". */
export function uint(s: string, what: string, max: number): number {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(s)) bad(`invalid ${what}: expected a whole number from 0 to ${max}`);
  const n = Number(s);
  if (n > max) bad(`invalid ${what}: ${s} is above ${max}`);
  return n;
}

/** A Base58Check P2PKH address of this network; returns its pubkey hash (hex). */
export function address(s: string, version: number): string {
  if (s.length < 25 || s.length > 40 || !/^[1-9A-HJ-NP-Za-km-z]+$/.test(s)) bad('invalid address: expected a Base58Check address');
  let d: { version: number; hash160: Uint8Array };
  try {
    d = decodeAddress(s);
  } catch (e) {
    return bad((e as Error).message);
  }
  if (d.version !== version) bad(`invalid address: version ${d.version} is another network's (this one uses ${version})`);
  return Buffer.from(d.hash160).toString('hex');
}

/** An optional query number (?last=N): default when absent. */
export function queryUint(q: URLSearchParams, key: string, def: number, max: number): number {
  const v = q.get(key);
  return v === null ? def : uint(v, key, max);
}

/** An Esplora scripthash: SHA-256 of a scriptPubKey in reversed hex (64 hex digits); returned lowercase. */
export function scripthash(s: string): string {
  return hash64(s, 'scripthash');
}

/** The start of a Base58 address: 1 to 34 Base58 characters. */
export function addressPrefix(s: string): string {
  if (!/^[1-9A-HJ-NP-Za-km-z]{1,34}$/.test(s)) bad('invalid address prefix: expected 1 to 34 Base58 characters');
  return s;
}

/** One of a fixed set of words (mempool.space's intervals: 24h, 1w, ...). */
export function oneOf<T extends string>(s: string, what: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(s)) bad(`invalid ${what}: expected one of ${allowed.join(', ')}`);
  return s as T;
}

/** A JSON body: at most maxBytes, parsed, or a 400 with one line. */
export function jsonBody(body: string, maxBytes: number): unknown {
  if (body.length > maxBytes) bad(`request body larger than ${maxBytes} bytes`);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return bad('invalid JSON body');
  }
}
