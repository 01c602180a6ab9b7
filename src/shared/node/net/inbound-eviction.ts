// Which connection a full block server closes to let a newcomer in. Modelled on Core's inbound
// eviction (net.cpp CConnman::AttemptToEvictConnection, node/eviction.cpp SelectNodeToEvict):
// first set aside a few connections per group that show something an attacker cannot fake
// cheaply (Core: novel blocks and transactions, low ping, long uptime; here: peers whose address
// served us valid chain data, and connections that fetched real blocks lately), then close one
// of the rest. Core closes the youngest of the largest group; we close the one that has kept the
// server waiting longest (idle, a request trickling in, answers not read), and among those not
// waiting at all (busy with requests) one of the largest group at random: an attacker busy with
// cheap requests can make no connection of its unevictable, and its reconnections evict its own.
//
// Protection never blocks admission: when every connection sampled is protected, the choice is
// made among them by the same order (Core returns no victim and drops the newcomer, which is what
// let a few addresses hold every slot).

/** What eviction needs to know about a connection. */
export interface EvictionCandidate {
  /** Its address group's connection count. */
  readonly groupSize: number;
  /** How long it has kept the server waiting on it (0 while the server has work of its own for it). */
  readonly waitingMs: number;
  /** Set aside by one of the protections above. */
  readonly protected: boolean;
}

/** Candidates looked at per eviction: the cost of admitting a newcomer stays bounded with thousands of connections. */
export const EVICTION_SAMPLE = 64;

/**
 * Up to EVICTION_SAMPLE of the pool, at random (all of it when smaller). A sample of 64 misses
 * every slow connection of a pool where a tenth are slow with probability 0.9^64 ≈ 0.1 %.
 */
export function sampleCandidates<C>(pool: readonly C[], random: () => number): C[] {
  if (pool.length <= EVICTION_SAMPLE) return [...pool];
  const picked = new Set<number>();
  while (picked.size < EVICTION_SAMPLE) picked.add(Math.floor(random() * pool.length));
  return [...picked].map((i) => pool[i]!);
}

/**
 * The connection to close among the sampled candidates: unprotected ones first, then the one
 * waiting longest; among those not waiting, the largest group's; remaining ties at random.
 */
export function selectVictim<C extends EvictionCandidate>(sample: readonly C[], random: () => number): C | undefined {
  const open = sample.filter((c) => !c.protected);
  const pool = open.length > 0 ? open : sample;
  let best: C | undefined;
  let bestTie = 0;
  for (const c of pool) {
    const tie = random();
    if (!best || worse(c, tie, best, bestTie)) {
      best = c;
      bestTie = tie;
    }
  }
  return best;
}

/** Whether a (with tie-breaker ta) is the better one to close than b. */
function worse(a: EvictionCandidate, ta: number, b: EvictionCandidate, tb: number): boolean {
  if (a.waitingMs !== b.waitingMs) return a.waitingMs > b.waitingMs;
  if (a.groupSize !== b.groupSize) return a.groupSize > b.groupSize;
  return ta > tb;
}
