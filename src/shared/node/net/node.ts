// A node's network shell around the pure Chain: hears status broadcasts, and for miners broadcasts
// its own status and serves blocks. ChainNode composes the parts: its UDP ports and block server
// (here), the peer table with its bans, back-off and expiry (peers.ts), and the catch-up from the
// first of the peers claiming more work to answer (sync.ts). Anything undecodable heard here is
// dropped and counted.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { equalBytes } from '../../core/bytes.js';
import type { Chain, ChainEntry, ChainUpdate } from '../../core/chain.js';
import type { Header } from '../../core/header.js';
import type { Settings } from '../cli/config.js';
import type { EventLog } from '../events.js';
import { BlockServer } from './blockserver.js';
import { type DropReason, MAX_PUSHED_HEADERS, MsgType, type Status, decodeStatus, encodeStatus } from './protocol.js';
import { STATUS_RATE_LIMIT, UdpChannel } from './udp.js';
import type { BlockSignatureVerifier } from '../verify/block-verifier.js';
import { type PeerInfo, PeerTable } from './peers.js';
import { type CatchUpProgress, ChainSync, type LogLevel } from './sync.js';
import { CompactRelay } from './compact-relay.js';
import type { Block } from '../../core/block.js';
import type { Candidate } from '../../core/compact-rebuild.js';

export type { PeerInfo } from './peers.js';
export type { CatchUpProgress, LogLevel } from './sync.js';

export interface NodeOptions {
  readonly settings: Settings;
  readonly chain: Chain;
  /** Miners serve blocks and announce their tip; wallets only listen and fetch. */
  readonly serveBlocks: boolean;
  /**
   * Address for the TCP block server only. UDP ports always bind to every address: Linux does
   * not deliver broadcasts to a socket bound to a unicast address.
   */
  readonly bindAddress?: string;
  readonly log?: (level: LogLevel, msg: string) => void;
  /** Seconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Blocks fetched per GETBLOCKS request. */
  readonly blocksPerRequest?: number;
  /** `--events FILE`: tips heard and chain updates from peers are logged here. */
  readonly events?: EventLog;
  /** Catching up: blocks connected per store commit (one atomic write per batch). */
  readonly catchUpBatchBlocks?: number;
  /** Signature cache and checking threads: blocks' signatures are verified ahead, in parallel. */
  readonly signatures?: BlockSignatureVerifier;
  /** A miner's name (checked by checkMinerName), sent in its statuses so others can show who it is. */
  readonly name?: string | undefined;
}

export interface NodeEvents {
  update: [ChainUpdate];
  status: [PeerInfo];
  tx: [Uint8Array, { address: string; port: number }];
  synced: [PeerInfo];
  progress: [CatchUpProgress];
}

export class ChainNode extends EventEmitter<NodeEvents> {
  readonly nodeId = new Uint8Array(randomBytes(8));
  /** Who announced what lately, and who is set aside (peers.ts). */
  readonly peerTable: PeerTable;
  /** Catching up from the best peer (sync.ts): the one place the sync strategy lives. */
  private readonly sync: ChainSync;
  /** BIP152 compact blocks on the status port (compact-relay.ts): beside the sync, never behind it. */
  readonly compact: CompactRelay;
  private status?: UdpChannel;
  private txChannel?: UdpChannel;
  server?: BlockServer;
  private statusTimer?: NodeJS.Timeout;
  private stopped = false;
  readonly stats = {
    blocksFetched: 0,
    headersFetched: 0,
    lowWorkHeaders: 0,
    syncErrors: 0,
    bans: 0,
    ownStatusHeard: 0,
    lastDownloadPeers: 0,
    downloadDrops: 0,
    headersPushes: 0,
    keptReused: 0,
  };
  readonly now: () => number;
  private readonly log: (level: LogLevel, msg: string) => void;

  constructor(readonly opts: NodeOptions) {
    super();
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.log = opts.log ?? (() => {});
    this.peerTable = new PeerTable(opts.settings);
    this.sync = new ChainSync({
      chain: opts.chain,
      settings: opts.settings,
      peers: this.peerTable,
      stats: this.stats,
      report: {
        update: (r) => this.emit('update', r),
        synced: (peer) => this.emit('synced', peer),
        progress: (p) => this.emit('progress', p),
      },
      log: this.log,
      now: this.now,
      blocksPerRequest: opts.blocksPerRequest,
      events: opts.events,
      catchUpBatchBlocks: opts.catchUpBatchBlocks,
      signatures: opts.signatures,
    });
    this.compact = new CompactRelay({
      chain: opts.chain,
      settings: opts.settings,
      nodeId: this.nodeId,
      send: (payload) => this.status?.send(MsgType.CompactBlock, payload),
      update: (r) => this.emit('update', r),
      fallback: () => void this.syncNow(),
      log: this.log,
      now: this.now,
      events: opts.events,
      signatures: opts.signatures,
      relay: opts.serveBlocks ? (block) => this.announceBlock(block) : undefined,
    });
  }

  /**
   * Set by a miner: the mempool's transactions, from which compact blocks heard are rebuilt.
   * Without it (a wallet) compact blocks are ignored and blocks come by the sync.
   */
  set compactCandidates(source: () => Iterable<Candidate>) {
    this.compact.candidates = source;
  }

  /** Broadcasts a new tip's compact block at once (miners: a block found, or connected from a peer). */
  announceBlock(block: Block): void {
    if (!this.status || !this.server || this.stopped) return;
    this.compact.announce(block, this.server.port);
  }

  get chain(): Chain {
    return this.opts.chain;
  }
  get settings(): Settings {
    return this.opts.settings;
  }
  /** The peer table's entries, by key (heard lately or not yet expired). */
  get peers(): Map<string, PeerInfo> {
    return this.peerTable.peers;
  }

  /**
   * Opens the ports. transactions: whether to take transactions on the transaction port and emit
   * them as 'tx': 'required' (miners: failing to listen fails the start), 'optional' (a wallet's
   * sync, to hear incoming payments: failing to listen is logged as a warning and start goes on;
   * see listensForTransactions), or 'none'. true and false mean 'required' and 'none'.
   */
  async start(transactions: boolean | 'required' | 'optional' | 'none'): Promise<void> {
    const s = this.settings;
    this.status = new UdpChannel(
      s.params,
      { port: s.statusPort, broadcastAddress: s.broadcastAddress, peers: s.peers, rateLimit: STATUS_RATE_LIMIT },
      (type, payload, from) => this.onStatusFrame(type, payload, from),
    );
    await this.status.listening();
    const mode = transactions === true ? 'required' : transactions === false ? 'none' : transactions;
    if (mode !== 'none') await this.openTransactionPort(mode === 'required');
    if (this.opts.serveBlocks) {
      this.server = new BlockServer(s.params, this.chain, {
        port: s.blockServerPort,
        host: this.opts.bindAddress,
        maxConnections: s.maxTcpConnections,
        timeoutMs: s.tcpTimeoutSeconds * 1000,
        // An address we synced valid blocks from: a few of its connections are kept when full.
        vouched: (address) => [...this.peers.values()].some((p) => p.served && p.address === address),
        relaying: (hash) => this.compact.relayingBlock(hash),
      });
      await this.server.listen();
      this.announce();
      this.statusTimer = setInterval(() => this.announce(), s.statusBroadcastIntervalSeconds * 1000);
    }
  }

  /** The one transaction socket of this process: every transaction heard is emitted as 'tx'. */
  private async openTransactionPort(required: boolean): Promise<void> {
    const s = this.settings;
    // No per-source limit on datagrams here: a source is only what a datagram claims, and a flood
    // forged from an honest sender's address must not drop its payments. The transaction intake
    // (mempool/intake.ts) runs the cheap checks first and charges sources for signature work only.
    const ch = new UdpChannel(
      s.params,
      { port: s.transactionPort, broadcastAddress: s.broadcastAddress, peers: s.peers },
      (type, payload, from) => {
        if (type === MsgType.Tx) this.emit('tx', payload, from);
        else ch.drop('type');
      },
    );
    try {
      await ch.listening();
      this.txChannel = ch;
    } catch (e) {
      await ch.close();
      if (required) throw e;
      this.log('warn', `cannot listen for transactions on UDP port ${s.transactionPort}: ${(e as Error).message}`);
    }
  }

  /** Whether the transaction port is open (start with 'optional' may have gone on without it). */
  get listensForTransactions(): boolean {
    return this.txChannel !== undefined;
  }

  /** Counts a transaction heard on our port that its listener could not use (as the channel counts its own drops). */
  dropTransaction(reason: DropReason): void {
    this.txChannel?.drop(reason);
  }

  /** Datagrams dropped on our ports, by reason. */
  dropped(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const ch of [this.status, this.txChannel]) {
      for (const [k, v] of Object.entries(ch?.dropped ?? {})) out[k] = (out[k] ?? 0) + (v ?? 0);
    }
    return out;
  }

  /** Broadcasts our tip now (miners: at every new tip and on a timer). */
  announce(mempoolSize = 0): void {
    if (!this.status || !this.server || this.stopped) return;
    const tip = this.chain.tip;
    this.server.pushHeaders(this.recentHeaders());
    this.status.send(
      MsgType.Status,
      encodeStatus({
        tipHash: tip.hash,
        height: tip.height,
        chainWork: tip.chainWork,
        blockServerPort: this.server.port,
        nodeId: this.nodeId,
        mempoolSize: mempoolSize || this.mempoolSize(),
        name: this.opts.name,
      }),
    );
  }

  /**
   * The tip's header and those before it, MAX_PUSHED_HEADERS in all, oldest first: what a client
   * at most that many blocks behind needs to connect the new tip (BIP130 pushes). Sent with every
   * status, so a kept connection also hears the tip when the datagram is lost, and stays open.
   */
  private recentHeaders(): Header[] {
    const out: Header[] = [];
    for (let e: ChainEntry | undefined = this.chain.tip; e && e.height > 0 && out.length < MAX_PUSHED_HEADERS; e = e.parent)
      out.push(e.header);
    return out.reverse();
  }

  /** Set by the miner so status messages carry its mempool size. */
  mempoolSize: () => number = () => 0;

  /** Broadcasts a transaction on the transaction port. */
  broadcastTx(raw: Uint8Array): void {
    this.txChannel?.send(MsgType.Tx, raw);
  }

  private onStatusFrame(type: MsgType, payload: Uint8Array, from: { address: string; port: number }): void {
    if (type === MsgType.CompactBlock) {
      this.compact.onDatagram(payload, from);
      return;
    }
    if (type !== MsgType.Status) {
      this.status!.drop('type');
      return;
    }
    let st: Status;
    try {
      st = decodeStatus(payload);
    } catch {
      this.status!.drop('payload');
      return;
    }
    if (equalBytes(st.nodeId, this.nodeId)) {
      this.stats.ownStatusHeard++;
      return;
    }
    // Port 0 is no block server: nothing to sync from (and never a peer to choose).
    if (st.blockServerPort === 0) {
      this.status!.drop('payload');
      return;
    }
    const info = this.peerTable.heard(from.address, st);
    this.opts.events?.heardTip(st.tipHash, st.height, from.address);
    this.emit('status', info);
    if (st.chainWork > this.chain.tip.chainWork) void this.syncNow();
  }

  /** Set aside: itself, or (never having served us) its whole source address. */
  isBanned(key: string): boolean {
    return this.peerTable.isBanned(key);
  }

  /** The peer to sync from next (peers.ts PeerTable.best): the most work above ours, not set aside. */
  bestPeer(): PeerInfo | undefined {
    return this.peerTable.best(this.chain.tip.chainWork);
  }

  /** Peers announcing more work than our tip whose claim stands: not set aside, and not never-proven ones that failed before. */
  credibleAhead(): PeerInfo[] {
    return this.peerTable.credibleAhead(this.chain.tip.chainWork);
  }

  /** Peers announcing more work than our tip whose claim is not settled, set aside or not (peers.ts PeerTable.unsettledAhead). */
  unsettledAhead(): PeerInfo[] {
    return this.peerTable.unsettledAhead(this.chain.tip.chainWork);
  }

  /** Peers heard from in the last few status intervals. */
  activePeers(): PeerInfo[] {
    return this.peerTable.active();
  }

  /** Catches up with the best peer (sync.ts ChainSync.syncNow): one at a time, never throws. */
  syncNow(): Promise<void> {
    return this.sync.syncNow();
  }

  /** Headers first from the peer, then the blocks we lack (sync.ts ChainSync.syncFrom). */
  syncFrom(peer: PeerInfo): Promise<boolean> {
    return this.sync.syncFrom(peer);
  }

  /** Stops, waiting for a sync in progress to end so the caller may close the store afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    await Promise.all([this.sync.stop(), this.compact.stop()]);
    await Promise.all([this.status?.close(), this.txChannel?.close(), this.server?.close()]);
  }
}
