// Real blocks and headers from bitcoinjs-lib's test/fixtures/block.json: decode, re-encode byte
// for byte, block hash, Merkle root, proof of work and nBits -> target.
import assert from 'node:assert/strict';
import {
  DecodeError,
  bitsToTarget,
  checkProofOfWork,
  decodeBlock,
  decodeHeader,
  encodeBlock,
  encodeHeader,
  equalBytes,
  fromHex,
  hashToHex,
  hashToNumber,
  headerHash,
  merkleRoot,
  targetToBits,
  toHex,
  txid,
} from '../src/shared/core/index.js';
import { loadVector, loadVectorText } from './kit/vectors.js';

interface ValidBlock {
  description: string;
  hex: string;
  /** Block hash, internal order. */
  hash: string;
  /** Block hash, display order. */
  id: string;
  version: number;
  prevHash: string;
  merkleRoot: string;
  timestamp: number;
  bits: number;
  nonce: number;
  /** False when the header does not meet its own target. */
  valid: boolean;
  witnessCommit?: string;
}

interface BlockFile {
  targets: { bits: string; expected: string }[];
  valid: ValidBlock[];
  invalid: { exception: string; hex: string }[];
}

const file = loadVector<BlockFile>('bitcoinjs/block.json');
/** Mainnet's powLimit (Core: 2^224 - 1). */
const MAINNET_POW_LIMIT = (1n << 224n) - 1n;

/** A segwit transaction: version, then marker 0x00 and flag 0x01 where the input count would be. */
function hasSegwitTx(hex: string): boolean {
  // Only used to explain an expected DecodeError: witness-serialized blocks carry the marker
  // right after the first transaction's version.
  const bytes = fromHex(hex);
  const afterCount = 80 + 1; // these fixtures have fewer than 0xfd transactions
  return bytes.length > afterCount + 6 && bytes[afterCount + 4] === 0x00 && bytes[afterCount + 5] === 0x01;
}

describe('core: blocks (bitcoinjs-lib block.json)', () => {
  it('nBits -> target for every "targets" pair', () => {
    assert.ok(file.targets.length > 0);
    for (const t of file.targets) {
      const bits = Number.parseInt(t.bits, 16);
      const target = BigInt('0x' + t.expected);
      assert.equal(bitsToTarget(bits), target, t.bits);
      // Re-encoding gives the same target (the compact form may differ when the sign bit was set).
      assert.equal(bitsToTarget(targetToBits(target)), target, t.bits);
    }
  });

  for (const b of file.valid) {
    it(`${b.description} (${b.id.slice(0, 16)}...)`, () => {
      const bytes = fromHex(b.hex);
      const header = decodeHeader(bytes.subarray(0, 80));
      assert.equal(toHex(encodeHeader(header)), b.hex.slice(0, 160));
      assert.equal(header.version, b.version);
      assert.equal(toHex(header.prevHash), b.prevHash);
      assert.equal(toHex(header.merkleRoot), b.merkleRoot);
      assert.equal(header.time, b.timestamp);
      assert.equal(header.bits, b.bits);
      assert.equal(header.nonce, b.nonce);
      const hash = headerHash(header);
      assert.equal(toHex(hash), b.hash);
      assert.equal(hashToHex(hash), b.id);
      assert.equal(checkProofOfWork(hashToNumber(hash), header.bits, MAINNET_POW_LIMIT), b.valid, 'proof of work');

      if (bytes.length === 80) {
        // Headers only: not a block (no transaction count).
        assert.throws(() => decodeBlock(bytes), DecodeError);
        return;
      }
      if (b.witnessCommit !== undefined || hasSegwitTx(b.hex)) {
        // Witness serialization is outside mvb's legacy-only format.
        assert.ok(hasSegwitTx(b.hex));
        assert.throws(() => decodeBlock(bytes), DecodeError);
        return;
      }
      const block = decodeBlock(bytes);
      assert.equal(toHex(encodeBlock(block)), b.hex);
      assert.ok(block.txs.length > 0);
      const root = merkleRoot(block.txs.map(txid));
      assert.ok(equalBytes(root, block.header.merkleRoot), 'merkle root of the txids');
      assert.equal(toHex(root), b.merkleRoot);
    });
  }

  it('the Genesis Block fixture is byte for byte test/vectors/headers/mainnet_genesis_block.hex', () => {
    const g = file.valid.find((b) => b.description === 'Genesis Block');
    assert.ok(g);
    assert.equal(g.hex, loadVectorText('headers/mainnet_genesis_block.hex').trim());
  });

  it('rejects every invalid entry with DecodeError', () => {
    assert.ok(file.invalid.length > 0);
    for (const x of file.invalid) {
      assert.throws(() => decodeBlock(fromHex(x.hex)), DecodeError, x.exception);
      assert.throws(() => decodeHeader(fromHex(x.hex)), DecodeError, x.exception);
    }
  });
});
