// Which connection a full block server closes to let a newcomer in. Modelled on Core's inbound
// eviction (net.cpp CConnman::AttemptToEvictConnection, node/eviction.cpp SelectNodeToEvict):
// Core sets aside a few connections per group that show something an attacker cannot fake
// cheaply (novel blocks and transactions, low ping, long uptime) and closes one of the rest, the
// youngest of the largest netgroup. Here a connection (one that has asked something: before
// that it holds no slot, see inbound-slots.ts) is judged first by what it gives the server:
// those that do not read their answers or trickle their next request in go first, then those
// idle after being answered (past a moment to think), then those with work. Within each, the protected go last: a few connections per
// address that fetched real blocks lately, and those of addresses that served us valid chain
// data (Core's protections; a protection never keeps a slow connection over a busy one, since
// fetching a block once is cheap). Then the one that has kept the server waiting longest, and
// among equals one at random: not the largest address's (Core), since an attacker can make the
// honest clients' own address the largest by packing it with slow connections.
//
// An attacker busy with cheap requests can make no connection of its unevictable; reconnecting
// as fast as it is closed only makes its connections young, not better than an honest client's;
// and nothing blocks admission (Core returns no victim when every connection is protected and
// drops the newcomer, which is what let a few addresses hold every slot).

/** How a connection uses its slot, worst first: what eviction looks at before anything else. */
export enum SlotUse {
  /** Does not read what it asked for, or trickles its next request in. */
  Slow = 2,
  /** Answered, and has asked nothing since, for longer than a client takes to think. */
  Idle = 1,
  /** A request waiting or being answered, or answered a moment ago. */
  Busy = 0,
}

/** What eviction needs to know about a connection. */
export interface EvictionCandidate {
  readonly use: SlotUse;
  /** How long it has been in that state. */
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

/** The connection to close among the sampled candidates, by the order above. */
export function selectVictim<C extends EvictionCandidate>(sample: readonly C[], random: () => number): C | undefined {
  let best: C | undefined;
  let bestTie = 0;
  for (const c of sample) {
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
  if (a.use !== b.use) return a.use > b.use;
  if (a.protected !== b.protected) return !a.protected;
  if (a.waitingMs !== b.waitingMs) return a.waitingMs > b.waitingMs;
  return ta > tb;
}
