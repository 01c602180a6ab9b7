// The peer table of a ChainNode: who announced what tip lately, who is set aside and until when.
// Kept apart from the sync (sync.ts) so the rules about whom to trust (bans, back-off, expiry, the
// bound on the table) live in one place, and a sync strategy only asks "whom next?" and reports
// "this one failed" or "this one served". Like Core's addrman/banman, but for a LAN: a peer is
// what a status datagram showed (source address, block-server port, node id), nothing more.
import { toHex } from '../../core/bytes.js';
import type { Settings } from '../cli/config.js';
import type { Status } from './protocol.js';

export interface PeerInfo {
  /** What the sender showed us: its source address, the block-server port and node id it claims. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  status: Status;
  lastSeenMs: number;
  /** It has served us valid headers or blocks: claimed work is then backed by something. */
  served: boolean;
  /** It was set aside for breaking a rule (an invalid block or header): what it claims is not a chain we missed. */
  misbehaved?: boolean;
}

/** Peers remembered at most (a LAN has far fewer miners). */
const MAX_PEERS = 1000;
/** Entries one source address may make (several miners may share a host, each its own port and node id). */
const MAX_PEERS_PER_ADDRESS = 16;
/** A peer not heard for this many status intervals is forgotten. */
const PEER_EXPIRY_INTERVALS = 3;
/** Expired peers are looked for at most this often. */
const EXPIRY_SCAN_MS = 200;
/** Back-off after a failed sync: 5 s, doubling with each failure in a row, at most a minute. */
const BACKOFF_BASE_MS = 5000;
const BACKOFF_MAX_MS = 60_000;
/** A never-proven address's first timeout sets it aside this long only. */
const SECOND_CHANCE_MS = 1000;

/** Whether a is tried before b: one that has served us first, then the more work claimed. */
function ranksBefore(a: PeerInfo, b: PeerInfo): boolean {
  return a.served !== b.served ? a.served : a.status.chainWork > b.status.chainWork;
}

/** The key a peer is set aside under with its whole source address. */
function addressKey(address: string): string {
  return `addr:${address}`;
}

export class PeerTable {
  readonly peers = new Map<string, PeerInfo>();
  private expiredAt = 0;
  /** The keys of the entries each source address made. */
  private readonly byAddress = new Map<string, Set<string>>();
  /** Until when a peer key, or a whole source address ("addr:" + address), is set aside. */
  private readonly banned = new Map<string, number>();
  /** Failed syncs in a row, by peer key or source address: each sets it aside twice as long. */
  private readonly failures = new Map<string, number>();
  /** Never-proven source addresses whose one failure was a timeout: retried after SECOND_CHANCE_MS. */
  private readonly secondChance = new Set<string>();

  constructor(private readonly settings: Pick<Settings, 'statusBroadcastIntervalSeconds'>) {}

  /**
   * Records a status heard from `address` (a block server's, port not 0) and returns its entry.
   * Keyed by all the sender showed: a status forged with another peer's address and port but its
   * own node id is another entry, not an overwrite.
   */
  heard(address: string, st: Status): PeerInfo {
    const key = `${address}:${st.blockServerPort}:${toHex(st.nodeId)}`;
    const prev = this.peers.get(key);
    if (!prev) this.makeRoom(address);
    const info: PeerInfo = prev ?? { key, address, port: st.blockServerPort, status: st, lastSeenMs: 0, served: false };
    info.status = st;
    info.lastSeenMs = Date.now();
    this.peers.set(key, info);
    if (!prev) this.keysOf(address).add(key);
    return info;
  }

  private keysOf(address: string): Set<string> {
    let keys = this.byAddress.get(address);
    if (!keys) this.byAddress.set(address, (keys = new Set()));
    return keys;
  }

  private forget(key: string): void {
    const p = this.peers.get(key);
    if (!p) return;
    this.peers.delete(key);
    const keys = this.byAddress.get(p.address);
    keys?.delete(key);
    if (keys?.size === 0) this.byAddress.delete(p.address);
  }

  /**
   * Bounds the peer table against a flood of statuses with made-up ports and node ids: an address
   * keeps at most MAX_PEERS_PER_ADDRESS entries (its oldest goes), and when the table is full the
   * oldest entry of the address with the most goes. Honest peers announce one entry each and are
   * heard every interval, so a flood sheds its own entries first. Bans and failure counts stay:
   * they grow only with real sync attempts, and must not be shed by a flood.
   */
  private makeRoom(address: string): void {
    const own = this.byAddress.get(address);
    if (own && own.size >= MAX_PEERS_PER_ADDRESS) this.forget(this.oldestOf(own));
    else if (this.peers.size >= MAX_PEERS) {
      let most: Set<string> | undefined;
      for (const keys of this.byAddress.values()) if (!most || keys.size > most.size) most = keys;
      if (most) this.forget(this.oldestOf(most));
    }
  }

  /** The entry heard from longest ago among these keys, one that has served us last. */
  private oldestOf(keys: Set<string>): string {
    let oldest: PeerInfo | undefined;
    for (const key of keys) {
      const p = this.peers.get(key)!;
      const older = !oldest || (p.served === oldest.served ? p.lastSeenMs < oldest.lastSeenMs : oldest.served);
      if (older) oldest = p;
    }
    return oldest!.key;
  }

  private isSetAside(key: string): boolean {
    const until = this.banned.get(key);
    if (until === undefined) return false;
    if (Date.now() >= until) {
      this.banned.delete(key);
      return false;
    }
    return true;
  }

  /** Set aside: itself, or (never having served us) its whole source address. */
  isBanned(key: string): boolean {
    const p = this.peers.get(key);
    return this.isSetAside(key) || (p !== undefined && !p.served && this.isSetAside(addressKey(p.address)));
  }

  /** Forgets peers not heard for a few status intervals (a scan at most every EXPIRY_SCAN_MS: a flood of statuses asks often). */
  private expirePeers(): void {
    const now = Date.now();
    if (now - this.expiredAt < EXPIRY_SCAN_MS) return;
    this.expiredAt = now;
    const horizon = now - PEER_EXPIRY_INTERVALS * this.settings.statusBroadcastIntervalSeconds * 1000 - 2000;
    for (const p of this.peers.values()) if (p.lastSeenMs < horizon) this.forget(p.key);
  }

  /** Peers heard from in the last few status intervals. */
  active(): PeerInfo[] {
    this.expirePeers();
    return [...this.peers.values()];
  }

  /**
   * Among the peers heard lately, announcing more work than `ourWork` and not set aside, the one
   * claiming most (whether any is left to sync from; the order tried is nextCandidate's); claimed
   * work never outranks failure, as failed peers are set aside.
   */
  best(ourWork: bigint): PeerInfo | undefined {
    this.expirePeers();
    let best: PeerInfo | undefined;
    for (const p of this.peers.values()) {
      if (this.isBanned(p.key) || p.status.chainWork <= ourWork) continue;
      if (!best || p.status.chainWork > best.status.chainWork) best = p;
    }
    return best;
  }

  /** Peers announcing more work than `ourWork` that are not set aside (did not fail us lately). */
  credibleAhead(ourWork: bigint): PeerInfo[] {
    return this.active().filter((p) => !this.isBanned(p.key) && p.status.chainWork > ourWork);
  }

  /**
   * The first peer to try a sync from among those `allowed`: announcing more work than `ourWork`
   * and not set aside; those that have served us valid headers or blocks first (a claim backed
   * by proof of work), then the most work claimed. Claimed work alone never puts a peer never
   * proven ahead of one that has served us. One pass over the table (called as each try ends).
   */
  nextCandidate(ourWork: bigint, allowed: (p: PeerInfo) => boolean): PeerInfo | undefined {
    this.expirePeers();
    let best: PeerInfo | undefined;
    for (const p of this.peers.values()) {
      if (p.status.chainWork <= ourWork || (best && !ranksBefore(p, best)) || !allowed(p) || this.isBanned(p.key)) continue;
      best = p;
    }
    return best;
  }

  /**
   * Peers announcing more work than `ourWork` whose claim is not settled, set aside or not: one
   * that has served us (that chain exists and we could not fetch it), unless it broke a rule, and
   * one never proven whose only failure was a timeout (a slow answer on a busy LAN is tried again
   * after a second before its claim is dismissed).
   */
  unsettledAhead(ourWork: bigint): PeerInfo[] {
    return this.active().filter(
      (p) => p.status.chainWork > ourWork && (p.served ? !p.misbehaved : this.secondChance.has(addressKey(p.address))),
    );
  }

  /** Sets a peer that broke a rule aside for `seconds` (and, briefly, the other entries its address made up). */
  ban(peer: PeerInfo, seconds: number): void {
    peer.misbehaved = true;
    this.banned.set(peer.key, Date.now() + seconds * 1000);
    if (!peer.served) this.backOff(peer);
  }

  /**
   * Sets a peer that did not deliver aside so the next-best is tried at once: 5 s, then twice as
   * long with each failure in a row, up to a minute; a never-proven one that only timed out, for
   * the first time, 1 s (tried again soon: see unsettledAhead). One that never served us is set
   * aside with its whole source address (all the statuses it forged under other ports and node
   * ids); one that has served us only by itself (on a LAN many honest nodes may share an address).
   */
  backOff(peer: PeerInfo, timedOut = false): void {
    const key = peer.served ? peer.key : addressKey(peer.address);
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const again = !peer.served && n === 1 && timedOut;
    if (again) this.secondChance.add(key);
    else this.secondChance.delete(key);
    const ms = again ? SECOND_CHANCE_MS : Math.min(BACKOFF_BASE_MS * 2 ** Math.min(n - 1, 4), BACKOFF_MAX_MS);
    this.banned.set(key, Date.now() + ms);
  }

  /** Whether its address timed out once and is to be tried again (with the longer deadline: see ChainSync.probe). */
  onSecondChance(peer: PeerInfo): boolean {
    return !peer.served && this.secondChance.has(addressKey(peer.address));
  }

  /** A sync from it succeeded: it has served us, and its failures in a row (and its address's) are forgotten. */
  served(peer: PeerInfo): void {
    peer.served = true;
    peer.misbehaved = false;
    this.failures.delete(peer.key);
    this.failures.delete(addressKey(peer.address));
    this.secondChance.delete(addressKey(peer.address));
  }
}
