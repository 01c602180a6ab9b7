// A node's network shell around the pure Chain: hears status broadcasts, catches up from the peer
// with the most work over TCP (headers first, then blocks), and for miners broadcasts its own
// status and serves blocks. Rule failures map to actions here: a peer that sends an invalid block
// is ignored for peerBanSeconds; anything undecodable is dropped and counted.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { equalBytes, hashToHex, toHex } from '../../core/bytes.js';
import type { Chain, ChainEntry, ChainUpdate } from '../../core/chain.js';
import type { Settings } from '../cli/config.js';
import { ValidationError } from '../../core/validation.js';
import type { EventLog } from '../events.js';
import { BlockClient, PeerError } from './blockclient.js';
import { BlockServer } from './blockserver.js';
import { type DropReason, MAX_HASHES_PER_REQUEST, MAX_HEADERS_PER_MESSAGE, MsgType, type Status, decodeStatus, encodeStatus } from './protocol.js';
import { STATUS_RATE_LIMIT, TX_RATE_LIMIT, UdpChannel } from './udp.js';
import { type Block, blockSize } from '../../core/block.js';
import type { BlockSignatureVerifier } from '../verify/block-verifier.js';

export interface PeerInfo {
  /** What the sender showed us: its source address, the block-server port and node id it claims. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  status: Status;
  lastSeenMs: number;
  /** It has served us valid headers or blocks: claimed work is then backed by something. */
  served: boolean;
}

export type LogLevel = 'info' | 'warn' | 'debug';

/**
 * Blocks per GETBLOCKS request while catching up: fewer round trips, while one answer stays
 * bounded (64 x maxBlockBytes; a classroom's blocks are mostly far smaller).
 */
const CATCH_UP_BLOCKS_PER_REQUEST = 64;
/** A catch-up batch holds at most this many bytes of blocks before it is connected (memory bound). */
const MAX_CATCH_UP_BATCH_BYTES = 64_000_000;

/** Peers remembered at most (a LAN has far fewer miners). */
const MAX_PEERS = 1000;
/** A peer not heard for this many status intervals is forgotten. */
const PEER_EXPIRY_INTERVALS = 3;
/**
 * How long a peer that never served us may take to answer, at most (a LAN miner answers
 * GETHEADERS in milliseconds): a listener that accepts and never answers costs this, not the
 * whole tcpTimeoutSeconds.
 */
const UNPROVEN_ANSWER_MS = 3000;
/** Back-off after a failed sync: 5 s, doubling with each failure in a row, at most a minute. */
const BACKOFF_BASE_MS = 5000;
const BACKOFF_MAX_MS = 60_000;

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
}

/** How far a catch-up has come: blocks connected of those needed, and the best header's height. */
export interface CatchUpProgress {
  readonly done: number;
  readonly total: number;
  readonly height: number;
  readonly targetHeight: number;
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
  readonly peers = new Map<string, PeerInfo>();
  /** Until when a peer key, or a whole source address ("addr:" + address), is set aside. */
  private readonly banned = new Map<string, number>();
  /** Failed syncs in a row, by peer key or source address: each sets it aside twice as long. */
  private readonly failures = new Map<string, number>();
  private status?: UdpChannel;
  private txChannel?: UdpChannel;
  server?: BlockServer;
  private statusTimer?: NodeJS.Timeout;
  private syncing = false;
  /** The sync loop running now (or the last one), and its connection. */
  private syncRun?: Promise<void>;
  private client?: BlockClient;
  private syncAgain = false;
  private stopped = false;
  readonly stats = { blocksFetched: 0, headersFetched: 0, syncErrors: 0, bans: 0, ownStatusHeard: 0 };
  readonly now: () => number;
  private readonly log: (level: LogLevel, msg: string) => void;

  constructor(readonly opts: NodeOptions) {
    super();
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.log = opts.log ?? (() => {});
  }

  get chain(): Chain {
    return this.opts.chain;
  }
  get settings(): Settings {
    return this.opts.settings;
  }

  /**
   * Opens the ports. transactions: whether to take transactions on the transaction port and emit
   * them as 'tx': 'required' (miners: failing to listen fails the start), 'optional' (a wallet's
   * sync, to hear incoming payments: failing to listen is logged as a warning and start goes on;
   * see listensForTransactions), or 'none'. true and false mean 'required' and 'none'.
   */
  async start(transactions: boolean | 'required' | 'optional' | 'none'): Promise<void> {
    const s = this.settings;
    this.status = new UdpChannel(s.params, { port: s.statusPort, broadcastAddress: s.broadcastAddress, peers: s.peers, rateLimit: STATUS_RATE_LIMIT }, (type, payload, from) => this.onStatusFrame(type, payload, from));
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
      });
      await this.server.listen();
      this.announce();
      this.statusTimer = setInterval(() => this.announce(), s.statusBroadcastIntervalSeconds * 1000);
    }
  }

  /** The one transaction socket of this process: every transaction heard is emitted as 'tx'. */
  private async openTransactionPort(required: boolean): Promise<void> {
    const s = this.settings;
    const ch = new UdpChannel(s.params, { port: s.transactionPort, broadcastAddress: s.broadcastAddress, peers: s.peers, rateLimit: TX_RATE_LIMIT }, (type, payload, from) => {
      if (type === MsgType.Tx) this.emit('tx', payload, from);
      else ch.drop('type');
    });
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
    this.status.send(
      MsgType.Status,
      encodeStatus({ tipHash: tip.hash, height: tip.height, chainWork: tip.chainWork, blockServerPort: this.server.port, nodeId: this.nodeId, mempoolSize: mempoolSize || this.mempoolSize() }),
    );
  }

  /** Set by the miner so status messages carry its mempool size. */
  mempoolSize: () => number = () => 0;

  /** Broadcasts a transaction on the transaction port. */
  broadcastTx(raw: Uint8Array): void {
    this.txChannel?.send(MsgType.Tx, raw);
  }

  private onStatusFrame(type: MsgType, payload: Uint8Array, from: { address: string; port: number }): void {
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
    // Keyed by all the sender showed: a status forged with another peer's address and port but
    // its own node id is another entry, not an overwrite.
    const key = `${from.address}:${st.blockServerPort}:${toHex(st.nodeId)}`;
    const prev = this.peers.get(key);
    if (!prev && this.peers.size >= MAX_PEERS) this.forgetOldestPeer();
    const info: PeerInfo = prev ?? { key, address: from.address, port: st.blockServerPort, status: st, lastSeenMs: 0, served: false };
    info.status = st;
    info.lastSeenMs = Date.now();
    this.peers.set(key, info);
    this.opts.events?.heardTip(st.tipHash, st.height, from.address);
    this.emit('status', info);
    if (st.chainWork > this.chain.tip.chainWork) void this.syncNow();
  }

  /** Bounds the peer table against a flood of statuses from made-up senders: the one heard from longest ago goes. */
  private forgetOldestPeer(): void {
    let oldest: PeerInfo | undefined;
    for (const p of this.peers.values()) if (!oldest || p.lastSeenMs < oldest.lastSeenMs) oldest = p;
    // Its ban and failure count stay: they grow only with real sync attempts, and must not be
    // shed by a flood.
    if (oldest) this.peers.delete(oldest.key);
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
    return this.isSetAside(key) || (p !== undefined && !p.served && this.isSetAside(`addr:${p.address}`));
  }

  /** Forgets peers not heard for a few status intervals. */
  private expirePeers(): void {
    const horizon = Date.now() - PEER_EXPIRY_INTERVALS * this.settings.statusBroadcastIntervalSeconds * 1000 - 2000;
    for (const p of this.peers.values()) if (p.lastSeenMs < horizon) this.peers.delete(p.key);
  }

  /**
   * The peer to sync from: among those heard lately, announcing more work than ours and not set
   * aside, the most work; claimed work never outranks failure, as failed peers are set aside.
   */
  bestPeer(): PeerInfo | undefined {
    this.expirePeers();
    let best: PeerInfo | undefined;
    for (const p of this.peers.values()) {
      if (this.isBanned(p.key) || p.status.chainWork <= this.chain.tip.chainWork) continue;
      if (!best || p.status.chainWork > best.status.chainWork) best = p;
    }
    return best;
  }

  /** Peers announcing more work than our tip that are not set aside (did not fail us lately). */
  credibleAhead(): PeerInfo[] {
    return this.activePeers().filter((p) => !this.isBanned(p.key) && p.status.chainWork > this.chain.tip.chainWork);
  }

  /**
   * Catches up with the best peer. One sync at a time; a request while one runs makes it run
   * again afterwards. Never throws: failures are logged and counted.
   */
  syncNow(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return Promise.resolve();
    }
    this.syncing = true;
    this.syncRun = this.syncLoop();
    return this.syncRun;
  }

  private async syncLoop(): Promise<void> {
    try {
      do {
        this.syncAgain = false;
        const peer = this.bestPeer();
        if (!peer || this.stopped) break;
        await this.syncFrom(peer);
      } while (this.syncAgain || this.bestPeer());
    } finally {
      this.syncing = false;
    }
  }

  private ban(peer: PeerInfo, why: string): void {
    this.stats.bans++;
    this.banned.set(peer.key, Date.now() + this.settings.peerBanSeconds * 1000);
    if (!peer.served) this.backOff(peer); // and, briefly, the other entries its address made up
    this.log('warn', `ignoring ${this.describe(peer)} for ${this.settings.peerBanSeconds}s: ${why}`);
  }

  /** Headers first from the peer, then the blocks we lack along the best header chain. */
  async syncFrom(peer: PeerInfo): Promise<boolean> {
    const full = this.settings.tcpTimeoutSeconds * 1000;
    const client = new BlockClient(this.settings.params, peer.address, peer.port, peer.served ? full : Math.min(full, UNPROVEN_ANSWER_MS));
    this.client = client;
    const perRequest = this.opts.blocksPerRequest ?? 16;
    const startTip = this.chain.tip;
    // What it claimed when we started: a block it finds meanwhile is not a failure to serve.
    const claimed = peer.status.chainWork;
    try {
      await client.connect();
      for (let round = 0; !this.stopped; round++) {
        const headers = await client.getHeaders(this.chain.locator(this.chain.bestHeader()), MAX_HEADERS_PER_MESSAGE);
        this.stats.headersFetched += headers.length;
        this.chain.acceptHeaders(headers, this.now());
        if (headers.length && !peer.served) {
          peer.served = true; // valid headers (each with its proof of work): it is worth our full patience
          client.timeoutMs = full;
        }
        await this.fetchMissingBlocks(client, perRequest);
        if (headers.length < MAX_HEADERS_PER_MESSAGE) break;
      }
      // A peer that announces more work than it then serves (a fake status, or a bogus block
      // server) would otherwise be synced from again at once, forever.
      if (!this.stopped && this.chain.tip.chainWork < claimed) throw new PeerError(`${this.describe(peer)} did not serve the chain it announced`);
      peer.served = true;
      this.failures.delete(peer.key);
      this.failures.delete(`addr:${peer.address}`);
      if (peer.status.chainWork > this.chain.tip.chainWork) this.syncAgain = true; // it moved on meanwhile
      if (this.chain.tip !== startTip) this.emit('synced', peer);
      return true;
    } catch (e) {
      this.onSyncFailure(peer, e);
      return false;
    } finally {
      client.close();
    }
  }

  private describe(peer: PeerInfo): string {
    return `${peer.address}:${peer.port}`;
  }

  private onSyncFailure(peer: PeerInfo, e: unknown): void {
    this.stats.syncErrors++;
    if (e instanceof ValidationError) {
      if (e.misbehaving) this.ban(peer, e.message);
      else this.log('info', `sync with ${this.describe(peer)} stopped: ${e.message}`);
    } else if (e instanceof PeerError) {
      this.log('info', `sync with ${this.describe(peer)} failed: ${e.message}`);
      this.backOff(peer);
    } else {
      this.log('warn', `sync with ${this.describe(peer)} failed: ${(e as Error).message ?? String(e)}`);
      this.backOff(peer);
    }
  }

  /**
   * Sets a peer that did not deliver aside so the next-best is tried at once: 5 s, then twice as
   * long with each failure in a row, up to a minute. One that never served us is set aside with
   * its whole source address (all the statuses it forged under other ports and node ids); one
   * that has served us only by itself (on a LAN many honest nodes may share an address).
   */
  private backOff(peer: PeerInfo): void {
    const key = peer.served ? peer.key : `addr:${peer.address}`;
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.banned.set(key, Date.now() + Math.min(BACKOFF_BASE_MS * 2 ** Math.min(n - 1, 4), BACKOFF_MAX_MS));
  }

  /**
   * Fetches the blocks along the best header chain that we lack, blocksPerRequest per request, the next
   * request in flight while the current blocks are checked and connected. Far behind (more than
   * one request's worth), blocks are connected catchUpBatchBlocks per store commit, their
   * signatures verified ahead in worker threads, and progress reported.
   */
  private async fetchMissingBlocks(client: BlockClient, perRequest: number): Promise<void> {
    const best = this.chain.bestHeader();
    const need: ChainEntry[] = [];
    for (let e: ChainEntry | undefined = best; e && !e.haveChain; e = e.parent) if (e.status === 'header') need.push(e);
    need.reverse();
    const batchBlocks = need.length > perRequest ? Math.max(1, this.opts.catchUpBatchBlocks ?? 500) : 1;
    // Far behind: fewer, larger requests (the server streams them under its own unsent-bytes cap).
    if (batchBlocks > 1) perRequest = Math.min(MAX_HASHES_PER_REQUEST, Math.max(perRequest, CATCH_UP_BLOCKS_PER_REQUEST));
    const fetch = (i: number): Promise<Block[]> => {
      const want = need.slice(i, i + perRequest);
      const p = client.getBlocks(want.map((e) => e.hash)).then((blocks) => {
        if (blocks.length === 0) throw new PeerError(`${client.host}:${client.port} does not have block ${hashToHex(want[0]!.hash)}`);
        if (blocks.length < want.length) throw new PeerError(`${client.host}:${client.port} lacks some blocks it announced`);
        return blocks;
      });
      p.catch(() => {}); // awaited below; this only keeps a failure while we are busy from going unhandled
      return p;
    };
    let next = need.length ? fetch(0) : undefined;
    let pending: Block[] = [];
    let pendingBytes = 0;
    let checking: Promise<void>[] = [];
    let created = new Map<string, Uint8Array>();
    let done = 0;
    let loggedAt = performance.now();
    for (let i = 0; next && !this.stopped; i += perRequest) {
      const blocks = await next;
      next = i + perRequest < need.length ? fetch(i + perRequest) : undefined;
      this.stats.blocksFetched += blocks.length;
      pending.push(...blocks);
      for (const b of blocks) pendingBytes += blockSize(b);
      // Signatures are checked in the worker threads as blocks arrive, while the next ones download.
      // A failed check only leaves the cache unfilled (connecting verifies again), so it is dropped.
      const sigs = this.opts.signatures;
      if (batchBlocks > 1 && sigs) checking.push(sigs.preverify(blocks, this.chain.coins, created).catch(() => {}));
      if (batchBlocks > 1 && pending.length < batchBlocks && pendingBytes < MAX_CATCH_UP_BATCH_BYTES && next) continue;
      done += pending.length;
      await Promise.all(checking);
      await this.connectBlocks(pending, batchBlocks > 1);
      [pending, pendingBytes, checking, created] = [[], 0, [], new Map()];
      if (batchBlocks === 1) continue;
      this.emit('progress', { done, total: need.length, height: this.chain.height, targetHeight: best.height });
      if (performance.now() - loggedAt > 2000 || done === need.length) {
        loggedAt = performance.now();
        this.log('info', `catching up: block ${this.chain.height} of ${best.height} (${done}/${need.length} fetched)`);
      }
    }
  }

  /**
   * Connects fetched blocks: as one batch (one store commit) when catching up (their signatures
   * already checked ahead by the caller), else one by one.
   */
  private async connectBlocks(blocks: Block[], asBatch: boolean): Promise<void> {
    if (!asBatch) {
      await this.opts.signatures?.preverify(blocks, this.chain.coins);
      for (const b of blocks) {
        const r = this.chain.processBlock(b, this.now());
        if (r.status !== 'accepted') continue;
        this.opts.events?.update(r, 'peer');
        if (r.connected.length || r.disconnected.length) this.emit('update', r);
        // An earlier block of this peer's branch failed when the branch was connected.
        if (r.invalid.length) throw r.invalid[0]!.error;
      }
      return;
    }
    const r = this.chain.processBlocks(blocks, this.now());
    this.opts.events?.update(r, 'peer');
    if (r.connected.length || r.disconnected.length) this.emit('update', r);
    if (r.rejected) throw r.rejected;
    if (r.invalid.length) throw r.invalid[0]!.error;
  }

  /** Stops, waiting for a sync in progress to end so the caller may close the store afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.client?.close();
    await this.syncRun;
    await Promise.all([this.status?.close(), this.txChannel?.close(), this.server?.close()]);
  }



  /** Peers heard from in the last few status intervals. */
  activePeers(): PeerInfo[] {
    this.expirePeers();
    return [...this.peers.values()];
  }
}
