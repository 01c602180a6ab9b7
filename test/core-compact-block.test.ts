// BIP152 compact blocks in the core: SipHash-2-4 against the SipHash paper's 64 reference vectors
// (test/vectors/siphash/vectors.h), the short-id construction as BIP152 states it, cmpctblock /
// getblocktxn / blocktxn round trips on a real mainnet block, rebuilding from a mempool, and
// hostile encodings (truncated, oversize counts, duplicate and overflowing indexes).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  type Block,
  type CompactBlock,
  DecodeError,
  Writer,
  compactFromBlock,
  decodeBlock,
  decodeBlockTxn,
  decodeCompactBlock,
  decodeGetBlockTxn,
  encodeBlockTxn,
  encodeCompactBlock,
  encodeGetBlockTxn,
  encodeHeader,
  encodeBlock,
  finishRebuild,
  fromHex,
  maxBlockTxs,
  shortId,
  shortIdKey,
  sipKey,
  siphash24,
  siphash24Low48,
  startRebuild,
  toHex,
  txid,
} from '../src/shared/core/index.js';
import { loadVector, loadVectorText } from './kit/vectors.js';

/** vectors_sip64 of the reference implementation's vectors.h: 64 outputs of 8 bytes each. */
function sip64Vectors(): Uint8Array[] {
  const text = loadVectorText('siphash/vectors.h');
  const body = text.slice(text.indexOf('vectors_sip64'), text.indexOf('vectors_sip128'));
  const bytes = [...body.matchAll(/0x([0-9a-f]{2})/g)].map((m) => parseInt(m[1]!, 16));
  assert.equal(bytes.length, 64 * 8);
  return Array.from({ length: 64 }, (_, i) => Uint8Array.from(bytes.slice(8 * i, 8 * i + 8)));
}

const le64 = (b: Uint8Array): bigint => new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);

function realBlock(): Block {
  const v = loadVector<{ valid: { description: string; hex: string }[] }>('bitcoinjs/block.json');
  const b = decodeBlock(fromHex(v.valid.find((x) => x.description === 'Block (~32 KiB)')!.hex));
  assert.ok(b.txs.length > 20);
  return b;
}

const MAX_TXS = maxBlockTxs(1_000_000);

describe('SipHash-2-4', () => {
  it('matches the 64 reference vectors of the SipHash paper (key 00..0f, messages 00..i-1)', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const vectors = sip64Vectors();
    let checked = 0;
    vectors.forEach((want, i) => {
      const msg = Uint8Array.from({ length: i }, (_, j) => j);
      assert.equal(siphash24(key, msg), le64(want), `message of ${i} bytes`);
      assert.equal(siphash24Low48(sipKey(le64(key), le64(key.subarray(8))), msg), Number(le64(want) & 0xffffffffffffn));
      checked++;
    });
    assert.equal(checked, 64);
  });

  it('rejects a key that is not 16 bytes', () => {
    assert.throws(() => siphash24(new Uint8Array(15), new Uint8Array(0)), RangeError);
  });
});

describe('BIP152 short ids', () => {
  it('keys SipHash with the first two LE uint64 of SHA256(header || nonce) and keeps 6 bytes', () => {
    const b = realBlock();
    const nonce = 0x0123456789abcdefn;
    const w = new Writer(88).bytes(encodeHeader(b.header)).u64(nonce).finish();
    const d = createHash('sha256').update(w).digest();
    const key = shortIdKey(b.header, nonce);
    assert.equal(key.k0, d.readBigUInt64LE(0));
    assert.equal(key.k1, d.readBigUInt64LE(8));
    const id = txid(b.txs[1]!);
    const keyBytes = new Uint8Array(d.subarray(0, 16));
    assert.equal(shortId(key, id), Number(siphash24(keyBytes, id) & 0xffffffffffffn));
  });
});

describe('cmpctblock', () => {
  it('round-trips a real block: coinbase prefilled, 6-byte ids, differential indexes', () => {
    const b = realBlock();
    const cb = compactFromBlock(b, 42n, [0, 3, 4]);
    const bytes = encodeCompactBlock(cb);
    // header, nonce, count, ids, count, 3 x (index + tx)
    let txBytes = 0;
    for (const i of [0, 3, 4]) txBytes += encodeBlock({ header: b.header, txs: [b.txs[i]!] }).length - 81;
    assert.equal(bytes.length, 80 + 8 + 1 + 6 * (b.txs.length - 3) + 1 + 3 + txBytes);
    const back = decodeCompactBlock(bytes, MAX_TXS);
    assert.deepEqual(
      back.prefilled.map((p) => p.index),
      [0, 3, 4],
    );
    assert.equal(toHex(encodeCompactBlock(back)), toHex(bytes));
    // The second prefilled index is written as 3 - 0 - 1 = 2, the third as 0.
    const afterIds = 80 + 8 + 1 + 6 * (b.txs.length - 3);
    assert.equal(bytes[afterIds], 3);
    assert.equal(bytes[afterIds + 1], 0); // coinbase at 0
  });

  it('rebuilds the block from a mempool holding its transactions, and says what is missing', () => {
    const b = realBlock();
    const cb = decodeCompactBlock(encodeCompactBlock(compactFromBlock(b, 7n)), MAX_TXS);
    const pool = b.txs.slice(1).map((tx) => ({ tx, txid: txid(tx) }));
    const all = startRebuild(cb, pool);
    assert.equal(all.status, 'partial');
    if (all.status !== 'partial') return;
    assert.deepEqual(all.partial.missing, []);
    assert.equal(all.partial.fromMempool, b.txs.length - 1);
    assert.equal(toHex(encodeBlock(finishRebuild(all.partial)!)), toHex(encodeBlock(b)));
    // Without transactions 2 and 5: those two are asked for, and the answer completes the block.
    const some = startRebuild(
      cb,
      pool.filter((_, i) => i !== 1 && i !== 4),
    );
    assert.equal(some.status, 'partial');
    if (some.status !== 'partial') return;
    assert.deepEqual(some.partial.missing, [2, 5]);
    assert.equal(finishRebuild(some.partial), undefined, 'incomplete');
    assert.equal(finishRebuild(some.partial, [b.txs[5]!, b.txs[2]!]), undefined, 'wrong order fails the Merkle root');
    assert.equal(toHex(encodeBlock(finishRebuild(some.partial, [b.txs[2]!, b.txs[5]!])!)), toHex(encodeBlock(b)));
  });

  it('falls back on duplicate short ids, and refetches a slot two candidates share', () => {
    const b = realBlock();
    const cb = compactFromBlock(b, 7n);
    const dup: CompactBlock = { ...cb, shortIds: [cb.shortIds[0]!, cb.shortIds[0]!, ...cb.shortIds.slice(2)] };
    assert.deepEqual(startRebuild(dup, []), { status: 'failed', reason: 'duplicate short ids' });
    // A candidate claiming transaction 1's txid but another body: the slot holds two, so it is fetched.
    const pool = b.txs.slice(1).map((tx) => ({ tx, txid: txid(tx) }));
    const impostor = { tx: b.txs[2]!, txid: txid(b.txs[1]!) };
    const r = startRebuild(cb, [...pool, impostor]);
    assert.equal(r.status, 'partial');
    if (r.status === 'partial') assert.deepEqual(r.partial.missing, [1]);
  });

  it('rejects truncated, oversize, empty and overflowing encodings with DecodeError', () => {
    const b = realBlock();
    const bytes = encodeCompactBlock(compactFromBlock(b, 1n));
    let cuts = 0;
    for (const cut of [0, 10, 80, 88, 89, 95, bytes.length - 1]) {
      assert.throws(() => decodeCompactBlock(bytes.subarray(0, cut), MAX_TXS), DecodeError, `cut at ${cut}`);
      cuts++;
    }
    assert.equal(cuts, 7);
    assert.throws(() => decodeCompactBlock(bytes, 5), /exceed 5/);
    const head = new Writer().bytes(encodeHeader(b.header)).u64(1n);
    // A count far beyond the bytes that follow: refused before allocating.
    assert.throws(() => decodeCompactBlock(new Writer().bytes(head.finish()).compactSize(0xffffff).finish(), MAX_TXS), /exceeds remaining/);
    assert.throws(() => decodeCompactBlock(new Writer().bytes(head.finish()).u8(0).u8(0).finish(), MAX_TXS), /without transactions/);
    // A prefilled index past the block's count, and one past 16 bits.
    const cbTx = encodeBlock({ header: b.header, txs: [b.txs[0]!] }).subarray(81);
    const at = (diff: number) => new Writer().bytes(head.finish()).u8(0).u8(1).compactSize(diff).bytes(cbTx).finish();
    assert.ok(decodeCompactBlock(at(0), MAX_TXS));
    assert.throws(() => decodeCompactBlock(at(1), MAX_TXS), /beyond 1 transactions/);
    assert.throws(() => decodeCompactBlock(at(0x10000), MAX_TXS), /overflowed 16 bits/);
    assert.throws(() => decodeCompactBlock(new Uint8Array([...bytes, 0]), MAX_TXS), DecodeError, 'trailing byte');
  });
});

describe('getblocktxn and blocktxn', () => {
  it('round-trip with differential indexes', () => {
    const b = realBlock();
    const hash = new Uint8Array(32).fill(9);
    const req = encodeGetBlockTxn({ blockHash: hash, indexes: [1, 2, 7, 300] });
    // 32 + count + gaps 1, 0, 4, 292 (two bytes past 252: 0xfd + u16)
    assert.equal(toHex(req.subarray(32)), '04010004fd2401');
    assert.deepEqual(decodeGetBlockTxn(req, MAX_TXS).indexes, [1, 2, 7, 300]);
    const txn = encodeBlockTxn({ blockHash: hash, txs: b.txs.slice(1, 4) });
    const back = decodeBlockTxn(txn, MAX_TXS);
    assert.equal(back.txs.length, 3);
    assert.equal(toHex(encodeBlockTxn(back)), toHex(txn));
  });

  it('rejects duplicate-free overflow, oversize counts and truncation', () => {
    const hash = new Uint8Array(32);
    assert.throws(() => encodeGetBlockTxn({ blockHash: hash, indexes: [3, 3] }), RangeError, 'duplicate index');
    const overflow = new Writer().bytes(hash).u8(2).u8(0).compactSize(0xffff).finish();
    assert.throws(() => decodeGetBlockTxn(overflow, MAX_TXS), /overflowed 16 bits/);
    assert.throws(() => decodeGetBlockTxn(encodeGetBlockTxn({ blockHash: hash, indexes: [0, 1, 2] }), 2), /exceed 2/);
    assert.throws(() => decodeGetBlockTxn(new Writer().bytes(hash).compactSize(5000).finish(), MAX_TXS), /exceeds remaining/);
    assert.throws(() => decodeBlockTxn(new Writer().bytes(hash).compactSize(1000).finish(), MAX_TXS), /exceeds remaining/);
    assert.throws(() => decodeBlockTxn(hash.subarray(0, 20), MAX_TXS), DecodeError);
  });
});
