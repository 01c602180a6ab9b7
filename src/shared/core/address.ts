// Base58Check P2PKH addresses: base58(version byte || HASH160(pubkey) || checksum), where the
// checksum is the first 4 bytes of HASH256 of the rest. https://en.bitcoin.it/wiki/Base58Check_encoding
import { base58, createBase58check } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';

export { base58 };
export const base58check = createBase58check(sha256);

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

export function encodeAddress(hash160: Uint8Array, version: number): string {
  if (hash160.length !== 20) throw new AddressError('hash160 must be 20 bytes');
  if (!Number.isInteger(version) || version < 0 || version > 255) throw new AddressError('version must be a byte');
  const payload = new Uint8Array(21);
  payload[0] = version;
  payload.set(hash160, 1);
  return base58check.encode(payload);
}

/** Throws AddressError on a bad alphabet, checksum or length. */
export function decodeAddress(s: string): { version: number; hash160: Uint8Array } {
  let payload: Uint8Array;
  try {
    payload = base58check.decode(s);
  } catch (e) {
    throw new AddressError(`invalid address: ${(e as Error).message}`);
  }
  if (payload.length !== 21) throw new AddressError(`invalid address: payload is ${payload.length} bytes, expected 21`);
  return { version: payload[0]!, hash160: payload.slice(1) };
}
