// ECDSA over secp256k1 and Bitcoin's signature encoding rules, against Google's Wycheproof
// (ecdsa_secp256k1_sha256_test.json), bitcoinjs-lib's RFC 6979 vectors (ecdsa.json) and DER
// fixtures (signature.json), and Bitcoin Core's canonical/non-canonical signature lists.
import assert from 'node:assert/strict';
import { Point } from '@noble/secp256k1';
import { derParts } from '../src/shared/node/annotate.js';
import {
  DecodeError,
  encodeDer,
  fromHex,
  isLowS,
  isStrictDer,
  isValidSignatureEncoding,
  parseDer,
  publicKeyOf,
  sha256,
  signDer,
  toHex,
  verifyDer,
} from '../src/shared/core/index.js';
import { opensslVerifier as verifyDerSha256 } from '../src/shared/node/verify/verifier.js';
import { loadVector } from './kit/vectors.js';

/** The order of secp256k1's group (SEC 2, section 2.4.1), written out. */
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex32 = (h: string): Uint8Array => fromHex(h.padStart(64, '0'));
const big = (h: string): bigint => BigInt('0x' + h);

/** A DER INTEGER's content for any integer, negative ones in two's complement (as BER allows). */
function derIntContent(x: bigint): Uint8Array {
  let len = 1;
  while (x < -(1n << BigInt(8 * len - 1)) || x >= 1n << BigInt(8 * len - 1)) len++;
  const v = x < 0n ? (1n << BigInt(8 * len)) + x : x;
  return fromHex(v.toString(16).padStart(2 * len, '0'));
}

/** SEQUENCE { INTEGER r, INTEGER s } for arbitrary (even out-of-range or negative) r and s. */
function derAny(r: bigint, s: bigint): Uint8Array {
  const R = derIntContent(r);
  const S = derIntContent(s);
  return Uint8Array.from([0x30, 4 + R.length + S.length, 0x02, R.length, ...R, 0x02, S.length, ...S]);
}

function parseSigned(h: string): bigint {
  return h.startsWith('-') ? -big(h.slice(1)) : big(h);
}

describe('core: ECDSA verification (Wycheproof ecdsa_secp256k1_sha256_test.json)', () => {
  interface WTest {
    tcId: number;
    comment: string;
    flags: string[];
    msg: string;
    sig: string;
    result: 'valid' | 'invalid' | 'acceptable';
  }
  interface WFile {
    numberOfTests: number;
    testGroups: { publicKey: { uncompressed: string; wx: string; wy: string }; tests: WTest[] }[];
  }
  const file = loadVector<WFile>('wycheproof/ecdsa_secp256k1_sha256_test.json');
  const all = file.testGroups.flatMap((g) => g.tests.map((t) => ({ g, t })));

  it(`covers all ${file.numberOfTests} cases`, () => {
    assert.equal(all.length, file.numberOfTests);
  });

  it('verifyDerSha256 (OpenSSL path used by the validator) agrees on every case, compressed keys too', () => {
    let valid = 0;
    for (const { g, t } of all) {
      const un = fromHex(g.publicKey.uncompressed);
      const expected = t.result === 'valid';
      // verifyDerSha256 hashes its input once more: pass the message, it verifies over sha256(msg).
      assert.equal(verifyDerSha256(fromHex(t.sig), fromHex(t.msg), un, { allowHighS: true }), expected, `tcId ${t.tcId} uncompressed`);
      const y = un[64]!;
      const comp = new Uint8Array(33);
      comp[0] = y & 1 ? 0x03 : 0x02;
      comp.set(un.subarray(1, 33), 1);
      assert.equal(verifyDerSha256(fromHex(t.sig), fromHex(t.msg), comp, { allowHighS: true }), expected, `tcId ${t.tcId} compressed`);
      if (expected) valid++;
    }
    assert.ok(valid > 0);
  });

  it('verifyDer(sig, sha256(msg), key, {allowHighS}) is true exactly for the valid cases', () => {
    let valid = 0;
    for (const { g, t } of all) {
      const pub = fromHex(g.publicKey.uncompressed);
      const got = verifyDer(fromHex(t.sig), sha256(fromHex(t.msg)), pub, { allowHighS: true });
      // 'acceptable' cases are legal only under lax (BER) parsing, which Bitcoin forbids (BIP66).
      assert.equal(got, t.result === 'valid', `tcId ${t.tcId} (${t.comment}): ${t.result}`);
      if (t.result === 'valid') valid++;
    }
    assert.ok(valid > 0);
  });

  it('the same with the compressed form of each public key', () => {
    for (const { g, t } of all) {
      const y = big(g.publicKey.wy);
      const pub = Uint8Array.from([y & 1n ? 0x03 : 0x02, ...hex32(g.publicKey.wx.replace(/^00/, ''))]);
      const got = verifyDer(fromHex(t.sig), sha256(fromHex(t.msg)), pub, { allowHighS: true });
      assert.equal(got, t.result === 'valid', `tcId ${t.tcId}`);
    }
  });

  it('without allowHighS, a valid signature verifies only if its S is low', () => {
    let high = 0;
    for (const { g, t } of all) {
      if (t.result !== 'valid') continue;
      const sig = fromHex(t.sig);
      const low = isLowS(parseDer(sig).s);
      if (!low) high++;
      assert.equal(verifyDer(sig, sha256(fromHex(t.msg)), fromHex(g.publicKey.uncompressed)), low, `tcId ${t.tcId}`);
    }
    assert.ok(high > 0, 'the file has high-S valid signatures');
  });

  it('BER and malformed encodings are not strict DER, and parseDer refuses them', () => {
    const encodingFlags = new Set(['BerEncodedSignature', 'InvalidEncoding', 'MissingZero', 'InvalidTypesInSignature']);
    let n = 0;
    for (const { t } of all) {
      if (!t.flags.some((f) => encodingFlags.has(f))) continue;
      n++;
      const sig = fromHex(t.sig);
      assert.equal(isStrictDer(sig), false, `tcId ${t.tcId} (${t.comment})`);
      assert.throws(() => parseDer(sig), DecodeError);
    }
    assert.ok(n > 0);
    // Every valid signature is strict DER and encodeDer reproduces it.
    for (const { t } of all) {
      if (t.result !== 'valid') continue;
      const { r, s } = parseDer(fromHex(t.sig));
      assert.equal(toHex(encodeDer(r, s)), t.sig, `tcId ${t.tcId}`);
    }
  });
});

describe('core: RFC 6979 signing (bitcoinjs-lib ecdsa.json)', () => {
  interface Sig {
    r: string;
    s: string;
  }
  interface EcdsaFile {
    valid: {
      ecdsa: { d: string; k: string; message: string; signature: Sig }[];
      rfc6979: { d: string; message: string; k0: string }[];
    };
    invalid: { verify: { description: string; d: string; message: string; signature: Sig }[] };
  }
  const file = loadVector<EcdsaFile>('bitcoinjs/ecdsa.json');

  it('signDer reproduces every deterministic signature (with S normalized low) and it verifies', () => {
    assert.ok(file.valid.ecdsa.length > 0);
    for (const v of file.valid.ecdsa) {
      const d = hex32(v.d);
      const msg = sha256(utf8(v.message));
      const der = signDer(msg, d);
      assert.ok(isStrictDer(der));
      const { r, s } = parseDer(der);
      const wantR = big(v.signature.r);
      const wantS = big(v.signature.s);
      assert.equal(r, wantR, v.message);
      // signDer always produces low S (BIP62); the fixture's S may be either of s, n - s.
      assert.equal(s, isLowS(wantS) ? wantS : CURVE_N - wantS, v.message);
      assert.ok(isLowS(s));
      // The nonce is the fixture's k: r is the x coordinate of k*G.
      assert.equal(Point.BASE.multiply(big(v.k)).x % CURVE_N, r, `${v.message}: k`);
      for (const compressed of [true, false]) {
        const pub = publicKeyOf(d, compressed);
        assert.ok(verifyDer(der, msg, pub), `${v.message}: verifies (compressed=${compressed})`);
        // The fixture's own signature verifies too, if only with allowHighS when its S is high.
        const orig = encodeDer(wantR, wantS);
        assert.equal(verifyDer(orig, msg, pub, { allowHighS: true }), true);
        assert.equal(verifyDer(orig, msg, pub), isLowS(wantS));
        // And it does not verify for another message.
        assert.equal(verifyDer(der, sha256(utf8(v.message + '.')), pub), false);
      }
    }
  });

  it('the RFC 6979 nonce (k0) for each rfc6979 vector', () => {
    // k1 and k15 are the nonces of retries a signer makes when it rejects a signature (bitcoinjs
    // lets a caller do so); signDer never retries, so only k0 applies.
    assert.ok(file.valid.rfc6979.length > 0);
    for (const v of file.valid.rfc6979) {
      const der = signDer(sha256(utf8(v.message)), hex32(v.d));
      assert.equal(parseDer(der).r, Point.BASE.multiply(big(v.k0)).x % CURVE_N, v.message);
    }
  });

  it('rejects every invalid signature (wrong, zero, negative or out-of-range r and s)', () => {
    assert.ok(file.invalid.verify.length > 0);
    for (const v of file.invalid.verify) {
      const pub = publicKeyOf(hex32(v.d));
      const der = derAny(parseSigned(v.signature.r), parseSigned(v.signature.s));
      assert.equal(verifyDer(der, sha256(utf8(v.message)), pub, { allowHighS: true }), false, v.description);
    }
  });
});

describe('core: signature encoding (bitcoinjs-lib signature.json)', () => {
  interface SigFile {
    valid: { hashType: number; hex: string; raw: { r: string; s: string } }[];
    invalid: { exception: string; hex: string; hashType?: number; raw?: { r: string; s: string } }[];
  }
  const file = loadVector<SigFile>('bitcoinjs/signature.json');

  it("accepts every valid signature, and r, s and hash type are the fixture's", () => {
    assert.ok(file.valid.length > 0);
    for (const v of file.valid) {
      const b = fromHex(v.hex);
      assert.ok(isValidSignatureEncoding(b), v.hex);
      assert.equal(b[b.length - 1], v.hashType);
      const { r, s } = parseDer(b.subarray(0, b.length - 1));
      assert.equal(r, big(v.raw.r));
      assert.equal(s, big(v.raw.s));
      assert.equal(toHex(encodeDer(r, s)) + v.hashType.toString(16).padStart(2, '0'), v.hex);
    }
  });

  it("the explorer's byte view (annotate derParts) splits every valid one at the fixture's r and s, and none of the invalid ones", () => {
    for (const v of file.valid) {
      const parts = derParts(fromHex(v.hex));
      assert.ok(parts, v.hex);
      const field = (name: string) => parts.find((p) => p.name === name)?.value;
      assert.equal(big(field('der.r')!), big(v.raw.r), v.hex);
      assert.equal(big(field('der.s')!), big(v.raw.s), v.hex);
    }
    const badEncodings = file.invalid.filter((v) => v.hashType === undefined);
    assert.ok(badEncodings.length > 0);
    for (const v of badEncodings) assert.equal(derParts(fromHex(v.hex)), undefined, `${v.exception}: ${v.hex}`);
  });

  it('rejects every invalid DER encoding', () => {
    for (const v of file.invalid) {
      const b = fromHex(v.hex);
      if (v.hashType !== undefined) {
        // "Invalid hashType N": the DER is fine; whether a hash type is defined is Core's
        // STRICTENC policy check, not part of BIP66's IsValidSignatureEncoding.
        assert.ok(isValidSignatureEncoding(b), v.exception);
        assert.equal(b[b.length - 1], v.hashType);
        assert.equal(parseDer(b.subarray(0, b.length - 1)).r, big(v.raw!.r));
        continue;
      }
      assert.equal(isValidSignatureEncoding(b), false, `${v.exception}: ${v.hex}`);
    }
  });
});

describe('core: signature encoding (Bitcoin Core sig_canonical.json, sig_noncanonical.json)', () => {
  it('accepts every canonical signature', () => {
    const sigs = loadVector<string[]>('bitcoinjs/core/sig_canonical.json');
    assert.ok(sigs.length > 0);
    for (const h of sigs) assert.ok(isValidSignatureEncoding(fromHex(h)), h);
  });

  it('rejects every non-canonical signature whose fault is its DER encoding', () => {
    // The file alternates a label ("too short:", ...) and a hex signature; other text is a comment.
    const items = loadVector<string[]>('bitcoinjs/core/sig_noncanonical.json');
    let label = '';
    let checked = 0;
    for (const item of items) {
      if (!/^([0-9a-fA-F]{2})+$/.test(item)) {
        label = item;
        continue;
      }
      const b = fromHex(item);
      if (label === 'hashtype:') {
        // Fault is the undefined hash type 0x11 (Core's STRICTENC policy), not the encoding:
        // IsValidSignatureEncoding accepts it, and so does ours.
        assert.ok(isValidSignatureEncoding(b), label);
        assert.equal(b[b.length - 1], 0x11);
      } else {
        assert.equal(isValidSignatureEncoding(b), false, `${label} ${item}`);
        checked++;
      }
    }
    assert.ok(checked > 10);
  });
});
