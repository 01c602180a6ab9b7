// Property tests for the encodings, over seeded random values (the same run every time): round
// trips, and hostile input (random bytes, mutations, truncations, trailing bytes, non-canonical
// sizes, huge counts) ending in DecodeError and nothing else.
import assert from 'node:assert/strict';
import {
  type Block,
  DecodeError,
  type Header,
  Reader,
  type Tx,
  Writer,
  bitsToTarget,
  blockSize,
  decodeAddress,
  decodeBlock,
  decodeCompact,
  decodeHeader,
  decodeTx,
  encodeAddress,
  encodeBlock,
  encodeHeader,
  encodeTx,
  fromHex,
  targetToBits,
  toHex,
  txSize,
} from '../src/shared/core/index.js';
import { loadVector } from './kit/vectors.js';
import { SeededGen } from './kit/prng.js';

/** The shared seeded generator (sfc32), with the draws these encodings need. */
class Gen extends SeededGen {
  i64(): bigint {
    return BigInt.asIntN(64, (BigInt(this.u32()) << 32n) | BigInt(this.u32()));
  }
  bigint(bits: number): bigint {
    let n = 0n;
    for (let i = 0; i < bits; i += 32) n = (n << 32n) | BigInt(this.u32());
    return BigInt.asUintN(bits, n);
  }
  /** A length that sometimes crosses the CompactSize boundaries at 0xfd and 0x10000. */
  length(): number {
    if (this.chance(0.05)) return this.int(0xfa, 0x110);
    if (this.chance(0.01)) return this.int(0xfff0, 0x10010);
    return this.int(0, 120);
  }
}

function genTx(g: Gen): Tx {
  const nIn = g.chance(0.03) ? g.int(0xfb, 0x102) : g.int(1, 4);
  const nOut = g.chance(0.03) ? g.int(0xfb, 0x102) : g.int(0, 4);
  return {
    version: g.i32(),
    inputs: Array.from({ length: nIn }, () => ({
      prevTxid: g.bytes(32),
      vout: g.u32(),
      scriptSig: g.bytes(nIn > 10 ? g.int(0, 3) : g.length()),
      sequence: g.u32(),
    })),
    outputs: Array.from({ length: nOut }, () => ({ value: g.i64(), scriptPubKey: g.bytes(nOut > 10 ? g.int(0, 3) : g.length()) })),
    locktime: g.u32(),
  };
}

function genHeader(g: Gen): Header {
  return { version: g.i32(), prevHash: g.bytes(32), merkleRoot: g.bytes(32), time: g.u32(), bits: g.u32(), nonce: g.u32() };
}

/** The smallest encodings: one input, short scripts, often no outputs (51 bytes at the least). */
function genSmallTx(g: Gen): Tx {
  return {
    version: g.i32(),
    inputs: [{ prevTxid: g.bytes(32), vout: g.u32(), scriptSig: g.bytes(g.int(0, 2)), sequence: g.u32() }],
    outputs: g.chance(0.5) ? [] : [{ value: g.i64(), scriptPubKey: g.bytes(g.int(0, 2)) }],
    locktime: g.u32(),
  };
}

function genBlock(g: Gen): Block {
  const small = g.chance(0.3);
  return { header: genHeader(g), txs: Array.from({ length: g.int(1, 4) }, () => (small ? genSmallTx(g) : genTx(g))) };
}

/** Runs decode on hostile input: it either throws DecodeError, or decodes to a value whose
 * encoding is exactly the input (the formats are canonical). Anything else fails the test. */
function decodesCanonicallyOrThrowsDecodeError<T>(
  bytes: Uint8Array,
  decode: (b: Uint8Array) => T,
  encode: (x: T) => Uint8Array,
  what: string,
): boolean {
  let value: T;
  try {
    value = decode(bytes);
  } catch (e) {
    assert.ok(e instanceof DecodeError, `${what}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return false;
  }
  assert.equal(toHex(encode(value)), toHex(bytes), `${what}: decoded but not canonical`);
  return true;
}

const codecs = {
  tx: { decode: decodeTx, encode: encodeTx },
  header: { decode: decodeHeader, encode: encodeHeader },
  block: { decode: decodeBlock, encode: encodeBlock },
} as const;

/** Real encodings from the vectors, small enough to cut at every byte. */
function realSamples(): { tx: Uint8Array[]; header: Uint8Array[]; block: Uint8Array[] } {
  const txFile = loadVector<{ valid: { hex: string }[] }>('bitcoinjs/transaction.json');
  const blockFile = loadVector<{ valid: { hex: string }[] }>('bitcoinjs/block.json');
  const tx = txFile.valid.map((t) => fromHex(t.hex));
  const blocks: Uint8Array[] = [];
  for (const b of blockFile.valid) {
    const bytes = fromHex(b.hex);
    try {
      decodeBlock(bytes);
    } catch {
      continue; // headers only, or witness serialization
    }
    if (bytes.length < 5000) blocks.push(bytes);
  }
  return { tx, header: blocks.map((b) => b.slice(0, 80)), block: blocks };
}

describe('core: properties of the encodings (seeded)', () => {
  const SEED = 0x6d766231;

  describe('round trips', () => {
    it('Tx: decode(encode(x)) = x, and encodeTx is as long as txSize says', () => {
      const g = new Gen(SEED);
      for (let i = 0; i < 300; i++) {
        const tx = genTx(g);
        const bytes = encodeTx(tx);
        assert.equal(bytes.length, txSize(tx));
        assert.deepStrictEqual(decodeTx(bytes), tx, `seed ${SEED}, tx ${i}`);
        assert.equal(toHex(encodeTx(decodeTx(bytes))), toHex(bytes));
      }
    });

    it('Header: decode(encode(x)) = x, always 80 bytes', () => {
      const g = new Gen(SEED + 1);
      for (let i = 0; i < 1000; i++) {
        const h = genHeader(g);
        const bytes = encodeHeader(h);
        assert.equal(bytes.length, 80);
        assert.deepStrictEqual(decodeHeader(bytes), h, `seed ${SEED + 1}, header ${i}`);
      }
    });

    it('Block: decode(encode(x)) = x', () => {
      const g = new Gen(SEED + 2);
      for (let i = 0; i < 100; i++) {
        const b = genBlock(g);
        const bytes = encodeBlock(b);
        assert.equal(bytes.length, blockSize(b));
        assert.deepStrictEqual(decodeBlock(bytes), b, `seed ${SEED + 2}, block ${i}`);
      }
    });

    it('the smallest transactions round-trip, alone and as a whole block', () => {
      // One input with an empty scriptSig and no outputs is 51 bytes: still an encoding (a
      // transaction without outputs is refused by the rules, bad-txns-vout-empty, not by the decoder).
      const g = new Gen(SEED + 9);
      for (let i = 0; i < 200; i++) {
        const txs = Array.from({ length: g.int(1, 300) }, () => genSmallTx(g));
        for (const tx of txs.slice(0, 3)) assert.deepStrictEqual(decodeTx(encodeTx(tx)), tx);
        const b: Block = { header: genHeader(g), txs };
        const bytes = encodeBlock(b);
        assert.equal(bytes.length, blockSize(b));
        assert.deepStrictEqual(decodeBlock(bytes), b, `seed ${SEED + 9}, block ${i} of ${txs.length} small txs`);
      }
    });

    it('addresses: decodeAddress(encodeAddress(h, v)) = (v, h) for every version byte', () => {
      const g = new Gen(SEED + 3);
      for (let v = 0; v < 256; v++) {
        for (let i = 0; i < 4; i++) {
          const h = g.bytes(20);
          const d = decodeAddress(encodeAddress(h, v));
          assert.equal(d.version, v);
          assert.equal(toHex(d.hash160), toHex(h));
        }
      }
    });

    it("compact bits: canonical bits round-trip; any target encodes within the mantissa's precision", () => {
      const g = new Gen(SEED + 4);
      for (let i = 0; i < 2000; i++) {
        const target = g.bigint(g.int(1, 256));
        const bits = targetToBits(target);
        const back = bitsToTarget(bits);
        const d = decodeCompact(bits);
        assert.ok(!d.negative && !d.overflow, `0x${bits.toString(16)}`);
        // Canonical form: encoding the decoded value gives the same bits.
        assert.equal(targetToBits(back), bits, `target 0x${target.toString(16)}`);
        // Rounds down, losing only what does not fit the 23-bit mantissa.
        const exponent = bits >>> 24;
        assert.ok(back <= target);
        assert.ok(target - back < 1n << BigInt(8 * Math.max(0, exponent - 3)), `target 0x${target.toString(16)}`);
        if (target !== 0n) assert.ok((bits & 0x007fffff) !== 0 && (bits & 0x00800000) === 0);
      }
    });
  });

  describe('hostile input', () => {
    const real = realSamples();

    it('the real samples are there (bitcoinjs fixtures) and decode', () => {
      assert.ok(real.tx.length > 0 && real.block.length > 0);
      for (const [kind, list] of Object.entries(real) as [keyof typeof codecs, Uint8Array[]][]) {
        for (const b of list) assert.equal(toHex(codecs[kind].encode(codecs[kind].decode(b) as never)), toHex(b));
      }
    });

    it('random bytes: DecodeError or a canonical decode, never another error', () => {
      const g = new Gen(SEED + 5);
      let rejected = 0;
      for (let i = 0; i < 3000; i++) {
        const bytes = g.bytes(g.chance(0.2) ? 80 : g.int(0, 400));
        for (const [kind, c] of Object.entries(codecs)) {
          if (
            !decodesCanonicallyOrThrowsDecodeError(
              bytes,
              c.decode as (b: Uint8Array) => unknown,
              c.encode as (x: unknown) => Uint8Array,
              `${kind} #${i}`,
            )
          )
            rejected++;
        }
      }
      assert.ok(rejected > 0);
    });

    it('random mutations of valid encodings: DecodeError or a canonical decode', () => {
      const g = new Gen(SEED + 6);
      const samples: [keyof typeof codecs, Uint8Array][] = [
        ...real.tx.map((b) => ['tx', b] as [keyof typeof codecs, Uint8Array]),
        ...real.block.map((b) => ['block', b] as [keyof typeof codecs, Uint8Array]),
        ...Array.from({ length: 20 }, () => ['tx', encodeTx(genTx(g))] as [keyof typeof codecs, Uint8Array]),
      ];
      for (const [kind, original] of samples) {
        for (let i = 0; i < 100; i++) {
          const bytes = original.slice();
          for (let k = g.int(1, 3); k > 0; k--) bytes[g.int(0, bytes.length - 1)] = g.u32() & 0xff;
          const c = codecs[kind];
          decodesCanonicallyOrThrowsDecodeError(
            bytes,
            c.decode as (b: Uint8Array) => unknown,
            c.encode as (x: unknown) => Uint8Array,
            `${kind} mutation ${i}`,
          );
        }
      }
    });

    it('every truncation of a valid tx, header and block throws DecodeError', () => {
      const g = new Gen(SEED + 7);
      const samples: [keyof typeof codecs, Uint8Array][] = [
        ...real.tx.map((b) => ['tx', b] as [keyof typeof codecs, Uint8Array]),
        ...real.header.map((b) => ['header', b] as [keyof typeof codecs, Uint8Array]),
        ...real.block.map((b) => ['block', b] as [keyof typeof codecs, Uint8Array]),
        ['tx', encodeTx(genTx(g))],
        ['header', encodeHeader(genHeader(g))],
        ['block', encodeBlock(genBlock(g))],
      ];
      for (const [kind, bytes] of samples) {
        const decode = codecs[kind].decode as (b: Uint8Array) => unknown;
        for (let cut = 0; cut < bytes.length; cut++) {
          assert.throws(() => decode(bytes.subarray(0, cut)), DecodeError, `${kind} cut at ${cut} of ${bytes.length}`);
        }
      }
    });

    it('trailing bytes after a valid tx, header or block are rejected', () => {
      const g = new Gen(SEED + 8);
      const samples: [keyof typeof codecs, Uint8Array][] = [
        ['tx', real.tx[0]!],
        ['header', real.header[0]!],
        ['block', real.block[0]!],
        ['tx', encodeTx(genTx(g))],
        ['block', encodeBlock(genBlock(g))],
      ];
      for (const [kind, bytes] of samples) {
        const decode = codecs[kind].decode as (b: Uint8Array) => unknown;
        for (const extra of [Uint8Array.of(0), Uint8Array.of(0xff), g.bytes(37)]) {
          const withExtra = new Uint8Array(bytes.length + extra.length);
          withExtra.set(bytes);
          withExtra.set(extra, bytes.length);
          assert.throws(() => decode(withExtra), DecodeError, kind);
        }
      }
    });

    it('non-canonical CompactSize is rejected, in the Reader and inside a transaction', () => {
      const cases: [string, number][] = [
        ['fdfc00', 0xfc],
        ['fe ffff0000', 0xffff],
        ['ff ffffffff00000000', 0xffffffff],
      ];
      for (const [hex, value] of cases) {
        assert.throws(() => new Reader(fromHex(hex.replace(' ', ''))).compactSize(), DecodeError, `${value} written long`);
      }
      // The shortest forms at each boundary read back.
      for (const n of [0, 0xfc, 0xfd, 0xffff, 0x10000, 0xffffffff]) {
        const bytes = new Writer().compactSize(n).finish();
        const r = new Reader(bytes);
        assert.equal(r.compactSize(), n);
        r.end('compact size');
      }
      // 2^32 and more never fit anything we decode.
      assert.throws(() => new Reader(new Writer().compactSize(0x100000000).finish()).compactSize(), DecodeError);

      // A real transaction with its input count, then its first scriptSig length, re-written in
      // a longer form: same value, different bytes, refused.
      const tx = decodeTx(real.tx[0]!);
      const body = encodeTx(tx);
      const inCountAt = 4;
      assert.equal(body[inCountAt], tx.inputs.length);
      const longCount = new Uint8Array([...body.subarray(0, inCountAt), 0xfd, tx.inputs.length, 0x00, ...body.subarray(inCountAt + 1)]);
      assert.throws(() => decodeTx(longCount), DecodeError);
      const sigLenAt = inCountAt + 1 + 36;
      assert.equal(body[sigLenAt], tx.inputs[0]!.scriptSig.length);
      const longLen = new Uint8Array([...body.subarray(0, sigLenAt), 0xfd, body[sigLenAt]!, 0x00, ...body.subarray(sigLenAt + 1)]);
      assert.throws(() => decodeTx(longLen), DecodeError);
    });

    it('a count larger than the remaining data is rejected before anything is allocated', () => {
      // Counts up to 2^32 - 1 in a few bytes of input: the decoder must refuse them from the
      // remaining length alone. The Reader's count check names the count it refused.
      const counts = [0xfd, 0x10000, 0x02000000, 0xffffffff];
      for (const n of counts) {
        const prefix = new Writer().i32(1).compactSize(n).finish();
        assert.throws(
          () => decodeTx(prefix),
          (e: unknown) => e instanceof DecodeError && /count/.test(e.message),
          `tx input count ${n}`,
        );
        const header = encodeHeader(decodeHeader(real.header[0]!));
        const block = new Writer().bytes(header).compactSize(n).bytes(new Uint8Array(100)).finish();
        assert.throws(
          () => decodeBlock(block),
          (e: unknown) => e instanceof DecodeError && /count/.test(e.message),
          `block tx count ${n}`,
        );
        const r = new Reader(new Writer().compactSize(n).bytes(new Uint8Array(40)).finish());
        assert.throws(() => r.count(41, 'item'), DecodeError);
      }
      // An output count too large, after one valid input.
      const tx = decodeTx(real.tx[0]!);
      const oneIn = encodeTx({ ...tx, inputs: tx.inputs.slice(0, 1), outputs: [] });
      const outCountAt = oneIn.length - 5;
      assert.equal(oneIn[outCountAt], 0);
      const bad = new Uint8Array([...oneIn.subarray(0, outCountAt), 0xfe, 0xff, 0xff, 0xff, 0xff, ...oneIn.subarray(outCountAt + 1)]);
      assert.throws(
        () => decodeTx(bad),
        (e: unknown) => e instanceof DecodeError && /count/.test(e.message),
      );
      // A script length larger than what is left.
      const script = new Uint8Array([...oneIn.subarray(0, 41), 0xfe, 0xff, 0xff, 0xff, 0x7f]);
      assert.throws(() => decodeTx(script), DecodeError);
    });
  });
});
