// Base58Check P2PKH addresses: base58(version byte || HASH160(pubkey) || checksum), where the
// checksum is the first 4 bytes of HASH256 of the rest. https://en.bitcoin.it/wiki/Base58Check_encoding
// decodeAddress is the one Base58Check decoder: it names what is wrong (AddressError.reason) and
// callers word it for their users (the wallet's parseAddress in src/wallet/keys.ts).
import { base58 } from '@scure/base';
import { equalBytes } from './bytes.js';
import { sha256d } from './hash.js';

export { base58 };

/** Bytes of a P2PKH address: version 1, HASH160 20, checksum 4. */
export const ADDRESS_BYTES = 25;
const CHECKSUM_BYTES = 4;
/** Longest text decodeAddress reads: 25 bytes take at most 34 Base58 characters; more is refused unread. */
export const MAX_ADDRESS_CHARS = 64;

/** What is wrong with an address: not Base58, the wrong size, a mistyped character, another network. */
export type AddressFault = 'alphabet' | 'length' | 'checksum' | 'version';

export class AddressError extends Error {
  override readonly name = 'AddressError';
  constructor(
    readonly reason: AddressFault,
    message: string,
    /** For 'length': the bytes decoded (undefined: text too long to decode); for 'version': the version byte found. */
    readonly found?: number,
  ) {
    super(message);
  }
}

function checksum(payload: Uint8Array): Uint8Array {
  return sha256d(payload).subarray(0, CHECKSUM_BYTES);
}

export function encodeAddress(hash160: Uint8Array, version: number): string {
  if (hash160.length !== 20) throw new AddressError('length', 'hash160 must be 20 bytes');
  if (!Number.isInteger(version) || version < 0 || version > 255) throw new AddressError('version', 'version must be a byte');
  const bytes = new Uint8Array(ADDRESS_BYTES);
  bytes[0] = version;
  bytes.set(hash160, 1);
  bytes.set(checksum(bytes.subarray(0, 21)), 21);
  return base58.encode(bytes);
}

/**
 * Decodes a Base58Check P2PKH address. Throws AddressError with reason 'alphabet', 'length' or
 * 'checksum'; and 'version' when expectVersion is given and the address has another.
 */
export function decodeAddress(s: string, expectVersion?: number): { version: number; hash160: Uint8Array } {
  if (s.length > MAX_ADDRESS_CHARS) throw new AddressError('length', `invalid address: ${s.length} characters, an address has at most 34`);
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(s);
  } catch {
    throw new AddressError('alphabet', 'invalid address: not Base58 (characters 0, O, I and l are not used)');
  }
  if (bytes.length !== ADDRESS_BYTES)
    throw new AddressError('length', `invalid address: ${bytes.length} bytes, an address has ${ADDRESS_BYTES}`, bytes.length);
  const payload = bytes.subarray(0, 21);
  if (!equalBytes(checksum(payload), bytes.subarray(21)))
    throw new AddressError('checksum', 'invalid address: checksum mismatch (mistyped?)');
  const version = payload[0]!;
  if (expectVersion !== undefined && version !== expectVersion) {
    throw new AddressError('version', `address of another network: version byte ${version}, expected ${expectVersion}`, version);
  }
  return { version, hash160: payload.slice(1) };
}
