// The messages between VerifyPool (pool.ts) and its threads (worker.ts), in one file both import:
// a request is a packed list of signature checks, a response one byte per check (1 = valid).
// Packed into one ArrayBuffer so a batch crosses to a thread as one transfer, not N objects.

export interface VerifyRequest {
  readonly id: number;
  readonly packed: Uint8Array;
}
export interface VerifyResponse {
  readonly id: number;
  readonly ok: Uint8Array;
}

export interface PackedCheck {
  readonly der: Uint8Array;
  readonly firstHash: Uint8Array;
  readonly pubkey: Uint8Array;
}

/** [der length][der][pubkey length][pubkey][32-byte firstHash] per check. */
export function packChecks(checks: readonly PackedCheck[]): Uint8Array {
  let size = 0;
  for (const c of checks) size += 2 + c.der.length + c.pubkey.length + 32;
  const out = new Uint8Array(size);
  let o = 0;
  for (const c of checks) {
    if (c.der.length > 255 || c.pubkey.length > 255 || c.firstHash.length !== 32) throw new RangeError('signature check out of bounds');
    out[o++] = c.der.length;
    out.set(c.der, o);
    o += c.der.length;
    out[o++] = c.pubkey.length;
    out.set(c.pubkey, o);
    o += c.pubkey.length;
    out.set(c.firstHash, o);
    o += 32;
  }
  return out;
}

export function unpackChecks(b: Uint8Array): PackedCheck[] {
  const out: PackedCheck[] = [];
  for (let o = 0; o < b.length;) {
    const der = b.subarray(o + 1, o + 1 + b[o]!);
    o += 1 + der.length;
    const pubkey = b.subarray(o + 1, o + 1 + b[o]!);
    o += 1 + pubkey.length;
    out.push({ der, pubkey, firstHash: b.subarray(o, o + 32) });
    o += 32;
  }
  return out;
}
