// Proof of work: the compact "nBits" encoding of a 256-bit target, the work a target represents,
// and Bitcoin's retarget rule. Mirrors Core's arith_uint256::SetCompact/GetCompact, GetBlockProof,
// CheckProofOfWork and CalculateNextWorkRequired (src/arith_uint256.cpp, src/pow.cpp, src/chain.cpp).

const MASK256 = (1n << 256n) - 1n;

export interface CompactDecoded {
  /** The value as Core's SetCompact leaves it (truncated to 256 bits). */
  readonly target: bigint;
  /** The sign bit (0x00800000) was set on a non-zero mantissa. */
  readonly negative: boolean;
  /** The value does not fit in 256 bits. */
  readonly overflow: boolean;
}

/** Core's SetCompact with its negative and overflow flags. */
export function decodeCompact(bits: number): CompactDecoded {
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    target = (BigInt(word) << BigInt(8 * (size - 3))) & MASK256;
  }
  // Core tests the flags on the shifted mantissa, so 0x01803456 (mantissa shifted to 0) is not negative.
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

/** nBits -> target, as SetCompact (without the flags; see decodeCompact). */
export function bitsToTarget(bits: number): bigint {
  return decodeCompact(bits).target;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** target -> nBits, as GetCompact; `negative` re-applies the sign bit as GetCompact(true) does. */
export function targetToBits(target: bigint, negative = false): number {
  if (target < 0n || target > MASK256) throw new RangeError('target must be a 256-bit unsigned integer');
  let size = Math.floor((bitLength(target) + 7) / 8);
  let compact: number;
  if (size <= 3) compact = Number(target << BigInt(8 * (3 - size)));
  else compact = Number((target >> BigInt(8 * (size - 3))) & 0xffffffffn);
  // The mantissa's top bit is the sign: move one byte into the exponent instead.
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  compact = (compact | (size << 24)) >>> 0;
  if (negative && (compact & 0x007fffff) !== 0) compact = (compact | 0x00800000) >>> 0;
  return compact;
}

/**
 * Expected number of hashes to find a block at this target: 2^256 / (target + 1), Core's
 * GetBlockProof. Zero for an invalid nBits. Chain work is the sum of this over a chain.
 */
export function blockWork(bits: number): bigint {
  const { target, negative, overflow } = decodeCompact(bits);
  if (negative || overflow || target === 0n) return 0n;
  return (1n << 256n) / (target + 1n);
}

/**
 * Core's GetDifficulty (rpc/blockchain.cpp), on nBits as Core computes it: the mantissa of
 * difficulty 1 over this mantissa (sign bit ignored), times 256 per byte of exponent between them.
 * Difficulty 1 is powLimit in compact form, as Core's is 0x1d00ffff (mantissa 0xffff, exponent 29).
 * A zero mantissa gives 0 (Core would divide by zero). The explorer's API returns this number; people
 * read formatDifficulty's.
 */
export function difficulty(bits: number, powLimit: bigint): number {
  const one = targetToBits(powLimit);
  const mantissa = bits & 0x00ffffff;
  if (mantissa === 0) return 0;
  let d = (one & 0x00ffffff) / mantissa;
  for (let shift = (bits >>> 24) & 0xff; shift < one >>> 24; shift++) d *= 256;
  for (let shift = (bits >>> 24) & 0xff; shift > one >>> 24; shift--) d /= 256;
  return d;
}

/** The one way a difficulty is shown to a person: 6 significant digits, no exponent below 10^21. */
export function formatDifficulty(d: number): string {
  return String(Number(d.toPrecision(6)));
}

/** CheckProofOfWork: nBits is a valid target no easier than powLimit, and hash <= target. */
export function checkProofOfWork(hashAsNumber: bigint, bits: number, powLimit: bigint): boolean {
  const { target, negative, overflow } = decodeCompact(bits);
  if (negative || overflow || target === 0n || target > powLimit) return false;
  return hashAsNumber <= target;
}

export interface RetargetParams {
  /** Seconds one retarget period should last: retargetInterval * targetBlockSeconds (Core: nPowTargetTimespan). */
  readonly targetTimespan: number;
  readonly powLimit: bigint;
}

/**
 * CalculateNextWorkRequired: the nBits for the first block of a new retarget period, from the last
 * block's nBits and the times of the period's first and last blocks. The measured timespan is
 * clamped to [timespan/4, timespan*4] so difficulty moves at most 4x per period. Core computes in
 * 256-bit arithmetic; we compute exactly, which gives the same result whenever Core's does not
 * overflow (always, for mainnet's powLimit).
 */
export function nextBits(lastBits: number, firstBlockTime: number, lastBlockTime: number, p: RetargetParams): number {
  let actual = lastBlockTime - firstBlockTime;
  if (actual < p.targetTimespan / 4) actual = Math.floor(p.targetTimespan / 4);
  if (actual > p.targetTimespan * 4) actual = p.targetTimespan * 4;
  let target = (bitsToTarget(lastBits) * BigInt(actual)) / BigInt(p.targetTimespan);
  if (target > p.powLimit) target = p.powLimit;
  return targetToBits(target);
}
