// Compact nBits and the retarget rule, against numbers from Bitcoin Core's
// arith_uint256_tests.cpp (bignum_SetCompact) and pow_tests.cpp (get_next_work*).
import assert from 'node:assert/strict';
import { bitsToTarget, decodeCompact, difficulty, formatDifficulty, nextBits, targetToBits } from '../src/shared/core/index.js';
import { loadVector } from './kit/vectors.js';

interface CompactFile {
  meaning: string;
  decode: { compact: string; value: string | null; reencode: string | null; negative: boolean; overflow: boolean }[];
  encodeOnly: { value: string; compact: string }[];
}

interface RetargetFile {
  params: {
    powLimit: string;
    powLimitBits: string;
    targetTimespanSeconds: number;
    targetSpacingSeconds: number;
    difficultyAdjustmentInterval: number;
  };
  vectors: { name: string; firstBlockTime: number; lastBlockTime: number; lastBits: string; expectedNextBits: string }[];
}

const num = (hex: string): number => Number.parseInt(hex, 16) >>> 0;

describe('core: compact nBits (Bitcoin Core arith_uint256_tests.cpp)', () => {
  const file = loadVector<CompactFile>('derived/arith_uint256_compact_vectors.json');

  it('SetCompact: value, negative and overflow flags', () => {
    assert.ok(file.decode.length > 0);
    for (const v of file.decode) {
      const d = decodeCompact(num(v.compact));
      assert.equal(d.negative, v.negative, `${v.compact} negative`);
      assert.equal(d.overflow, v.overflow, `${v.compact} overflow`);
      if (v.value !== null) {
        assert.equal(d.target, BigInt('0x' + v.value), `${v.compact} value`);
        assert.equal(bitsToTarget(num(v.compact)), BigInt('0x' + v.value), `${v.compact} bitsToTarget`);
      }
    }
  });

  it('GetCompact: re-encodes the decoded value (with the sign bit where negative)', () => {
    for (const v of file.decode) {
      if (v.value === null || v.reencode === null) continue;
      assert.equal(targetToBits(BigInt('0x' + v.value), v.negative), num(v.reencode), `${v.compact} -> ${v.reencode}`);
    }
  });

  it('GetCompact of plain integers never sets the sign bit', () => {
    assert.ok(file.encodeOnly.length > 0);
    for (const v of file.encodeOnly) {
      const bits = targetToBits(BigInt('0x' + v.value));
      assert.equal(bits, num(v.compact));
      assert.equal(bits & 0x00800000, 0);
    }
  });
});

describe('core: retarget (Bitcoin Core pow_tests.cpp)', () => {
  const file = loadVector<RetargetFile>('derived/pow_tests_retarget_vectors.json');
  const p = file.params;
  const powLimit = BigInt('0x' + p.powLimit);

  it('the parameters are consistent: powLimitBits is GetCompact(powLimit), timespan = interval * spacing', () => {
    // Core's mainnet powLimit is 2^224 - 1; its compact form rounds down to 0x1d00ffff.
    assert.equal(targetToBits(powLimit), num(p.powLimitBits));
    assert.ok(bitsToTarget(num(p.powLimitBits)) <= powLimit);
    assert.equal(p.targetTimespanSeconds, p.difficultyAdjustmentInterval * p.targetSpacingSeconds);
  });

  for (const v of file.vectors) {
    it(`${v.name}: next bits ${v.expectedNextBits}`, () => {
      const got = nextBits(num(v.lastBits), v.firstBlockTime, v.lastBlockTime, { targetTimespan: p.targetTimespanSeconds, powLimit });
      assert.equal(got, num(v.expectedNextBits), `got 0x${got.toString(16)}`);
    });
  }
});

describe("core: difficulty (Bitcoin Core's GetDifficulty, blockchain_tests.cpp)", () => {
  // Bitcoin Core src/test/blockchain_tests.cpp: nBits and the difficulty it must give (mainnet, difficulty 1 = 0x1d00ffff).
  const MAINNET_POW_LIMIT = BigInt('0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff');
  const CORE_CASES: [bits: number, expected: number][] = [
    [0x1f111111, 0.000001],
    [0x1ef88f6f, 0.000016],
    [0x1df88f6f, 0.004023],
    [0x1cf88f6f, 1.029916],
    [0x12345678, 5913134931067755359633408.0],
  ];

  it('matches Core within its 10^-5 tolerance (relative, for the very high target)', () => {
    let checked = 0;
    for (const [bits, expected] of CORE_CASES) {
      const d = difficulty(bits, MAINNET_POW_LIMIT);
      const tolerance = Math.max(0.00001, expected * 1e-12);
      assert.ok(Math.abs(d - expected) <= tolerance, `0x${bits.toString(16)}: ${d}, Core ${expected}`);
      checked++;
    }
    assert.equal(checked, CORE_CASES.length);
  });

  it('is 1 at the genesis target, 0 for a zero mantissa, and formats with 6 significant digits', () => {
    assert.equal(difficulty(0x1d00ffff, MAINNET_POW_LIMIT), 1);
    assert.equal(difficulty(0, MAINNET_POW_LIMIT), 0);
    assert.equal(formatDifficulty(difficulty(0x1cf88f6f, MAINNET_POW_LIMIT)), '1.02992');
    assert.equal(formatDifficulty(difficulty(0x1f111111, MAINNET_POW_LIMIT)), '8.94056e-7'); // 0xffff / 0x111111 / 256^2
  });
});
