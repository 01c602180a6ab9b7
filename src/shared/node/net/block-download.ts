// Core's parallel block download (net_processing.cpp FindNextBlocksToDownload, BLOCK_DOWNLOAD_WINDOW,
// BLOCK_STALLING_TIMEOUT), for a LAN: the blocks a catch-up lacks, in chain order, requested from
// several peers at once, a few requests in flight per peer. Requests are taken only inside a
// window ahead of the first block not yet delivered, and only while the blocks held out of order
// plus the worst case of those in flight stay under a byte bound. A peer that fails (an error, its
// own deadline, blocks it lacks) is dropped from the download and its requests go to the others;
// one that holds back the window's first block while another peer waits is dropped after
// stallMs (doubling with each such drop, as Core does). Blocks come out in chain order with the
// peer that sent each, so the caller can blame the right peer for an invalid one.
import { type Block, blockSize } from '../../core/block.js';
import { equalBytes, hashToHex } from '../../core/bytes.js';
import type { ChainEntry } from '../../core/chain.js';
import { headerHash } from '../../core/header.js';
import { type BlockClient, PeerError } from './blockclient.js';
import type { PeerInfo } from './peers.js';

/** A peer serving the download: its open connection, and the highest block height it can serve. */
export interface DownloadSource {
  readonly peer: PeerInfo;
  readonly client: BlockClient;
  readonly maxHeight: number;
  /** Left open when the download is closed (the connection a sync goes on with); closed if dropped. */
  readonly keepOpen?: boolean;
}

export interface DownloadOptions {
  /** Blocks per request at most: fewer with more peers, so that each may have perPeer in flight within maxBytes. */
  readonly perRequest: number;
  /** Requests in flight per peer. */
  readonly perPeer: number;
  /** Blocks past the first not yet delivered that may be requested (Core: BLOCK_DOWNLOAD_WINDOW = 1024). */
  readonly windowBlocks: number;
  /** Bytes of blocks held out of order plus maxBlockBytes per block in flight, at most (one request always may go). */
  readonly maxBytes: number;
  readonly maxBlockBytes: number;
  /** How long the window's first block may be held back by one peer while another waits (Core: 2 s). */
  readonly stallMs: number;
  /** Called once for each source dropped from the download (after its connection is closed); lacking: it did not have blocks asked for. */
  readonly onDrop: (source: DownloadSource, why: unknown, lacking: boolean) => void;
}

/** A run of blocks in chain order, each with the peer that sent it. */
export interface DownloadedRun {
  readonly blocks: Block[];
  readonly from: PeerInfo[];
}

interface Request {
  readonly from: number;
  readonly to: number;
  readonly source: Source;
}

interface Source extends DownloadSource {
  requests: Set<Request>;
  /** When its answer to the oldest request in flight started to be due (its previous answer ended). */
  dueSinceMs: number;
}

/** At most this stall deadline, however often it doubles (Core: BLOCK_STALLING_TIMEOUT_MAX = 64 s). */
const MAX_STALL_MS = 64_000;

export class BlockDownload {
  private readonly sources: Source[] = [];
  private readonly got: ({ block: Block; from: PeerInfo; bytes: number } | undefined)[];
  /** Ranges a dropped peer held, to be asked of another. */
  private readonly retry: { from: number; to: number }[] = [];
  private nextFresh = 0;
  private delivered = 0;
  private heldBytes = 0;
  private inFlightBlocks = 0;
  private stallMs: number;
  private wake?: () => void;
  private closed = false;
  private lastError: unknown;
  /** Blocks served by each peer key (which peers the download used). */
  readonly servedBy = new Map<string, number>();
  /** Why each peer dropped was dropped, by key. */
  readonly droppedWhy = new Map<string, unknown>();

  constructor(
    private readonly need: readonly ChainEntry[],
    private readonly o: DownloadOptions,
  ) {
    this.got = new Array(need.length);
    this.stallMs = o.stallMs;
  }

  /** Adds a peer (its connection open); requests go to it at once. */
  add(s: DownloadSource): void {
    if (this.closed) return s.client.close();
    this.sources.push({ ...s, requests: new Set(), dueSinceMs: Date.now() });
    this.schedule();
  }

  get peers(): number {
    return this.sources.length;
  }

  /** What it holds now: bytes of blocks out of order, blocks in flight, blocks delivered, and the end of the blocks asked for so far. */
  bounds(): { held: number; inFlight: number; delivered: number; requestedUpTo: number } {
    return { held: this.heldBytes, inFlight: this.inFlightBlocks, delivered: this.delivered, requestedUpTo: this.nextFresh };
  }

  /**
   * The next blocks in chain order (at least one), or undefined once all are delivered. Throws a
   * PeerError when no peer is left to ask for a block still needed.
   */
  async next(): Promise<DownloadedRun | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      if (this.delivered >= this.need.length) return undefined;
      if (this.got[this.delivered]) return this.take();
      if (this.sources.length === 0)
        throw this.lastError instanceof Error ? this.lastError : new PeerError('no peer left to download blocks from');
      await this.waitOrStall();
    }
  }

  /** Closes every connection; a next() waiting returns undefined. */
  close(): void {
    this.closed = true;
    for (const s of this.sources) if (!s.keepOpen) s.client.close();
    this.sources.length = 0;
    this.notify();
  }

  private take(): DownloadedRun {
    const run: DownloadedRun = { blocks: [], from: [] };
    while (this.delivered < this.need.length) {
      const g = this.got[this.delivered];
      if (!g) break;
      this.got[this.delivered++] = undefined;
      this.heldBytes -= g.bytes;
      run.blocks.push(g.block);
      run.from.push(g.from);
    }
    this.schedule();
    return run;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Waits for an answer or a failure, at most stallMs; then drops the peer stalling the window, if one is. */
  private async waitOrStall(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(resolve, this.stallMs);
    });
    clearTimeout(timer);
    const staller = this.stalling();
    if (staller) {
      this.stallMs = Math.min(MAX_STALL_MS, this.stallMs * 2);
      this.drop(staller, new PeerError(`${staller.peer.address}:${staller.peer.port} stalled the block download`, true));
    }
  }

  /** The peer holding the window's first block past stallMs while another peer has nothing in flight. */
  private stalling(): Source | undefined {
    const head = this.need[this.delivered]!;
    if (this.got[this.delivered] || !this.sources.some((s) => s.requests.size === 0 && s.maxHeight >= head.height)) return undefined;
    for (const s of this.sources)
      for (const r of s.requests)
        if (r.from <= this.delivered && this.delivered < r.to) return Date.now() - s.dueSinceMs >= this.stallMs ? s : undefined;
    return undefined;
  }

  /** Gives each peer requests up to perPeer, inside the window and the byte bound. */
  private schedule(): void {
    if (this.closed) return;
    for (let progress = true; progress;) {
      progress = false;
      for (const s of this.sources) {
        if (s.requests.size >= this.o.perPeer) continue;
        const range = this.nextRange(s);
        if (!range) continue;
        this.send(s, range);
        progress = true;
      }
    }
  }

  /** The next range this peer can serve, if the window and the byte bound let it go now. */
  private nextRange(s: Source): { from: number; to: number } | undefined {
    const retryAt = this.retry.findIndex((r) => this.need[r.to - 1]!.height <= s.maxHeight);
    const size = Math.max(
      1,
      Math.min(this.o.perRequest, Math.floor(this.o.maxBytes / this.o.maxBlockBytes / (this.sources.length * this.o.perPeer))),
    );
    const fresh =
      this.nextFresh < this.need.length ? { from: this.nextFresh, to: Math.min(this.need.length, this.nextFresh + size) } : undefined;
    const range = retryAt >= 0 ? this.retry[retryAt]! : fresh && this.need[fresh.to - 1]!.height <= s.maxHeight ? fresh : undefined;
    if (!range) return undefined;
    const n = range.to - range.from;
    const idle = this.inFlightBlocks === 0;
    if (!idle && range.from >= this.delivered + this.o.windowBlocks) return undefined;
    if (!idle && this.heldBytes + (this.inFlightBlocks + n) * this.o.maxBlockBytes > this.o.maxBytes) return undefined;
    if (retryAt >= 0) this.retry.splice(retryAt, 1);
    else this.nextFresh = range.to;
    return range;
  }

  private send(s: Source, range: { from: number; to: number }): void {
    const req: Request = { ...range, source: s };
    if (s.requests.size === 0) s.dueSinceMs = Date.now();
    s.requests.add(req);
    this.inFlightBlocks += range.to - range.from;
    let answer: Promise<Block[]>;
    try {
      answer = s.client.getBlocks(this.need.slice(range.from, range.to).map((e) => e.hash));
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer.then(
      (blocks) => this.answered(req, blocks),
      (e: unknown) => this.failed(req, e),
    );
  }

  /** Takes a request off its peer's list; false when its peer was dropped meanwhile (its range queued again already). */
  private settle(req: Request): boolean {
    const s = req.source;
    if (!s.requests.delete(req)) return false;
    this.inFlightBlocks -= req.to - req.from;
    s.dueSinceMs = Date.now();
    return true;
  }

  private answered(req: Request, blocks: Block[]): void {
    if (!this.settle(req) || this.closed) return;
    const s = req.source;
    let k = 0;
    for (let i = req.from; i < req.to && k < blocks.length; i++) {
      if (equalBytes(headerHash(blocks[k]!.header), this.need[i]!.hash)) this.hold(i, blocks[k++]!, s.peer);
    }
    if (k < blocks.length) return this.drop(s, new PeerError(`${s.peer.address}:${s.peer.port} sent a block not asked for`));
    if (k < req.to - req.from) {
      // It lacks some (a peer on another branch, or behind): the rest go to another peer.
      this.requeue(req.from, req.to);
      return this.drop(s, new PeerError(`${s.peer.address}:${s.peer.port} lacks block ${hashToHex(this.need[req.from + k]!.hash)}`), true);
    }
    this.schedule();
    this.notify();
  }

  private hold(i: number, block: Block, from: PeerInfo): void {
    if (this.got[i] || i < this.delivered) return;
    const bytes = blockSize(block);
    this.got[i] = { block, from, bytes };
    this.heldBytes += bytes;
    this.servedBy.set(from.key, (this.servedBy.get(from.key) ?? 0) + 1);
  }

  private failed(req: Request, e: unknown): void {
    if (!this.settle(req) || this.closed) return;
    this.requeue(req.from, req.to);
    this.drop(req.source, e);
  }

  /** Queues again the blocks of [from, to) not yet held. */
  private requeue(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (this.got[i] || i < this.delivered) continue;
      let j = i;
      while (j < to && !this.got[j]) j++;
      this.retry.push({ from: i, to: j });
      i = j;
    }
  }

  private drop(s: Source, why: unknown, lacking = false): void {
    const at = this.sources.indexOf(s);
    if (at < 0) return;
    this.sources.splice(at, 1);
    for (const r of s.requests) {
      this.inFlightBlocks -= r.to - r.from;
      this.requeue(r.from, r.to);
    }
    s.requests.clear();
    s.client.close();
    this.lastError = why;
    this.droppedWhy.set(s.peer.key, why);
    this.o.onDrop(s, why, lacking);
    this.schedule();
    this.notify();
  }
}
