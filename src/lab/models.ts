// The published figures and formulas the lab's measurements are set beside. Each carries its source.

/** Decker & Wattenhofer, "Information Propagation in the Bitcoin Network", IEEE P2P 2013: median time for a block to reach a node, and the fork rate they measured. */
export const DECKER_WATTENHOFER_2013 = {
  source: 'C. Decker, R. Wattenhofer, "Information Propagation in the Bitcoin Network", 13th IEEE P2P, 2013',
  medianPropagationSeconds: 6.5,
  forkRate: 0.0169,
  blockIntervalSeconds: 600,
};

/**
 * The stale-block model: a block mined at time 0 loses if another miner finds a block before it has
 * propagated, d seconds; with blocks found as a Poisson process of mean interval T that happens with
 * probability 1 − e^(−d/T) (as in Decker & Wattenhofer 2013, section on forks).
 */
export function staleModel(dSeconds: number, tSeconds: number): number {
  return tSeconds > 0 ? 1 - Math.exp(-dSeconds / tSeconds) : 0;
}

/**
 * Nakamoto, "Bitcoin: A Peer-to-Peer Electronic Cash System", 2008, section 11: the probability
 * that an attacker with share q of the hash power ever catches up from z blocks behind, with the
 * attacker's progress Poisson with mean λ = z·q/p:  P = 1 − Σ_{k=0..z} (λ^k e^−λ / k!)(1 − (q/p)^(z−k)).
 * For q ≥ p the attacker always catches up (P = 1).
 */
export function nakamotoCatchUp(q: number, z: number): number {
  const p = 1 - q;
  if (q >= p) return 1;
  const lambda = (z * q) / p;
  let sum = 1;
  let poisson = Math.exp(-lambda);
  for (let k = 0; k <= z; k++) {
    if (k > 0) poisson *= lambda / k;
    sum -= poisson * (1 - (q / p) ** (z - k));
  }
  return sum;
}

/** Rows of the white paper's table (section 11), printed there to 7 decimals. */
export const NAKAMOTO_TABLE = {
  source: 'S. Nakamoto, "Bitcoin: A Peer-to-Peer Electronic Cash System", 2008, section 11 (Calculations)',
  q01: [
    [0, 1.0],
    [1, 0.2045873],
    [2, 0.0509779],
    [3, 0.0131722],
    [4, 0.0034552],
    [5, 0.0009137],
  ],
  q03: [
    [0, 1.0],
    [5, 0.1773523],
    [10, 0.0416605],
    [15, 0.0101008],
  ],
} as const;

/**
 * Eyal & Sirer, "Majority is not Enough: Bitcoin Mining is Vulnerable", Financial Cryptography 2014,
 * equation (8): the relative revenue of a selfish pool with share α, where γ is the share of honest
 * miners that mine on the pool's block in a tie:
 *   R = [α(1−α)²(4α + γ(1−2α)) − α³] / [1 − α(1 + (2−α)α)]
 */
export function eyalSirerRevenue(alpha: number, gamma: number): number {
  return (alpha * (1 - alpha) ** 2 * (4 * alpha + gamma * (1 - 2 * alpha)) - alpha ** 3) / (1 - alpha * (1 + (2 - alpha) * alpha));
}

export const EYAL_SIRER_2014 = {
  source: 'I. Eyal, E. G. Sirer, "Majority is not Enough: Bitcoin Mining is Vulnerable", Financial Cryptography 2014, eq. (8)',
};

/** The race a double-spending attacker runs, and the rule by which it gives up. */
export interface RaceRule {
  /** The attacker's share of the hash power (0 ≤ q < 1). */
  readonly q: number;
  /** Confirmations the merchant waits for: honest blocks after the fork before it hands over the goods. */
  readonly z: number;
  /**
   * How far the attacker's branch must be ahead to win: 0 is Nakamoto's "catches up" (a tie counts),
   * 1 is what nodes need to switch branches (first seen wins a tie, so the branch must be longer).
   */
  readonly lead: 0 | 1;
  /** It gives up when, after the z confirmations, it is more than this many blocks behind (Infinity: never). */
  readonly giveUpBehind: number;
  /** It gives up when the merchant's payment has z + this many confirmations (Infinity: never). */
  readonly giveUpAfter: number;
  /**
   * The attacker's blocks when the honest chain reaches z: 'poisson' is Nakamoto's approximation
   * (mean z·q/p), 'exact' the negative binomial of the race (k attacker blocks before the z-th honest one).
   */
  readonly start: 'poisson' | 'exact';
}

/** P(attacker has k blocks when the honest chain has z), by the rule's start distribution, for k = 0..kMax. */
function startDistribution(r: RaceRule, kMax: number): number[] {
  const p = 1 - r.q;
  const out: number[] = [];
  if (r.start === 'poisson') {
    const lambda = (r.z * r.q) / p;
    let pmf = Math.exp(-lambda);
    for (let k = 0; k <= kMax; k++) {
      if (k > 0) pmf *= lambda / k;
      out.push(pmf);
    }
    return out;
  }
  // Negative binomial: C(k + z − 1, k) p^z q^k (z = 0: no blocks yet, k = 0 surely).
  let pmf = p ** r.z;
  for (let k = 0; k <= kMax; k++) {
    if (k > 0) pmf *= ((k + r.z - 1) / k) * r.q;
    out.push(r.z === 0 ? (k === 0 ? 1 : 0) : pmf);
  }
  return out;
}

/**
 * P(win) from deficit d (honest length − attacker length, once the z confirmations are in) with
 * `after` honest blocks left before giving up, for every d: a dynamic programme over the race, each
 * next block the attacker's with probability q (d − 1) or honest with p (d + 1, one block fewer left).
 * Won at d ≤ −lead, lost at d > giveUpBehind or when no honest block is left.
 */
function winFromDeficit(r: RaceRule, dMax: number): (d: number) => number {
  const q = r.q;
  const p = 1 - q;
  const floor = -r.lead;
  if (!Number.isFinite(r.giveUpAfter) && !Number.isFinite(r.giveUpBehind))
    // Gambler's ruin with no upper barrier: (q/p)^(d − floor).
    return (d) => (d <= floor ? 1 : q >= p ? 1 : (q / p) ** (d - floor));
  const top = Number.isFinite(r.giveUpBehind) ? r.giveUpBehind : Infinity;
  if (!Number.isFinite(r.giveUpAfter)) {
    // Two barriers, no block limit: the gambler's ruin between floor (won) and top + 1 (given up).
    const span = top + 1 - floor;
    const ratio = p / q;
    return (d) =>
      d <= floor
        ? 1
        : d > top
          ? 0
          : Math.abs(ratio - 1) < 1e-12
            ? 1 - (d - floor) / span
            : (ratio ** (span - (d - floor)) - 1) / (ratio ** span - 1);
  }
  // f[d − floor] with `left` honest blocks left (left = 0: lost unless already won). From a start
  // deficit ≤ dMax, with `left` left the deficit is at most dMax + giveUpAfter − left.
  const last = Math.min(top, dMax + r.giveUpAfter) + 1;
  const at = (d: number) => d - floor;
  let prev = new Float64Array(at(last) + 2);
  prev[0] = 1;
  for (let left = 1; left <= r.giveUpAfter; left++) {
    const cur = new Float64Array(prev.length);
    cur[0] = 1;
    for (let d = floor + 1; d <= last; d++) cur[at(d)] = d > top ? 0 : q * cur[at(d - 1)]! + p * prev[at(d + 1)]!;
    prev = cur;
  }
  const f = prev;
  return (d) => (d <= floor ? 1 : d > Math.min(top, last) ? 0 : f[at(d)]!);
}

/**
 * The probability that the attacker wins the double-spend race under `rule`, computed exactly (no
 * simulation). With lead 0, Poisson start and no give-up it is Nakamoto's P(q, z) (white paper §11).
 */
export function doubleSpendWin(rule: RaceRule): number {
  const { q, z } = rule;
  if (q <= 0) return 0;
  // Attacker blocks at the z-th honest one: past z + 60 + 30·z/(1−q) the tail is below 1e-12 for q < 1.
  const kMax = Math.ceil(z + 60 + (30 * z) / (1 - q));
  const start = startDistribution(rule, kMax);
  const win = winFromDeficit(rule, z);
  let total = 0;
  let mass = 0;
  for (let k = 0; k <= kMax; k++) {
    const d = z - k;
    // The attacker ahead by more than the bound at z already wins (d ≤ −lead).
    total += start[k]! * (d > rule.giveUpBehind ? 0 : win(d));
    mass += start[k]!;
  }
  // The rest of the mass (k > kMax) is ahead, so won.
  return Math.min(1, total + Math.max(0, 1 - mass));
}
