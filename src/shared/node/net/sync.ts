// How a node catches up: from the first of the peers claiming more work to answer (a few tried at
// once, each with its own deadline, those that served us valid data first: the peer table's
// order), headers first over TCP, then the blocks it lacks along the best header chain, connected
// one by one or, far behind, in batches with their signatures checked ahead in threads. Kept apart
// from the node's sockets (node.ts) and the peer table (peers.ts) so the sync strategy can change
// alone: its seam is ChainSync's three calls (syncNow, syncFrom, stop) and what it reports back
// (SyncReports, the counters, and the table's ban / backOff / served). Rule failures map to actions
// here: a peer that sends an invalid block is set aside for peerBanSeconds; one that fails to
// deliver backs off.
import { hashToHex } from '../../core/bytes.js';
import type { Chain, ChainEntry, ChainUpdate } from '../../core/chain.js';
import { type Block, blockSize } from '../../core/block.js';
import { type Header, headerHash } from '../../core/header.js';
import { ValidationError } from '../../core/validation.js';
import type { Settings } from '../cli/config.js';
import type { EventLog } from '../events.js';
import type { BlockSignatureVerifier } from '../verify/block-verifier.js';
import { BlockClient, PeerError } from './blockclient.js';
import { BlockDownload, type DownloadedRun } from './block-download.js';
import { KeptConnections } from './kept-connections.js';
import type { PeerInfo, PeerTable } from './peers.js';
import { MAX_HASHES_PER_REQUEST, MAX_HEADERS_PER_MESSAGE } from './protocol.js';

export type LogLevel = 'info' | 'warn' | 'debug';

/**
 * Blocks per GETBLOCKS request while catching up: fewer round trips, while one answer stays
 * bounded (64 x maxBlockBytes; a classroom's blocks are mostly far smaller).
 */
const CATCH_UP_BLOCKS_PER_REQUEST = 64;
/** A catch-up batch holds at most this many bytes of blocks before it is connected (memory bound). */
const MAX_CATCH_UP_BATCH_BYTES = 64_000_000;
/**
 * How long a peer that never served us may take to connect (a host on the LAN answers in
 * milliseconds; an address where nobody is costs this), and then to answer (a LAN miner answers
 * GETHEADERS in milliseconds; a listener that accepts and never answers costs this), not the
 * whole tcpTimeoutSeconds: UNPROVEN_FIRST_ANSWER_MS at first, and UNPROVEN_ANSWER_MS on its
 * second chance (peers.ts backOff), so a slow honest miner is still heard while S silent listeners
 * cost a wallet's `sync --once` about 1 + 1 (aside) + 2 s, not 2 + 1 + 2.
 */
const UNPROVEN_CONNECT_MS = 500;
const UNPROVEN_FIRST_ANSWER_MS = 1000;
const UNPROVEN_ANSWER_MS = 2000;
/**
 * Peers never proven tried at once, each with its own deadline: forged statuses from A addresses
 * where nobody answers cost about A / PROBES_AT_ONCE x UNPROVEN_CONNECT_MS in all (S silent
 * listeners S / PROBES_AT_ONCE x UNPROVEN_ANSWER_MS), not a deadline each.
 */
const PROBES_AT_ONCE = 32;
/** Peers that have served us tried at once besides: a flood of unproven ones never crowds them out. */
const PROVEN_PROBES_AT_ONCE = 2;
/** Peers a catch-up downloads blocks from at once (Core: MAX_BLOCKS_IN_TRANSIT_PER_PEER x peers; here a LAN's few miners). */
const MAX_DOWNLOAD_PEERS = 4;
/** Blocks requested ahead of the first not yet connected (Core's BLOCK_DOWNLOAD_WINDOW). */
const BLOCK_DOWNLOAD_WINDOW = 1024;
/** A peer holding back the window's first block this long while another waits is dropped (Core's BLOCK_STALLING_TIMEOUT). */
const BLOCK_STALLING_MS = 2000;
/**
 * Bytes held by a download (blocks out of order, and maxBlockBytes for each block in flight), in
 * blocks at the size limit: two requests of CATCH_UP_BLOCKS_PER_REQUEST, as before the download
 * was spread over peers (which then take smaller requests).
 */
const MAX_IN_FLIGHT_REQUESTS_BYTES = 2 * CATCH_UP_BLOCKS_PER_REQUEST;
/** Requests in flight per peer (pipelined on its connection): the next answer is on its way while one is read. */
const PER_PEER_REQUESTS = 2;
/** Headers held in memory by the one running sync while their chain lacks the work to be stored (10 rounds of 2 000, ≈ 2 MB). */
const MAX_PRESYNC_HEADERS = 20_000;

/** How far a catch-up has come: blocks connected of those needed, and the best header's height. */
export interface CatchUpProgress {
  readonly done: number;
  readonly total: number;
  readonly height: number;
  readonly targetHeight: number;
}

/** What a sync reports to its node, which emits each at once as its own event of that name. */
export interface SyncReports {
  /** Blocks connected or disconnected (a block at a time, or a catch-up batch). */
  update(r: ChainUpdate): void;
  /** A sync from this peer ended with a new tip. */
  synced(peer: PeerInfo): void;
  /** A catch-up batch was connected. */
  progress(p: CatchUpProgress): void;
}

/** The sync's counters (a part of ChainNode.stats, the same object). */
export interface SyncStats {
  blocksFetched: number;
  headersFetched: number;
  /** Headers offered whose chain never reached the anti-DoS work threshold: dropped, not stored. */
  lowWorkHeaders: number;
  syncErrors: number;
  bans: number;
  /** Peers that served blocks to the last sync's block downloads (more than one: they were spread). */
  lastDownloadPeers: number;
  /** Peers dropped from block downloads (failed, stalled, or lacking blocks asked for). */
  downloadDrops: number;
  /** HEADERS pushed to us over kept connections (BIP130) that gave a better chain and started a sync. */
  headersPushes: number;
  /** Syncs that began on a kept connection (no TCP handshake). */
  keptReused: number;
}

export interface SyncOptions {
  readonly chain: Chain;
  readonly settings: Settings;
  readonly peers: PeerTable;
  readonly stats: SyncStats;
  readonly report: SyncReports;
  readonly log: (level: LogLevel, msg: string) => void;
  /** Seconds since the epoch. */
  readonly now: () => number;
  /** Blocks fetched per GETBLOCKS request. */
  readonly blocksPerRequest?: number;
  /** `--events FILE`: chain updates from peers are logged here. */
  readonly events?: EventLog;
  /** Catching up: blocks connected per store commit (one atomic write per batch). */
  readonly catchUpBatchBlocks?: number;
  /** Signature cache and checking threads: blocks' signatures are verified ahead, in parallel. */
  readonly signatures?: BlockSignatureVerifier;
}

/** A peer that answered our first GETHEADERS: its connection, open, and the headers it sent. */
interface Probe {
  readonly peer: PeerInfo;
  readonly client: BlockClient;
  readonly headers: Header[];
}

/** A block that failed its checks, and the peer that sent it (one a parallel download used besides the one synced from). */
class SentBy extends Error {
  constructor(
    readonly peer: PeerInfo,
    override readonly cause: ValidationError,
  ) {
    super(cause.message);
  }
}

function describe(peer: PeerInfo): string {
  return `${peer.address}:${peer.port}`;
}

export class ChainSync {
  private syncing = false;
  /** The sync loop running now (or the last one), and its connection. */
  private syncRun?: Promise<void>;
  private client?: BlockClient;
  /** Connections of the probes running now, by peer key (at most a few: see firstToAnswer). */
  private readonly probing = new Map<string, { readonly peer: PeerInfo; readonly client: BlockClient }>();
  private syncAgain = false;
  /** While a race of probes runs (firstToAnswer): starts probes of peers heard since, slots allowing. */
  private probeMore?: () => void;
  private stopped = false;
  /** The block download running now (catching up), with the peers in it or connecting to it. */
  private downloading?: { readonly download: BlockDownload; readonly need: readonly ChainEntry[]; readonly taken: Set<string> };

  /** Peers that served blocks to the running sync's downloads, by key. */
  private readonly servedThisSync = new Set<string>();
  /** Connections kept open to the peers last synced from (kept-connections.ts). */
  private readonly kept = new KeptConnections((peer, headers) => this.onPushedHeaders(peer, headers));

  constructor(private readonly o: SyncOptions) {}

  private get chain(): Chain {
    return this.o.chain;
  }

  /**
   * Catches up with the best peer. One sync at a time; a request while one runs makes it run
   * again afterwards. Never throws: failures are logged and counted.
   */
  syncNow(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      this.probeMore?.(); // a peer heard meanwhile is tried now if a slot is free, not after the others
      this.joinDownload(); // or, while blocks download, asked for blocks too
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
        if (this.stopped) break;
        const first = await this.firstToAnswer();
        if (!first) break; // nobody to try now; a probe still running calls syncNow when it ends
        await this.syncWith(first);
      } while (this.syncAgain || this.o.peers.best(this.chain.tip.chainWork));
    } finally {
      this.syncing = false;
    }
  }

  /** Stops, waiting for a sync in progress to end so the caller may close the store afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.kept.closeAll();
    for (const { client } of this.probing.values()) client.close();
    this.client?.close();
    await this.syncRun;
  }

  /** Headers first from the peer, then the blocks we lack along the best header chain. */
  async syncFrom(peer: PeerInfo): Promise<boolean> {
    let probe: Probe;
    try {
      probe = await this.probe(peer);
    } catch (e) {
      this.onSyncFailure(peer, e);
      return false;
    }
    return this.syncWith(probe);
  }

  /**
   * Connects to the peer and asks for the headers after our best one: a peer that has served us
   * gets the whole tcpTimeoutSeconds, one never proven UNPROVEN_CONNECT_MS to connect and
   * UNPROVEN_FIRST_ANSWER_MS to answer (UNPROVEN_ANSWER_MS on its second chance). The connection is closed on failure; on success the caller owns it.
   */
  private async probe(peer: PeerInfo): Promise<Probe> {
    const reused = this.kept.take(peer.key);
    if (reused) {
      this.probing.set(peer.key, { peer, client: reused });
      try {
        const headers = await reused.getHeaders(this.chain.locator(this.chain.bestHeader()), MAX_HEADERS_PER_MESSAGE);
        this.o.stats.keptReused++;
        return { peer, client: reused, headers };
      } catch {
        reused.close(); // the server may have closed it meanwhile (its idle deadline): a new one is tried
      } finally {
        this.probing.delete(peer.key);
      }
    }
    const client = this.clientFor(peer);
    this.probing.set(peer.key, { peer, client });
    try {
      await client.connect();
      const headers = await client.getHeaders(this.chain.locator(this.chain.bestHeader()), MAX_HEADERS_PER_MESSAGE);
      return { peer, client, headers };
    } catch (e) {
      client.close();
      throw e;
    } finally {
      this.probing.delete(peer.key);
    }
  }

  /** A connection to the peer (not yet open): the whole tcpTimeoutSeconds if it has served us, else the short deadlines (see UNPROVEN_CONNECT_MS). */
  private clientFor(peer: PeerInfo): BlockClient {
    const full = this.o.settings.tcpTimeoutSeconds * 1000;
    const unprovenMs = this.o.peers.onSecondChance(peer) ? UNPROVEN_ANSWER_MS : UNPROVEN_FIRST_ANSWER_MS;
    const [answerMs, connectMs] = peer.served ? [full, full] : [Math.min(full, unprovenMs), UNPROVEN_CONNECT_MS];
    return new BlockClient(this.o.settings.params, peer.address, peer.port, answerMs, connectMs);
  }

  /**
   * Tries the candidates in parallel, in the peer table's order (peers that served us first, then
   * by claimed work): up to PROBES_AT_ONCE never proven at once (one per source address), each with
   * its own deadline, and PROVEN_PROBES_AT_ONCE proven ones besides. As a probe ends the next
   * candidate is taken from the table as it is then, so peers set aside meanwhile are skipped.
   * Resolves with the first that answers, or undefined when no probe could start or all failed.
   * Probes still running afterwards end on their own (a failure sets the peer aside, an answer
   * closes the connection) and ask for a sync again.
   */
  private firstToAnswer(): Promise<Probe | undefined> {
    return new Promise((resolve) => {
      let decided = false;
      let running = 0;
      const ended = (peer: PeerInfo, probe?: Probe, e?: unknown): void => {
        running--;
        if (!probe) {
          if (!this.stopped) this.onSyncFailure(peer, e);
        } else if (!decided && !this.stopped) {
          decided = true;
          this.probeMore = undefined;
          resolve(probe);
          return;
        } else this.keep(probe.peer, probe.client); // answered too late to be synced from: kept for next time
        if (!decided) launch();
        else if (!this.stopped) void this.syncNow(); // a slot is free: the sync loop tries again
      };
      const launch = (): void => {
        for (let peer = this.nextToProbe(); peer && !this.stopped; peer = this.nextToProbe()) {
          const p = peer;
          running++;
          this.probe(p).then(
            (probe) => ended(p, probe),
            (e: unknown) => ended(p, undefined, e),
          );
        }
        if (!decided && running === 0) {
          decided = true;
          resolve(undefined);
        }
        if (decided) this.probeMore = undefined;
      };
      this.probeMore = launch;
      launch();
    });
  }

  /** The first candidate in the peer table's order that may be probed now, if a slot is free for it. */
  private nextToProbe(): PeerInfo | undefined {
    let proven = 0;
    const busy = new Set<string>(); // source addresses with a probe of a never-proven peer running
    for (const { peer } of this.probing.values()) {
      if (peer.served) proven++;
      else busy.add(peer.address);
    }
    const provenFree = proven < PROVEN_PROBES_AT_ONCE;
    const unprovenFree = this.probing.size - proven < PROBES_AT_ONCE;
    if (!provenFree && !unprovenFree) return undefined;
    return this.o.peers.nextCandidate(
      this.chain.tip.chainWork,
      (p) => !this.probing.has(p.key) && (p.served ? provenFree : unprovenFree && !busy.has(p.address)),
    );
  }

  /** Goes on with a peer that answered a probe: its headers, then more, and the blocks we lack. */
  private async syncWith(probe: Probe): Promise<boolean> {
    const { peer, client } = probe;
    const full = this.o.settings.tcpTimeoutSeconds * 1000;
    this.client = client;
    const perRequest = this.o.blocksPerRequest ?? 16;
    const startTip = this.chain.tip;
    this.servedThisSync.clear();
    // What it claimed when we started: a block it finds meanwhile is not a failure to serve.
    const claimed = peer.status.chainWork;
    try {
      let held: Header[] = []; // a run of headers with too little work to store yet (pre-sync)
      for (let round = 0; !this.stopped; round++) {
        const headers = round === 0 ? probe.headers : await client.getHeaders(this.nextLocator(held), MAX_HEADERS_PER_MESSAGE);
        this.o.stats.headersFetched += headers.length;
        const last = headers.length < MAX_HEADERS_PER_MESSAGE;
        const run = held.length > 0 ? [...held, ...headers] : headers;
        held = this.storeHeadersWithWork(run, last);
        const stored = held.length === 0 && run.length > 0 && this.chain.getEntry(headerHash(run[run.length - 1]!)) !== undefined;
        if (stored && !peer.served) {
          peer.served = true; // valid headers (each with its proof of work): it is worth our full patience
          client.timeoutMs = full;
        }
        if (held.length === 0) await this.fetchMissingBlocks(peer, client, perRequest);
        if (last) break;
      }
      // A peer that announces more work than it then serves (a fake status, or a bogus block
      // server) would otherwise be synced from again at once, forever.
      if (!this.stopped && this.chain.tip.chainWork < claimed)
        throw new PeerError(`${describe(peer)} did not serve the chain it announced`);
      this.o.peers.served(peer);
      if (peer.status.chainWork > this.chain.tip.chainWork) this.syncAgain = true; // it moved on meanwhile
      if (this.chain.tip !== startTip) this.o.report.synced(peer);
      this.keep(peer, client);
      return true;
    } catch (e) {
      client.close();
      if (e instanceof SentBy) this.onSyncFailure(e.peer, e.cause);
      else this.onSyncFailure(peer, e);
      return false;
    } finally {
      if (this.client === client) this.client = undefined;
    }
  }

  /**
   * Keeps a connection that served a sync open for the next, asking its server (BIP130
   * sendheaders) to push new tips' headers over it. Asked only now, not on connecting: a server
   * of an older build closes a connection on a message type it does not know, and then only the
   * kept connection is lost (the next sync opens a new one), never a sync.
   */
  private keep(peer: PeerInfo, client: BlockClient): void {
    if (this.stopped || client.failed) return client.close();
    if (!client.onPush) client.sendHeaders();
    this.kept.keep(peer, client);
  }

  /**
   * Headers a kept connection's server pushed at its new tip (BIP130): stored if they extend a
   * header we hold into a chain with more work than our tip (and past the anti-DoS work
   * threshold, as any headers), then the peer counts as heard at that tip and a sync starts at
   * once, so a status datagram lost costs one round trip, not a status interval. Others (a tip we
   * have, or too far on for the few headers pushed) are ignored: the status broadcast covers them.
   */
  private onPushedHeaders(peer: PeerInfo, headers: Header[]): void {
    if (this.stopped) return;
    try {
      const work = this.chain.presyncWork(headers);
      if (work === undefined || work <= this.chain.tip.chainWork || work < this.chain.antiDoSWorkThreshold()) return;
      this.chain.acceptHeaders(headers, this.o.now());
    } catch (e) {
      this.onSyncFailure(peer, e);
      return;
    }
    const tip = this.chain.getEntry(headerHash(headers[headers.length - 1]!))!;
    this.o.stats.headersPushes++;
    this.o.peers.heard(peer.address, { ...peer.status, tipHash: tip.hash, height: tip.height, chainWork: tip.chainWork });
    void this.syncNow();
  }

  /** Where the next GETHEADERS starts: after the headers held (pre-sync), else after our best header. */
  private nextLocator(held: readonly Header[]): Uint8Array[] {
    return held.length > 0 ? [headerHash(held[held.length - 1]!)] : this.chain.locator(this.chain.bestHeader());
  }

  /**
   * Headers pre-sync (Core's anti-DoS work threshold): a run of headers is stored only once the
   * chain it builds has at least Chain.antiDoSWorkThreshold() of work. Until then it is held here,
   * bounded (MAX_PRESYNC_HEADERS for the one sync that runs), and the next request continues from
   * its last header; a run that ends below the threshold is dropped and counted, never stored.
   * Returns the headers still held.
   */
  private storeHeadersWithWork(run: Header[], last: boolean): Header[] {
    const work = this.chain.presyncWork(run);
    if (work === undefined || work >= this.chain.antiDoSWorkThreshold()) {
      this.chain.acceptHeaders(run, this.o.now()); // an unknown parent fails there, as before
      return [];
    }
    if (last) {
      this.o.stats.lowWorkHeaders += run.length;
      return [];
    }
    if (run.length >= MAX_PRESYNC_HEADERS) throw new PeerError(`${run.length} headers without the work to store them`);
    return run;
  }

  private ban(peer: PeerInfo, why: string): void {
    this.o.stats.bans++;
    this.o.peers.ban(peer, this.o.settings.peerBanSeconds);
    this.o.log('warn', `ignoring ${describe(peer)} for ${this.o.settings.peerBanSeconds}s: ${why}`);
  }

  private onSyncFailure(peer: PeerInfo, e: unknown): void {
    this.o.stats.syncErrors++;
    if (e instanceof ValidationError) {
      if (e.misbehaving) this.ban(peer, e.message);
      else this.o.log('info', `sync with ${describe(peer)} stopped: ${e.message}`);
    } else if (e instanceof PeerError) {
      this.o.log('info', `sync with ${describe(peer)} failed: ${e.message}`);
      this.o.peers.backOff(peer, e.timedOut);
    } else {
      this.o.log('warn', `sync with ${describe(peer)} failed: ${(e as Error).message ?? String(e)}`);
      this.o.peers.backOff(peer);
    }
  }

  /**
   * Fetches the blocks along the best header chain that we lack, in chain order, and connects
   * them. Far behind (more than one request's worth) they come from several peers at once
   * (block-download.ts: Core's parallel block download), are connected catchUpBatchBlocks per
   * store commit with their signatures verified ahead in worker threads, and progress is
   * reported; near the tip they come from this peer alone, connected one by one.
   */
  private async fetchMissingBlocks(main: PeerInfo, client: BlockClient, perRequest: number): Promise<void> {
    const best = this.chain.bestHeader();
    const need: ChainEntry[] = [];
    for (let e: ChainEntry | undefined = best; e && !e.haveChain; e = e.parent) if (e.status === 'header') need.push(e);
    need.reverse();
    if (need.length === 0) return;
    const batchBlocks = need.length > perRequest ? Math.max(1, this.o.catchUpBatchBlocks ?? 500) : 1;
    const download = this.startDownload(main, client, need, perRequest, batchBlocks > 1);
    const batch: DownloadedRun = { blocks: [], from: [] };
    let [pendingBytes, checking, created] = [0, [] as Promise<void>[], new Map<string, Uint8Array>()];
    let done = 0;
    let loggedAt = performance.now();
    try {
      for (let run = await download.next(); run && !this.stopped;) {
        this.o.stats.blocksFetched += run.blocks.length;
        batch.blocks.push(...run.blocks);
        batch.from.push(...run.from);
        for (const b of run.blocks) pendingBytes += blockSize(b);
        // Signatures are checked in the worker threads as blocks arrive, while the next ones download.
        // A failed check only leaves the cache unfilled (connecting verifies again), so it is dropped.
        const sigs = this.o.signatures;
        if (batchBlocks > 1 && sigs) checking.push(sigs.preverify(run.blocks, this.chain.coins, created).catch(() => {}));
        const more = done + batch.blocks.length < need.length;
        if (more && batchBlocks > 1 && batch.blocks.length < batchBlocks && pendingBytes < MAX_CATCH_UP_BATCH_BYTES) {
          run = await download.next();
          continue;
        }
        done += batch.blocks.length;
        await Promise.all(checking);
        await this.connectRun(batch, batchBlocks > 1, main);
        [batch.blocks.length, batch.from.length, pendingBytes, checking, created] = [0, 0, 0, [], new Map()];
        if (batchBlocks > 1) {
          this.o.report.progress({ done, total: need.length, height: this.chain.height, targetHeight: best.height });
          if (performance.now() - loggedAt > 2000 || done === need.length) {
            loggedAt = performance.now();
            this.o.log(
              'info',
              `catching up: block ${this.chain.height} of ${best.height} (${done}/${need.length} fetched, ${download.servedBy.size} peer(s))`,
            );
          }
        }
        run = more ? await download.next() : undefined;
      }
    } finally {
      download.close();
      if (this.downloading?.download === download) this.downloading = undefined;
      for (const key of download.servedBy.keys()) this.servedThisSync.add(key);
      this.o.stats.lastDownloadPeers = this.servedThisSync.size;
    }
    // It failed us (stalled, timed out, lacked blocks) though others served them: that is its failure.
    const why = download.droppedWhy.get(main.key);
    if (why !== undefined) throw why;
  }

  /**
   * The download of `need`: from this peer (its connection stays open for the next headers), and
   * when catching up from up to MAX_DOWNLOAD_PEERS - 1 others besides whose tip is on the best
   * header chain, those that have served us first (the peer table's order), each connecting on
   * its own with the probe's deadlines.
   */
  private startDownload(main: PeerInfo, client: BlockClient, need: ChainEntry[], perRequest: number, parallel: boolean): BlockDownload {
    const params = this.o.settings.params;
    const taken = new Set([main.key]);
    const helpers = parallel ? this.helpersFor(need, taken, MAX_DOWNLOAD_PEERS - 1) : [];
    const maxBytes = MAX_IN_FLIGHT_REQUESTS_BYTES * params.maxBlockBytes;
    const download = new BlockDownload(need, {
      perRequest,
      perPeer: PER_PEER_REQUESTS,
      windowBlocks: BLOCK_DOWNLOAD_WINDOW,
      maxBytes,
      maxBlockBytes: params.maxBlockBytes,
      stallMs: BLOCK_STALLING_MS,
      onDrop: (s, why, lacking) => {
        this.o.stats.downloadDrops++;
        if (s.peer.key === main.key) return; // reported once, by the sync with it
        // One that has served us and lacks blocks is likely on another branch: no failure. One never
        // proven that claimed them (a forged status) is set aside like any that fails to deliver.
        if (lacking && s.peer.served) this.o.log('debug', `block download: ${(why as Error).message}`);
        else if (!this.stopped) this.onSyncFailure(s.peer, why);
      },
    });
    download.add({ peer: main, client, maxHeight: Infinity, keepOpen: true });
    if (parallel) this.downloading = { download, need, taken };
    this.connectHelpers(download, helpers);
    return download;
  }

  /** Connects each helper on its own (the probe's deadlines); each joins the download once connected. */
  private connectHelpers(download: BlockDownload, helpers: readonly { peer: PeerInfo; maxHeight: number }[]): void {
    for (const { peer, maxHeight } of helpers) {
      const c = this.clientFor(peer);
      c.connect().then(
        () => download.add({ peer, client: c, maxHeight }),
        (e: unknown) => {
          c.close();
          if (!this.stopped) this.onSyncFailure(peer, e);
        },
      );
    }
  }

  /** A peer heard while blocks download joins the download, while it has fewer than MAX_DOWNLOAD_PEERS. */
  private joinDownload(): void {
    const d = this.downloading;
    if (!d || this.stopped) return;
    const room = MAX_DOWNLOAD_PEERS - d.taken.size;
    if (room > 0) this.connectHelpers(d.download, this.helpersFor(d.need, d.taken, room));
  }

  /**
   * Up to `max` peers not yet `taken` (then taken) that can serve some of `need` (their tip on its
   * chain), in the peer table's order.
   */
  private helpersFor(need: readonly ChainEntry[], taken: Set<string>, max: number): { peer: PeerInfo; maxHeight: number }[] {
    const out: { peer: PeerInfo; maxHeight: number }[] = [];
    const last = need[need.length - 1]!;
    const first = need[0]!;
    // A tip we do not know, with at least the work of ours, is likely ahead on this chain (one that
    // lacks the blocks after all is only dropped from the download); a known one must be on it.
    const servable = (p: PeerInfo): number => {
      const tip = this.chain.getEntry(p.status.tipHash);
      if (!tip) return p.status.chainWork >= last.chainWork ? Infinity : 0;
      if (tip.height < first.height) return 0;
      let x: ChainEntry | undefined = last;
      while (x && x.height > tip.height) x = x.parent;
      return x === tip ? tip.height : 0;
    };
    while (out.length < max) {
      const p = this.o.peers.nextCandidate(
        this.chain.tip.chainWork,
        (q) => !taken.has(q.key) && !this.probing.has(q.key) && servable(q) > 0,
      );
      if (!p) break;
      taken.add(p.key);
      out.push({ peer: p, maxHeight: servable(p) });
    }
    return out;
  }

  /** Connects a run of downloaded blocks; an invalid one is blamed on the peer that sent it. */
  private async connectRun(run: DownloadedRun, asBatch: boolean, main: PeerInfo): Promise<void> {
    try {
      await this.connectBlocks(run.blocks, asBatch);
      // Valid blocks: their senders have served us (tried first, and given our full patience, from now on).
      for (const p of new Set(run.from)) if (p !== main && !p.served) this.o.peers.served(p);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      for (let i = 0; i < run.blocks.length; i++) {
        const entry = this.chain.getEntry(headerHash(run.blocks[i]!.header));
        if (entry && this.chain.isActive(entry)) continue;
        if (run.from[i]!.key !== main.key) throw new SentBy(run.from[i]!, e);
        break;
      }
      throw e;
    }
  }

  /**
   * Connects fetched blocks: as one batch (one store commit) when catching up (their signatures
   * already checked ahead by the caller), else one by one.
   */
  private async connectBlocks(blocks: Block[], asBatch: boolean): Promise<void> {
    if (!asBatch) {
      await this.o.signatures?.preverify(blocks, this.chain.coins);
      for (const b of blocks) {
        const r = this.chain.processBlock(b, this.o.now());
        if (r.status !== 'accepted') continue;
        this.o.events?.update(r, 'peer');
        if (r.connected.length || r.disconnected.length) this.o.report.update(r);
        // An earlier block of this peer's branch failed when the branch was connected.
        if (r.invalid.length) throw r.invalid[0]!.error;
      }
      return;
    }
    const r = this.chain.processBlocks(blocks, this.o.now());
    this.o.events?.update(r, 'peer');
    if (r.connected.length || r.disconnected.length) this.o.report.update(r);
    if (r.rejected) throw r.rejected;
    if (r.invalid.length) throw r.invalid[0]!.error;
  }
}
