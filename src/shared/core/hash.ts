// Bitcoin's two hash constructions: HASH256 = SHA-256(SHA-256(x)) names blocks and transactions,
// HASH160 = RIPEMD-160(SHA-256(x)) names public keys inside P2PKH scripts and addresses.
import { sha256 } from '@noble/hashes/sha2.js';
import { ripemd160 } from '@noble/hashes/legacy.js';

export { sha256 };

/** Double SHA-256 ("HASH256" in Core). Output is in internal byte order. */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

/** RIPEMD-160 of SHA-256 ("HASH160" in Core): the 20 bytes a P2PKH output commits to. */
export function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}
