// What one sync run holds open: the wallet's LMDB chain store (locked: one sync per data
// directory), the wallet index hooked into its commits, the Chain, and a ChainNode (no block
// server) that hears miners' status broadcasts, catches up from the one with the most work and,
// when it can, listens on the transaction port for incoming payments. Plus the questions both
// run modes ask: which miner announces the best chain, are we caught up, who is this key.
import { Chain } from '../../../shared/core/chain.js';
import { encodeAddress } from '../../../shared/core/address.js';
import { equalBytes, fromHex, hashToHex } from '../../../shared/core/bytes.js';
import type { CommandContext } from '../../../shared/node/cli/runner.js';
import type { Settings } from '../../../shared/node/cli/config.js';
import { type PeerInfo, ChainNode } from '../../../shared/node/net/node.js';
import { LmdbChainStore } from '../../../shared/node/store/lmdb-store.js';
import { opensslVerifier } from '../../../shared/node/verify/verifier.js';
import { type EventLog, openEventLog } from '../../../shared/node/events.js';
import type { KeyStore } from '../../../shared/node/store/keystore.js';
import { WalletDb } from '../../db/index.js';
import { localKeys, openKeys } from '../../keys.js';
import { chainDir } from '../../datadir.js';

/** Behind by more than this many blocks: a progress bar (on a terminal) instead of a line per block. */
export const FAR_BEHIND_BLOCKS = 20;
/** The best heard is saved for `list-addresses` when it changes, and at least this often. */
const SAVE_BEST_MS = 30_000;
/** ... and at most this often. */
const SAVE_BEST_MIN_MS = 1000;

export class SyncSession {
  readonly settings: Settings;
  readonly db: WalletDb;
  readonly chain: Chain;
  readonly node: ChainNode;
  readonly startHeight: number;
  /** A status from some miner has been heard. */
  heard = false;
  /** The node's last log line: the likely reason when --once cannot catch up. */
  lastProblem: string | undefined;
  private readonly ks: KeyStore;
  private readonly names = new Map<string, string>();
  private lastSaved = '';
  private lastSavedAt = 0;

  private constructor(
    ctx: CommandContext,
    db: WalletDb,
    chain: Chain,
    log: (level: string, msg: string) => void,
    private readonly events?: EventLog,
  ) {
    this.settings = ctx.settings;
    this.db = db;
    this.chain = chain;
    this.ks = openKeys(ctx);
    this.refreshNames();
    this.startHeight = chain.height;
    this.node = new ChainNode({
      settings: ctx.settings,
      chain,
      serveBlocks: false,
      events,
      log: (level, msg) => {
        this.lastProblem = msg;
        log(level, msg);
      },
    });
  }

  /** Opens the store (taking the sync lock) and the chain; closes the store again if that fails. */
  static open(ctx: CommandContext, log: (level: string, msg: string) => void, eventsFile?: string): SyncSession {
    const store = new LmdbChainStore(chainDir(ctx.datadir), 'mvb-wallet sync');
    const db = new WalletDb(store);
    try {
      db.attachHook();
      const chain = new Chain(ctx.settings.params, store, { verifier: opensslVerifier });
      return new SyncSession(ctx, db, chain, log, openEventLog(eventsFile));
    } catch (e) {
      db.close();
      throw e;
    }
  }

  get store(): LmdbChainStore {
    return this.db.store;
  }

  /** The public key hashes of the wallet's keys now (keys may be added while sync runs). */
  pkhs(): string[] {
    return localKeys(this.ks, this.settings.params.addressVersion).map((k) => k.pkhHex);
  }

  refreshNames(): void {
    for (const k of localKeys(this.ks, this.settings.params.addressVersion)) this.names.set(k.pkhHex, k.name);
  }

  /** Local names where known, else addresses. */
  who(pkhs: readonly string[]): string {
    return pkhs.map((h) => this.names.get(h) ?? encodeAddress(fromHex(h), this.settings.params.addressVersion)).join(', ');
  }

  /**
   * The best chain announced by a miner heard lately. Peers set aside (unreachable, or serving an
   * invalid branch) still count: --once then reports that it could not catch up rather than claim
   * to be synced.
   */
  best(): PeerInfo | undefined {
    let b: PeerInfo | undefined;
    for (const p of this.node.activePeers()) if (!b || p.status.chainWork > b.status.chainWork) b = p;
    return b;
  }

  /**
   * Caught up: no peer that has not failed us announces more work, nor one whose claim is not
   * settled (failed or not: one that has served us valid headers or blocks, as that chain exists
   * and we could not fetch it; one never proven that timed out only once, until it is tried
   * again), and the chain we have is backed by a peer that served it, announces it, or announces
   * less work (a forged status pointing at a listener that never answers is set aside once it
   * has failed twice, or once when refused, and then does not count).
   */
  caughtUp(): boolean {
    const peers = this.node.activePeers();
    if (peers.length === 0) return true;
    const tip = this.chain.tip;
    const backed = peers.some((p) => p.served || p.status.chainWork < tip.chainWork || equalBytes(p.status.tipHash, tip.hash));
    return backed && this.node.credibleAhead().length === 0 && this.node.unsettledAhead().length === 0;
  }

  farBehind(): boolean {
    const b = this.best();
    return b !== undefined && b.status.height - this.chain.height > FAR_BEHIND_BLOCKS;
  }

  /** Records the best chain heard, for list-addresses' "synced" column. */
  saveBest(): void {
    const b = this.best();
    if (!b) return;
    const miners = this.node.activePeers().length;
    const key = `${b.status.height}:${b.status.chainWork}:${miners}`;
    const since = Date.now() - this.lastSavedAt;
    // At most one write a second however fast statuses change (a flood of forged ones would be a write each).
    if (since < SAVE_BEST_MIN_MS || (key === this.lastSaved && since < SAVE_BEST_MS)) return;
    this.lastSaved = key;
    this.lastSavedAt = Date.now();
    this.db.setBestHeard({
      height: b.status.height,
      chainWork: b.status.chainWork.toString(),
      tip: hashToHex(b.status.tipHash),
      peers: miners,
      at: Date.now(),
    });
  }

  private nodeStopped?: Promise<void>;
  private closed = false;

  /** Stops the node, waiting for a fetch in progress (once, however often called). */
  stopNode(): Promise<void> {
    this.nodeStopped ??= this.node.stop();
    return this.nodeStopped;
  }

  /** Stops the node, then closes the store. */
  async close(): Promise<void> {
    await this.stopNode();
    if (!this.closed) this.db.close();
    this.events?.close();
    this.closed = true;
  }
}

/**
 * What to check when no miner is heard: the same hint for --once's error and the loop's warning.
 * Classroom Wi-Fi often isolates clients, so broadcasts never arrive: then peers must be listed.
 */
export function noMinerHint(s: Settings): string {
  const peers = s.peers.length ? s.peers.join(', ') : 'none';
  return `is a miner of network ${s.network} running and reachable (broadcastAddress ${s.broadcastAddress}, peers ${peers})? In a class, join with mvb-wallet join URL (it sets the ports and broadcast address); a Wi-Fi that isolates clients drops all traffic between laptops (peers cannot help): use a hotspot or travel router (docs/CLASSROOM.md)`;
}
