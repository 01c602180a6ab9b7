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
