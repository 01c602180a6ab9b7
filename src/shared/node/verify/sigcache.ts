// A signature cache (as Core's CSignatureCache): remembers signatures that verified, keyed by
// (sighash, signature, public key), so a block of transactions the mempool already accepted
// connects without verifying their signatures again. Only successes are kept; a key is a salted
// SHA-256 of the three (and the high-S flag), so no one can aim entries at each other. Bounded:
// the oldest entries go first. Hand `verifier` to the core (chain, mempool) wherever signatures
// are checked; the cache fills on every successful check, or ahead of time through `add`.
import { createHash, randomBytes } from 'node:crypto';
import type { SignatureVerifier } from '../../core/ecdsa.js';
import type { SignatureCheck } from '../../core/validation.js';
import { opensslVerifier } from './verifier.js';

/** Entries kept by default: ~100 bytes each, so ~20 MB; a LAN chain's recent signatures fit. */
export const DEFAULT_SIGCACHE_ENTRIES = 200_000;

export class SignatureCache {
  private readonly salt = randomBytes(32);
  /** Insertion-ordered: the first key is the oldest. */
  private readonly keys = new Set<string>();
  readonly stats = { hits: 0, misses: 0, evictions: 0 };

  constructor(
    readonly maxEntries = DEFAULT_SIGCACHE_ENTRIES,
    private readonly inner: SignatureVerifier = opensslVerifier,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError('maxEntries must be a whole number >= 0');
  }

  get size(): number {
    return this.keys.size;
  }

  private key(der: Uint8Array, firstHash: Uint8Array, pubkey: Uint8Array, allowHighS: boolean): string {
    return createHash('sha256')
      .update(this.salt)
      .update(firstHash)
      .update(pubkey)
      .update(der)
      .update(allowHighS ? 'h' : 'l')
      .digest('base64');
  }

  has(c: Pick<SignatureCheck, 'der' | 'pubkey'> & { firstHash: Uint8Array }, allowHighS = false): boolean {
    return this.keys.has(this.key(c.der, c.firstHash, c.pubkey, allowHighS));
  }

  /** Records a signature known to verify (checked by the caller, e.g. in a worker thread). */
  add(c: Pick<SignatureCheck, 'der' | 'pubkey'> & { firstHash: Uint8Array }, allowHighS = false): void {
    this.insert(this.key(c.der, c.firstHash, c.pubkey, allowHighS));
  }

  private insert(k: string): void {
    if (this.maxEntries === 0 || this.keys.has(k)) return;
    while (this.keys.size >= this.maxEntries) {
      this.keys.delete(this.keys.values().next().value!);
      this.stats.evictions++;
    }
    this.keys.add(k);
  }

  /** A verifier that answers from the cache, and on a miss verifies and remembers a success. */
  readonly verifier: SignatureVerifier = (der, firstHash, pubkey, opts = {}) => {
    const k = this.key(der, firstHash, pubkey, opts.allowHighS === true);
    if (this.keys.has(k)) {
      this.stats.hits++;
      return true;
    }
    this.stats.misses++;
    const ok = this.inner(der, firstHash, pubkey, opts);
    if (ok) this.insert(k);
    return ok;
  };
}
