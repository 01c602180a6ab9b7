// Who the block server answers next. Work is shared out by address group first and by connection
// second: the group with work that has been sent the least lately takes the next turn, and within
// its turn its connections with work are served round-robin, a frame at a time, until the turn's
// quantum of bytes is spent. A group's share thus does not grow with the connections it opens or
// the requests it sends (Core's message handler loop, net.cpp ThreadMessageHandler, takes one
// message per peer per pass; here the pass is over address groups, since on a LAN an attacker's
// cost is addresses, not connections).
//
// "Sent the least lately" is each group's bytes (each frame charged its size plus a fixed cost)
// with exponential forgetting, half-life USAGE_HALF_LIFE_MS: least-attained-service scheduling
// with decay, as decay-usage CPU schedulers share a processor (Hellerstein, "Achieving service
// rate objectives with decay usage scheduling", 1993). Groups that keep the server busy all the
// time get equal bytes among themselves (each turn goes to whichever has had least), and a group
// that asks now and then, or has just begun (an honest wallet's sync among attackers that keep
// downloading), goes ahead of them until it has had as much. What a group was sent is kept while
// it is quiet (bounded), so going quiet or reconnecting does not wipe it; only time does.
//
// Usage is kept as its logarithm scaled forward in time (log of sum bytes_i * 2^(t_i/half-life)),
// so that comparing two groups needs no decaying of either: the order at any moment is the order
// of these keys, which change only when a group is served.
import { BinaryHeap } from '../mempool/binary-heap.js';

/** Bytes a group may be sent per turn before the others are looked at again. */
export const QUANTUM_BYTES = 16 * 1024;
/** Charged per frame besides its bytes: a frame costs a lookup and a write whatever its size. */
export const FRAME_COST_BYTES = 256;
/** What a group was sent counts half after this long. */
export const USAGE_HALF_LIFE_MS = 10_000;
/** Quiet groups whose usage is remembered (the oldest forgotten first past it). */
const MAX_REMEMBERED = 4096;

/** One group's queue of items with work, and its usage key. */
interface Lane<T> {
  readonly key: string;
  readonly items: T[];
  readonly queued: Set<T>;
  /** log2 of the forward-scaled bytes sent (-Infinity: none yet). */
  usage: number;
  /** Bytes charged in its current turn. */
  turnBytes: number;
}

/** log2(2^a + 2^b) without overflow. */
function log2AddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  const hi = Math.max(a, b);
  return hi + Math.log2(1 + 2 ** (Math.min(a, b) - hi));
}

export class FairScheduler<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  /** Groups with work waiting for a turn, least served first. */
  private readonly heap = new BinaryHeap<Lane<T>>((x, y) => x.usage < y.usage);
  private current?: Lane<T>;
  /** The usage keys of groups with nothing queued (insertion order: oldest first). */
  private readonly remembered = new Map<string, number>();

  /** now(): milliseconds on a monotonic clock (tests pass their own). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Queues item (one with work) under its group; an item already queued stays where it is. */
  add(group: string, item: T): void {
    let lane = this.lanes.get(group);
    if (!lane) {
      lane = { key: group, items: [], queued: new Set(), usage: this.remembered.get(group) ?? -Infinity, turnBytes: 0 };
      this.remembered.delete(group);
      this.lanes.set(group, lane);
      this.heap.push(lane);
    }
    if (lane.queued.has(item)) return;
    lane.queued.add(item);
    lane.items.push(item);
  }

  /**
   * The next item to send a frame for, taken off its queue; the caller then charges what it sent
   * and adds the item back if it still has work (which puts it behind its group's others).
   */
  next(): T | undefined {
    for (;;) {
      const lane = this.current;
      if (lane && lane.turnBytes < QUANTUM_BYTES && lane.items.length > 0) {
        const item = lane.items.shift()!;
        lane.queued.delete(item);
        return item;
      }
      if (lane) this.endTurn(lane);
      const nextLane = this.heap.pop();
      if (!nextLane) return undefined;
      nextLane.turnBytes = 0;
      this.current = nextLane;
    }
  }

  /** Charges the group of the item last returned by next() for a frame of `bytes`. */
  charge(bytes: number): void {
    const lane = this.current;
    if (!lane) return;
    const cost = bytes + FRAME_COST_BYTES;
    lane.turnBytes += cost;
    lane.usage = log2AddExp(lane.usage, Math.log2(cost) + this.now() / USAGE_HALF_LIFE_MS);
  }

  /** The group's turn is over: back among those waiting if it has work, else remembered. */
  private endTurn(lane: Lane<T>): void {
    this.current = undefined;
    if (lane.items.length > 0) {
      this.heap.push(lane);
      return;
    }
    this.lanes.delete(lane.key);
    if (lane.usage === -Infinity) return;
    this.remembered.set(lane.key, lane.usage);
    if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value!);
  }

  /** What the group was sent lately, in bytes as of now (for tests and status). */
  usageOf(group: string): number {
    const u = this.lanes.get(group)?.usage ?? this.remembered.get(group) ?? -Infinity;
    return 2 ** (u - this.now() / USAGE_HALF_LIFE_MS);
  }

  /** Whether anything is queued. */
  get pending(): boolean {
    return (this.current !== undefined && this.current.items.length > 0) || this.heap.size > 0;
  }
}
