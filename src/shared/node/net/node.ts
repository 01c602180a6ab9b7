// A node's network shell around the pure Chain: hears status broadcasts, catches up from the peer
// with the most work over TCP (headers first, then blocks), and for miners broadcasts its own
// status and serves blocks. Rule failures map to actions here: a peer that sends an invalid block
// is ignored for peerBanSeconds; anything undecodable is dropped and counted.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { equalBytes, hashToHex, toHex } from '../../core/bytes.js';
import type { Chain, ChainEntry, ChainUpdate } from '../../core/chain.js';
import type { Settings } from '../config.js';
import { ValidationError } from '../../core/validation.js';
import type { EventLog } from '../events.js';
import { BlockClient, PeerError } from './blockclient.js';
import { BlockServer } from './blockserver.js';
import { type DropReason, MAX_HEADERS_PER_MESSAGE, MsgType, type Status, decodeStatus, encodeStatus } from './protocol.js';
import { STATUS_RATE_LIMIT, TX_RATE_LIMIT, UdpChannel } from './udp.js';

export interface PeerInfo {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  status: Status;
  lastSeenMs: number;
}

export type LogLevel = 'info' | 'warn' | 'debug';

/** Peers remembered at most (a LAN has far fewer miners). */
const MAX_PEERS = 1000;

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
}

export interface NodeEvents {
  update: [ChainUpdate];
  status: [PeerInfo];
  tx: [Uint8Array, { address: string; port: number }];
  synced: [PeerInfo];
}

export class ChainNode extends EventEmitter<NodeEvents> {
  readonly nodeId = new Uint8Array(randomBytes(8));
  readonly peers = new Map<string, PeerInfo>();
  private readonly banned = new Map<string, number>();
  /** Syncs in a row that timed out, by peer: each sets the peer aside twice as long. */
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
    const key = `${from.address}:${st.blockServerPort}`;
    const prev = this.peers.get(key);
    if (!prev && this.peers.size >= MAX_PEERS) this.forgetOldestPeer();
    const info: PeerInfo = prev ?? { key, address: from.address, port: st.blockServerPort, status: st, lastSeenMs: 0 };
    info.status = st;
    info.lastSeenMs = Date.now();
    this.peers.set(key, info);
    this.opts.events?.heardTip(st.tipHash, st.height, from.address);
    this.emit('status', info);
    if (st.chainWork > this.chain.tip.chainWork && st.blockServerPort !== 0) void this.syncNow();
  }

  /** Bounds the peer table against a flood of statuses from made-up senders: the one heard from longest ago goes. */
  private forgetOldestPeer(): void {
    let oldest: PeerInfo | undefined;
    for (const p of this.peers.values()) if (!oldest || p.lastSeenMs < oldest.lastSeenMs) oldest = p;
    // Its ban and failure count stay: they grow only with real sync attempts, and must not be
    // shed by a flood.
    if (oldest) this.peers.delete(oldest.key);
  }

  isBanned(key: string): boolean {
    const until = this.banned.get(key);
    if (until === undefined) return false;
    if (Date.now() >= until) {
      this.banned.delete(key);
      return false;
    }
    return true;
  }

  /** The peer announcing the most work above ours that is not banned. */
  bestPeer(): PeerInfo | undefined {
    let best: PeerInfo | undefined;
    for (const p of this.peers.values()) {
      if (this.isBanned(p.key) || p.status.chainWork <= this.chain.tip.chainWork) continue;
      if (!best || p.status.chainWork > best.status.chainWork) best = p;
    }
    return best;
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
    this.log('warn', `ignoring ${peer.key} for ${this.settings.peerBanSeconds}s: ${why}`);
  }

  /** Headers first from the peer, then the blocks we lack along the best header chain. */
  async syncFrom(peer: PeerInfo): Promise<boolean> {
    const client = new BlockClient(this.settings.params, peer.address, peer.port, this.settings.tcpTimeoutSeconds * 1000);
    this.client = client;
    const perRequest = this.opts.blocksPerRequest ?? 16;
    const startTip = this.chain.tip;
    try {
      await client.connect();
      for (let round = 0; !this.stopped; round++) {
        const headers = await client.getHeaders(this.chain.locator(this.chain.bestHeader()), MAX_HEADERS_PER_MESSAGE);
        this.stats.headersFetched += headers.length;
        for (const h of headers) this.chain.acceptHeader(h, this.now());
        await this.fetchMissingBlocks(client, perRequest);
        if (headers.length < MAX_HEADERS_PER_MESSAGE) break;
      }
      // A peer that announces more work than it then serves (a fake status, or a bogus block
      // server) would otherwise be synced from again at once, forever.
      if (!this.stopped && this.chain.tip.chainWork < peer.status.chainWork) throw new PeerError(`${peer.key} did not serve the chain it announced`);
      this.failures.delete(peer.key);
      if (this.chain.tip !== startTip) this.emit('synced', peer);
      return true;
    } catch (e) {
      this.stats.syncErrors++;
      if (e instanceof ValidationError) {
        if (e.misbehaving) this.ban(peer, e.message);
        else this.log('info', `sync with ${peer.key} stopped: ${e.message}`);
      } else if (e instanceof PeerError) {
        this.log('info', `sync with ${peer.key} failed: ${e.message}`);
        // A peer that stops answering is also set aside briefly so others get a chance: 5 s, and
        // after each timeout in a row twice as long (up to a minute), so a peer that accepts
        // connections but never answers cannot keep us waiting on it most of the time.
        const n = e.timedOut ? (this.failures.get(peer.key) ?? 0) + 1 : 0;
        if (n) this.failures.set(peer.key, n);
        this.banned.set(peer.key, Date.now() + Math.min(5000 * 2 ** Math.min(Math.max(n - 1, 0), 4), 60_000));
      } else {
        this.log('warn', `sync with ${peer.key} failed: ${(e as Error).stack ?? String(e)}`);
      }
      return false;
    } finally {
      client.close();
    }
  }

  private async fetchMissingBlocks(client: BlockClient, perRequest: number): Promise<void> {
    const best = this.chain.bestHeader();
    const need: ChainEntry[] = [];
    for (let e: ChainEntry | undefined = best; e && !e.haveChain; e = e.parent) if (e.status === 'header') need.push(e);
    need.reverse();
    for (let i = 0; i < need.length && !this.stopped; i += perRequest) {
      const batch = need.slice(i, i + perRequest);
      const blocks = await client.getBlocks(batch.map((e) => e.hash));
      if (blocks.length === 0) throw new PeerError(`${client.host}:${client.port} does not have block ${hashToHex(batch[0]!.hash)}`);
      for (const b of blocks) {
        this.stats.blocksFetched++;
        const r = this.chain.processBlock(b, this.now());
        if (r.status !== 'accepted') continue;
        this.opts.events?.update(r, 'peer');
        if (r.connected.length || r.disconnected.length) this.emit('update', r);
        // An earlier block of this peer's branch failed when the branch was connected.
        if (r.invalid.length) throw r.invalid[0]!.error;
      }
      if (blocks.length < batch.length) throw new PeerError(`${client.host}:${client.port} lacks some blocks it announced`);
    }
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
    const horizon = Date.now() - 3 * this.settings.statusBroadcastIntervalSeconds * 1000 - 2000;
    return [...this.peers.values()].filter((p) => p.lastSeenMs >= horizon);
  }
}
