// How sure a lab figure is: a 95 % interval beside every rate and every percentile the lab prints,
// so "the model is inside the interval" or "outside" is a statement, not a reading by eye.
// Pure functions (no I/O, no clock): the Wilson score interval for a binomial rate, and the
// distribution-free order-statistic interval for a percentile (the ranks come from the binomial
// distribution of how many samples fall below the true percentile).

/** z for a two-sided 95 % interval: the 97.5th percentile of the standard normal. */
export const Z95 = 1.959963984540054;

export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/**
 * Wilson score interval for `successes` out of `trials` (E. B. Wilson, JASA 1927): the p for which
 * |p̂ − p| ≤ z·√(p(1−p)/n), solved for p. Unlike p̂ ± z·√(p̂(1−p̂)/n) it stays in [0, 1] and is not
 * empty at 0/n or n/n. No trials: the whole range [0, 1].
 */
export function wilson(successes: number, trials: number, z = Z95): Interval {
  if (trials <= 0) return { lo: 0, hi: 1 };
  const n = trials;
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lo: successes === 0 ? 0 : Math.max(0, centre - half), hi: successes === n ? 1 : Math.min(1, centre + half) };
}

/** P(B ≤ k) for B ~ Binomial(n, p), summed from the pmf in log space (n up to a few 10⁵). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let logPmf = n * Math.log1p(-p); // k = 0
  let sum = Math.exp(logPmf);
  const ratio = Math.log(p) - Math.log1p(-p);
  for (let i = 1; i <= k; i++) {
    logPmf += Math.log(n - i + 1) - Math.log(i) + ratio;
    sum += Math.exp(logPmf);
  }
  return Math.min(1, sum);
}

/**
 * The 1-based ranks (j, k) of the order-statistic interval [x(j), x(k)] for the p-quantile of n
 * samples: j the largest with P(B ≤ j−1) ≤ α/2 and k the smallest with P(B ≥ k) ≤ α/2, B ~ Bin(n, p),
 * so P(x(j) ≤ true quantile ≤ x(k)) ≥ 1 − α. A rank of 0 or n+1: unbounded on that side (too few samples).
 */
export function percentileRanks(n: number, p: number, alpha = 0.05): { j: number; k: number } {
  let j = 0;
  while (j + 1 <= n && binomialCdf(j, n, p) <= alpha / 2) j++;
  let k = n + 1;
  while (k - 1 >= 1 && 1 - binomialCdf(k - 2, n, p) <= alpha / 2) k--;
  return { j, k };
}

/** A percentile with its 95 % interval (null ends: too few samples to bound that side). */
export interface PercentileWithInterval {
  readonly value: number;
  readonly lo: number | null;
  readonly hi: number | null;
}

/** The p-quantile (nearest rank, as analyse.ts's percentiles) of `samples` with its order-statistic interval. */
export function percentileInterval(samples: readonly number[], p: number, alpha = 0.05): PercentileWithInterval {
  const xs = [...samples].sort((a, b) => a - b);
  const n = xs.length;
  if (n === 0) return { value: 0, lo: null, hi: null };
  const value = xs[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  const { j, k } = percentileRanks(n, p, alpha);
  return { value, lo: j >= 1 ? xs[j - 1]! : null, hi: k <= n ? xs[k - 1]! : null };
}

/** "inside" when the interval holds x, else "outside" (the words docs/LAB.md uses). */
export function insideOrOutside(x: number, i: Interval): 'inside' | 'outside' {
  return x >= i.lo && x <= i.hi ? 'inside' : 'outside';
}

/** "40.8–77.8 %" for a rate interval. */
export function formatRateInterval(i: Interval, digits = 1): string {
  return `${(i.lo * 100).toFixed(digits)}–${(i.hi * 100).toFixed(digits)} %`;
}
