// The block server's connection slots: who holds one, and who must give theirs up for a
// newcomer. A connection starts on probation (Core keeps no such stage; it has no need: its
// peers speak first with a version message) and takes a slot only with its first whole request:
// a connection that never asks (idle, or trickling a request in) holds no slot, only a place in
// the probation queue, bounded, from which the oldest of the address with the most probationers
// is pushed out when full. An honest client, which asks at once, is on probation a moment; an
// attacker reconnecting as fast as it is closed pushes out its own.
//
// Slots (maxConnections): an address holds at most a quarter. A promoted connection whose
// address holds its quarter replaces one of its own; when the server is full, an address below
// its fair share (maxConnections over the addresses holding slots; a newcomer's is) takes the
// worst slot of all (inbound-eviction.ts, after Core's AttemptToEvictConnection, which evicts
// from the largest group to the same end), and one at or above it may only replace a connection
// worse than a newcomer (slow or idle), its own first, else it waits on probation (unserved,
// not read) for a slot to free, the longest waiting first: refused outright, an attacker would
// reconnect at once, and its reconnections would flood the kernel's accept queue, where honest
// newcomers wait with them. Each eviction looks at a sample of EVICTION_SAMPLE, so thousands of
// connections cost the same per newcomer.
import { type EvictionCandidate, SlotUse, sampleCandidates, selectVictim } from './inbound-eviction.js';

/** What the table asks of the server about a connection, and how it has one closed. */
export interface SlotPolicy<C> {
  readonly maxConnections: number;
  readonly random: () => number;
  /** How c uses its slot (see SlotUse) and its protections. */
  judge(c: C, now: number): EvictionCandidate;
  /** Closes c, which the table has already forgotten. */
  close(c: C, why: 'evicted' | 'pushed-out'): void;
  /** The address's last connection (slot or probation) is gone. */
  groupGone?(group: string): void;
  /** A connection that waited on probation now holds a slot. */
  promoted(c: C): void;
}

interface Entry<C> {
  readonly conn: C;
  readonly group: GroupSlots<C>;
  readonly openedMs: number;
  established: boolean;
  /** On probation with a request, waiting for a slot (see promoteWaiting). */
  waiting: boolean;
  /** Index in the probation list or the slot list, and (holding a slot) in its group's. */
  index: number;
  groupIndex: number;
}

interface GroupSlots<C> {
  readonly key: string;
  readonly holders: Entry<C>[];
  probation: number;
}

/** Connections from one address at most, as a share of maxConnections (at least 2). */
const PER_ADDRESS_SHARE = 0.25;
/** Probationers sampled when one must be pushed out. */
const PROBATION_SAMPLE = 16;

export class InboundSlots<C> {
  private readonly entries = new Map<C, Entry<C>>();
  private readonly holders: Entry<C>[] = [];
  private readonly probation: Entry<C>[] = [];
  private readonly groups = new Map<string, GroupSlots<C>>();
  /** Addresses holding at least one slot. */
  private holdingAddresses = 0;
  /** Probationers waiting for a slot. */
  private waitingCount = 0;

  constructor(private readonly policy: SlotPolicy<C>) {}

  /** Connections holding a slot. */
  get size(): number {
    return this.holders.length;
  }
  get probationers(): number {
    return this.probation.length;
  }
  get waiting(): number {
    return this.waitingCount;
  }
  private get perAddressCap(): number {
    return Math.max(2, Math.floor(this.policy.maxConnections * PER_ADDRESS_SHARE));
  }
  /**
   * Places on probation: twice the slots (at least 1 024), so connections waiting for a slot and
   * ones that have not asked yet fit without pushing each other out (each costs a socket and a
   * partial request at most), and more than an accept batch of honest newcomers.
   */
  private get probationCap(): number {
    return Math.max(1024, 2 * this.policy.maxConnections);
  }

  /** A new connection from `group`, on probation (pushing the worst probationer out when full). */
  join(conn: C, group: string): void {
    if (this.probation.length >= this.probationCap) this.pushOutProbationer();
    let g = this.groups.get(group);
    if (!g) {
      g = { key: group, holders: [], probation: 0 };
      this.groups.set(group, g);
    }
    const e: Entry<C> = {
      conn,
      group: g,
      openedMs: Date.now(),
      established: false,
      waiting: false,
      index: this.probation.length,
      groupIndex: -1,
    };
    this.probation.push(e);
    g.probation++;
    this.entries.set(conn, e);
  }

  /** Whether conn holds a slot. */
  holds(conn: C): boolean {
    return this.entries.get(conn)?.established === true;
  }

  /**
   * conn's first whole request: it takes a slot ('holds'), or waits on probation for one
   * ('waiting': the caller stops reading and serving it until promoted() says it holds one).
   */
  establish(conn: C): 'holds' | 'waiting' | 'gone' {
    const e = this.entries.get(conn);
    if (!e) return 'gone';
    if (e.established) return 'holds';
    if (!this.makeRoom(e.group)) {
      if (!e.waiting) this.waitingCount++;
      e.waiting = true;
      return 'waiting';
    }
    this.promote(e);
    return 'holds';
  }

  private promote(e: Entry<C>): void {
    if (e.waiting) this.waitingCount--;
    e.waiting = false;
    removeAt(this.probation, e.index, (m, i) => (m.index = i));
    e.group.probation--;
    e.established = true;
    e.index = this.holders.length;
    e.groupIndex = e.group.holders.length;
    this.holders.push(e);
    e.group.holders.push(e);
    if (e.group.holders.length === 1) this.holdingAddresses++;
  }

  /** A slot freed: the longest waiting probationer (sampled) takes it, if any waits. */
  private promoteWaiting(): void {
    if (this.waitingCount === 0 || this.holders.length >= this.policy.maxConnections) return;
    let oldest: Entry<C> | undefined;
    for (const e of sampleCandidates(this.probation, this.policy.random))
      if (e.waiting && (!oldest || e.openedMs < oldest.openedMs)) oldest = e;
    if (!oldest) return;
    this.promote(oldest);
    this.policy.promoted(oldest.conn);
  }

  /** Forgets conn (closed, or being closed). */
  leave(conn: C): void {
    const e = this.entries.get(conn);
    if (!e) return;
    this.entries.delete(conn);
    const g = e.group;
    if (e.established) {
      removeAt(this.holders, e.index, (m, i) => (m.index = i));
      removeAt(g.holders, e.groupIndex, (m, i) => (m.groupIndex = i));
      if (g.holders.length === 0) this.holdingAddresses--;
    } else {
      removeAt(this.probation, e.index, (m, i) => (m.index = i));
      g.probation--;
      if (e.waiting) this.waitingCount--;
    }
    if (g.holders.length === 0 && g.probation === 0) {
      this.groups.delete(g.key);
      this.policy.groupGone?.(g.key);
    }
    if (e.established) this.promoteWaiting();
  }

  /** Room for one more slot holder from group g (see the file's header). */
  private makeRoom(g: GroupSlots<C>): boolean {
    const mine = g.holders.length;
    if (mine >= this.perAddressCap) return this.evictOne(g.holders, SlotUse.Busy);
    if (this.holders.length < this.policy.maxConnections) return true;
    const fairShare = this.policy.maxConnections / (this.holdingAddresses + (mine === 0 ? 1 : 0));
    if (mine + 1 <= fairShare) return this.evictOne(this.holders, SlotUse.Busy);
    return this.evictOne(g.holders, SlotUse.Idle) || this.evictOne(this.holders, SlotUse.Idle);
  }

  /** Closes the worst of a sample of pool if it uses its slot no better than `atLeast`. */
  private evictOne(pool: readonly Entry<C>[], atLeast: SlotUse): boolean {
    const now = Date.now();
    const sample = sampleCandidates(pool, this.policy.random).map((e) => ({ e, ...this.policy.judge(e.conn, now) }));
    const victim = selectVictim(sample, this.policy.random);
    if (!victim || victim.use < atLeast) return false;
    this.leave(victim.e.conn);
    this.policy.close(victim.e.conn, 'evicted');
    return true;
  }

  /** The probation queue is full: out goes the oldest sampled probationer of the address with the most. */
  private pushOutProbationer(): void {
    let worst: Entry<C> | undefined;
    for (const e of sampleCandidates(this.probation, this.policy.random).slice(0, PROBATION_SAMPLE)) {
      if (
        !worst ||
        e.group.probation > worst.group.probation ||
        (e.group.probation === worst.group.probation && e.openedMs < worst.openedMs)
      )
        worst = e;
    }
    if (!worst) return;
    this.leave(worst.conn);
    this.policy.close(worst.conn, 'pushed-out');
  }
}

/** Swap-removes list[i], telling the element moved into its place its new index. */
function removeAt<T>(list: T[], i: number, moved: (x: T, i: number) => void): void {
  const last = list.pop()!;
  if (i < list.length) {
    list[i] = last;
    moved(last, i);
  }
}
