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
    const full = this.o.settings.tcpTimeoutSeconds * 1000;
    const unprovenMs = this.o.peers.onSecondChance(peer) ? UNPROVEN_ANSWER_MS : UNPROVEN_FIRST_ANSWER_MS;
    const [answerMs, connectMs] = peer.served ? [full, full] : [Math.min(full, unprovenMs), UNPROVEN_CONNECT_MS];
    const client = new BlockClient(this.o.settings.params, peer.address, peer.port, answerMs, connectMs);
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
        } else probe.client.close();
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
        if (held.length === 0) await this.fetchMissingBlocks(client, perRequest);
        if (last) break;
      }
      // A peer that announces more work than it then serves (a fake status, or a bogus block
      // server) would otherwise be synced from again at once, forever.
      if (!this.stopped && this.chain.tip.chainWork < claimed)
        throw new PeerError(`${describe(peer)} did not serve the chain it announced`);
      this.o.peers.served(peer);
      if (peer.status.chainWork > this.chain.tip.chainWork) this.syncAgain = true; // it moved on meanwhile
      if (this.chain.tip !== startTip) this.o.report.synced(peer);
      return true;
    } catch (e) {
      this.onSyncFailure(peer, e);
      return false;
    } finally {
      client.close();
    }
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
    const batchBlocks = need.length > perRequest ? Math.max(1, this.o.catchUpBatchBlocks ?? 500) : 1;
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
      this.o.stats.blocksFetched += blocks.length;
      pending.push(...blocks);
      for (const b of blocks) pendingBytes += blockSize(b);
      // Signatures are checked in the worker threads as blocks arrive, while the next ones download.
      // A failed check only leaves the cache unfilled (connecting verifies again), so it is dropped.
      const sigs = this.o.signatures;
      if (batchBlocks > 1 && sigs) checking.push(sigs.preverify(blocks, this.chain.coins, created).catch(() => {}));
      if (batchBlocks > 1 && pending.length < batchBlocks && pendingBytes < MAX_CATCH_UP_BATCH_BYTES && next) continue;
      done += pending.length;
      await Promise.all(checking);
      await this.connectBlocks(pending, batchBlocks > 1);
      [pending, pendingBytes, checking, created] = [[], 0, [], new Map()];
      if (batchBlocks === 1) continue;
      this.o.report.progress({ done, total: need.length, height: this.chain.height, targetHeight: best.height });
      if (performance.now() - loggedAt > 2000 || done === need.length) {
        loggedAt = performance.now();
        this.o.log('info', `catching up: block ${this.chain.height} of ${best.height} (${done}/${need.length} fetched)`);
      }
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
