// Who the block server answers next. Work is shared out by address group first and by connection
// second: round-robin over the groups with a request waiting and, within a group's turn, over
// its connections with one, a frame at a time. A group's share is thus one turn in N (N groups
// with work) however many connections it opens or requests it sends: Core's message handler
// loop (net.cpp ThreadMessageHandler, one message per peer per pass) taken over address groups,
// since on a LAN an attacker's cost is addresses, not connections.
//
// A turn is a quantum of bytes, not one frame: deficit round robin (Shreedhar and Varghese,
// "Efficient fair queueing using deficit round robin", 1995). Each turn a group is credited
// QUANTUM_BYTES and served frames until its credit is spent, each frame charged its size plus a
// fixed cost, so a group asking for large answers (2 000 headers, full blocks) gets the same
// bytes per round as one asking for small ones, not the same frames. A group that overspent
// (one large frame) sits out turns until its credit is positive again, also if it goes quiet
// and comes back meanwhile.
//
// Groups that come with work after having none (an honest client's one request, a wallet's
// next batch) wait in a queue of their own, taken in turn with the ring of those that keep
// having work, one turn each way (the sparse-flow queue of FQ-CoDel, RFC 8290 §4.1, bounded to
// half the turns so the ring is never starved): a client asking now and then waits for the
// other such clients, not for a round of every address that keeps the server busy. A group
// whose turn ends with work left goes to the ring; one that comes back in debt, to the ring too.

/** Bytes a group may be sent per turn. */
export const QUANTUM_BYTES = 16 * 1024;
/** Charged per frame besides its bytes: a frame costs a lookup and a write whatever its size. */
export const FRAME_COST_BYTES = 256;

/** Groups whose debt is remembered while they have nothing queued. */
const MAX_DEBTS = 4096;

/** One group's queue of items with work, and its credit. */
interface Lane<T> {
  readonly key: string;
  readonly items: T[];
  readonly queued: Set<T>;
  deficit: number;
}

/** A FIFO of lanes (shift without moving the rest). */
class LaneQueue<T> {
  private items: T[] = [];
  private head = 0;
  push(x: T): void {
    this.items.push(x);
  }
  shift(): T | undefined {
    const x = this.items[this.head];
    if (x === undefined) return undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
  get length(): number {
    return this.items.length - this.head;
  }
}

export class FairScheduler<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  /** Groups that came with work after having none, in arrival order. */
  private readonly fresh = new LaneQueue<Lane<T>>();
  /** Groups that keep having work, in turn order (the one being served is `current`). */
  private readonly ring = new LaneQueue<Lane<T>>();
  /** Whether the last turn went to a fresh group (turns alternate while both queues have some). */
  private lastFresh = false;
  private current?: Lane<T>;
  /** Overspent credit of groups that had nothing queued meanwhile (forgotten with the group). */
  private readonly debts = new Map<string, number>();

  /** Queues item (one with work) under its group; an item already queued stays where it is. */
  add(group: string, item: T): void {
    let lane = this.lanes.get(group);
    if (!lane) {
      lane = { key: group, items: [], queued: new Set(), deficit: this.debts.get(group) ?? 0 };
      this.debts.delete(group);
      this.lanes.set(group, lane);
      (lane.deficit < 0 ? this.ring : this.fresh).push(lane);
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
    for (let lane = this.current; ; lane = this.current) {
      if (lane && lane.deficit > 0 && lane.items.length > 0) {
        const item = lane.items.shift()!;
        lane.queued.delete(item);
        return item;
      }
      if (lane) this.endTurn(lane);
      const nextLane = this.takeTurn();
      if (!nextLane) return undefined;
      nextLane.deficit += QUANTUM_BYTES;
      this.current = nextLane;
    }
  }

  /** Charges the group of the item last returned by next() for a frame of `bytes`. */
  charge(bytes: number): void {
    if (this.current) this.current.deficit -= bytes + FRAME_COST_BYTES;
  }

  /** The group's turn is over: to the back of the ring if it has work, else out (keeping a debt). */
  private endTurn(lane: Lane<T>): void {
    this.current = undefined;
    if (lane.items.length > 0) {
      this.ring.push(lane);
      return;
    }
    this.lanes.delete(lane.key);
    if (lane.deficit >= 0) return;
    this.debts.set(lane.key, lane.deficit);
    // Bounded: the oldest debt is forgiven first (a group gone for long has sat its turns out).
    if (this.debts.size > MAX_DEBTS) this.debts.delete(this.debts.keys().next().value!);
  }

  /** The next group to serve: fresh and ring groups in turn while both have some. */
  private takeTurn(): Lane<T> | undefined {
    const fromFresh = this.fresh.length > 0 && (this.ring.length === 0 || !this.lastFresh);
    this.lastFresh = fromFresh;
    return (fromFresh ? this.fresh : this.ring).shift();
  }

  /** The group has gone (its last connection closed): its debt goes with it. */
  forget(group: string): void {
    this.debts.delete(group);
  }

  /** Whether anything is queued. */
  get pending(): boolean {
    return (this.current !== undefined && this.current.items.length > 0) || this.fresh.length > 0 || this.ring.length > 0;
  }

  /** Groups with work queued or owing credit (for tests). */
  get groups(): { queued: number; inDebt: number } {
    return { queued: this.lanes.size, inDebt: this.debts.size };
  }
}
