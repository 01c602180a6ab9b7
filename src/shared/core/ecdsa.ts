// ECDSA over secp256k1 with Bitcoin's signature rules: strict DER (BIP66), low S (BIP62/BIP146's
// LOW_S, standard since Core 0.11.1), and compressed or uncompressed SEC1 public keys.
import * as secp from '@noble/secp256k1';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError } from './bytes.js';

/**
 * noble-secp256k1 needs hash functions to sign synchronously (RFC 6979 uses HMAC-SHA256). Nothing
 * is set when this module is imported: signDer calls this before its first signature, so a
 * program that only verifies never touches noble's configuration.
 */
export function useNobleHashes(): void {
  if (secp.hashes.hmacSha256 !== undefined) return;
  secp.hashes.sha256 = sha256;
  secp.hashes.hmacSha256 = (key: Uint8Array, msg: Uint8Array) => hmac(sha256, key, msg);
}

/**
 * Verifies a strict-DER signature over SHA-256(firstHash) (Bitcoin's sighash is
 * SHA-256(SHA-256(preimage)), so the caller passes the first hash). The core's default is
 * nobleVerifier; the node layer passes a faster one (OpenSSL through node:crypto) with the same
 * strict-DER, low-S and key rules.
 */
export type SignatureVerifier = (der: Uint8Array, firstHash: Uint8Array, pubkey: Uint8Array, opts?: { allowHighS?: boolean }) => boolean;

/** The pure-JS verifier: SHA-256 of firstHash, then verifyDer. */
export const nobleVerifier: SignatureVerifier = (der, firstHash, pubkey, opts = {}) => verifyDer(der, sha256(firstHash), pubkey, opts);

/** Strict DER, key encoding and range/low-S checks every verifier applies before the curve math; r and s, or undefined. */
export function checkedSignature(der: Uint8Array, pubkey: Uint8Array, allowHighS = false): { r: bigint; s: bigint } | undefined {
  if (!isStrictDer(der) || !isPubkeyEncoding(pubkey)) return undefined;
  const { r, s } = parseDer(der);
  if (r < 1n || r >= CURVE_N || s < 1n || s >= CURVE_N) return undefined;
  if (!allowHighS && !isLowS(s)) return undefined;
  return { r, s };
}

/** Curve order n. */
export const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = CURVE_N >> 1n;

/**
 * BIP66 IsValidSignatureEncoding applied to a DER signature without the hash type byte:
 * 0x30 len 0x02 lenR R 0x02 lenS S, with minimal, positive R and S.
 */
export function isStrictDer(der: Uint8Array): boolean {
  const n = der.length;
  // With the hash type byte Core allows 9..73 bytes; without it, 8..72.
  if (n < 8 || n > 72) return false;
  if (der[0] !== 0x30) return false;
  if (der[1] !== n - 2) return false;
  const lenR = der[3]!;
  if (5 + lenR >= n) return false;
  const lenS = der[5 + lenR]!;
  if (lenR + lenS + 6 !== n) return false;
  if (der[2] !== 0x02) return false;
  if (lenR === 0) return false;
  if (der[4]! & 0x80) return false; // negative R
  if (lenR > 1 && der[4] === 0x00 && !(der[5]! & 0x80)) return false; // R padded needlessly
  if (der[lenR + 4] !== 0x02) return false;
  if (lenS === 0) return false;
  if (der[lenR + 6]! & 0x80) return false; // negative S
  if (lenS > 1 && der[lenR + 6] === 0x00 && !(der[lenR + 7]! & 0x80)) return false;
  return true;
}

/** BIP66 check on a signature as it appears in a scriptSig: DER followed by one hash type byte. */
export function isValidSignatureEncoding(sigWithHashType: Uint8Array): boolean {
  return sigWithHashType.length >= 1 && isStrictDer(sigWithHashType.subarray(0, sigWithHashType.length - 1));
}

function bytesToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

function bigIntTo32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** Where R and S lie in a DER signature (byte offsets, end exclusive). */
export interface DerLayout {
  readonly rStart: number;
  readonly rEnd: number;
  readonly sStart: number;
  readonly sEnd: number;
}

/**
 * The one DER parser: where R and S lie in a strict-DER signature (no hash type byte), or undefined
 * if it is not strict DER. parseDer and the explorer's byte-by-byte view (node/annotate.ts) both read
 * signatures through it.
 */
export function derLayout(der: Uint8Array): DerLayout | undefined {
  if (!isStrictDer(der)) return undefined;
  const lenR = der[3]!;
  return { rStart: 4, rEnd: 4 + lenR, sStart: 6 + lenR, sEnd: der.length };
}

/** Parses a strict-DER signature into r and s. Throws DecodeError for anything else. */
export function parseDer(der: Uint8Array): { r: bigint; s: bigint } {
  const at = derLayout(der);
  if (at === undefined) throw new DecodeError('signature is not strict DER');
  return { r: bytesToBigInt(der.subarray(at.rStart, at.rEnd)), s: bytesToBigInt(der.subarray(at.sStart, at.sEnd)) };
}

function derInt(n: bigint): Uint8Array {
  let b = bigIntTo32(n);
  let i = 0;
  while (i < 31 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b[0]! & 0x80) {
    const p = new Uint8Array(b.length + 1);
    p.set(b, 1);
    return p;
  }
  return b;
}

export function encodeDer(r: bigint, s: bigint): Uint8Array {
  const R = derInt(r);
  const S = derInt(s);
  const out = new Uint8Array(6 + R.length + S.length);
  out[0] = 0x30;
  out[1] = 4 + R.length + S.length;
  out[2] = 0x02;
  out[3] = R.length;
  out.set(R, 4);
  out[4 + R.length] = 0x02;
  out[5 + R.length] = S.length;
  out.set(S, 6 + R.length);
  return out;
}

export function isLowS(s: bigint): boolean {
  return s >= 1n && s <= HALF_N;
}

/** SEC1 public key as Core's IsCompressedOrUncompressedPubKey accepts: 02/03 + 32 bytes or 04 + 64 bytes. */
export function isPubkeyEncoding(pub: Uint8Array): boolean {
  if (pub.length === 33) return pub[0] === 0x02 || pub[0] === 0x03;
  if (pub.length === 65) return pub[0] === 0x04;
  return false;
}

/**
 * Verifies a strict-DER signature over a 32-byte message hash. High S is rejected unless
 * allowHighS (historical Bitcoin data predates the low-S rule).
 */
export function verifyDer(der: Uint8Array, msgHash: Uint8Array, pubkey: Uint8Array, opts: { allowHighS?: boolean } = {}): boolean {
  if (msgHash.length !== 32) return false;
  const rs = checkedSignature(der, pubkey, opts.allowHighS);
  if (rs === undefined) return false;
  const { r, s } = rs;
  const compact = new Uint8Array(64);
  compact.set(bigIntTo32(r), 0);
  compact.set(bigIntTo32(s), 32);
  try {
    return secp.verify(compact, msgHash, pubkey, { prehash: false, lowS: false });
  } catch {
    return false; // not a point on the curve
  }
}

/** Deterministic (RFC 6979) low-S signature over a 32-byte hash, strict DER. */
export function signDer(msgHash: Uint8Array, secretKey: Uint8Array): Uint8Array {
  useNobleHashes();
  const compact = secp.sign(msgHash, secretKey, { prehash: false, lowS: true });
  return encodeDer(bytesToBigInt(compact.subarray(0, 32)), bytesToBigInt(compact.subarray(32, 64)));
}

export function publicKeyOf(secretKey: Uint8Array, compressed = true): Uint8Array {
  return secp.getPublicKey(secretKey, compressed);
}

export function isValidSecretKey(secretKey: Uint8Array): boolean {
  if (secretKey.length !== 32) return false;
  const n = bytesToBigInt(secretKey);
  return n >= 1n && n < CURVE_N;
}
