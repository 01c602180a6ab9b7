// The TCP block server: answers GETHEADERS (from a block locator) and GETBLOCKS (by hash) so any
// node can catch up from any point, on any fork, and BIP152 GETBLOCKTXN (a compact block's missing
// transactions, compact-relay.ts) under the same turns, slots and deadlines. No client, and no few addresses, can take what
// others need (issue 18: an attacker with hundreds of addresses on the honest users' subnet):
// - time: answers go out a frame at a time, a turn of 16 KiB to the source address with work that
//   has been sent least lately, within it round-robin over its connections (fair-scheduler.ts),
//   so an address's share does not grow with the connections it opens or the requests it sends,
//   large answers cost their asker turns, and a client asking now and then goes first;
// - slots: thousands of connections are cheap (each holds at most one partial request, a few
//   parsed ones and about one answer frame unsent); a connection takes a slot only with its first
//   whole request (until then it is on probation), an address holds at most a quarter of the
//   slots, and when full a newcomer takes the slot of the connection that gives the server least,
//   much as Core chooses inbound evictions (inbound-slots.ts, inbound-eviction.ts);
// - deadlines: each request frame must arrive whole within timeoutMs of its first byte, each
//   answer must be taken by the client with at most timeoutMs of waiting on it (a client that does
//   not read is closed), and a connection idle for timeoutMs is closed.
// The first malformed frame closes the connection.
import net from 'node:net';
import type { Chain } from '../../core/chain.js';
import { type Block, encodeBlock } from '../../core/block.js';
import { decodeGetBlockTxn, encodeBlockTxn } from '../../core/block-txn.js';
import { maxBlockTxs } from '../../core/compact-block.js';
import { toHex } from '../../core/bytes.js';
import { HEADER_BYTES, type Header } from '../../core/header.js';
import type { ConsensusParams } from '../../core/params.js';
import { FairScheduler } from './fair-scheduler.js';
import { FrameCache } from './frame-cache.js';
import { type EvictionCandidate, SlotUse } from './inbound-eviction.js';
import { InboundSlots } from './inbound-slots.js';
import {
  FRAME_HEADER_BYTES,
  FrameReader,
  MAX_HASHES_PER_REQUEST,
  MAX_PUSHED_HEADERS,
  MsgType,
  decodeGetHeaders,
  decodeHashes,
  encodeFrame,
  encodeHashes,
  encodeHeaders,
} from './protocol.js';

export interface BlockServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly maxConnections: number;
  readonly timeoutMs: number;
  /** Whether an address has served us valid chain data: a few of its connections are protected from eviction. */
  readonly vouched?: (address: string) => boolean;
  /** Random numbers in [0, 1) for eviction. */
  readonly random?: () => number;
  /** A block relayed before it is connected (compact-relay.ts relayEarly): its transactions are served to getblocktxn until then. */
  readonly relaying?: (hash: Uint8Array) => Block | undefined;
}

/** Requests are small: a locator or a hash list. */
const MAX_REQUEST_BYTES = 32 * MAX_HASHES_PER_REQUEST + 16;
/** Parsed requests waiting on a connection before reading from it pauses (an honest client has at most 2 in flight). */
const PAUSE_READING_AT = 4;
/** More requests than this parsed and unanswered (pipelined without reading answers): the connection is closed. */
const MAX_PIPELINED = 64;
/** Answer bytes unsent to clients that do not read, all connections together; past it the longest stalled is closed. */
const MAX_STALLED_BYTES = 64 * 1024 * 1024;
/** Encoded BLOCK frames kept for reuse. */
const FRAME_CACHE_BYTES = 32 * 1024 * 1024;
/** How long the scheduler answers before yielding to the event loop (status, mining, reading requests). */
const SLICE_MS = 4;
/**
 * Connections the kernel queues for accepting (capped by net.core.somaxconn). Past it new
 * connections are dropped and retried a second later: a flood of reconnections must not cost
 * honest newcomers that second (Node's default is 511).
 */
const LISTEN_BACKLOG = 4096;
/** Connections protected from eviction per address, by each protection. */
const PROTECTED_PER_ADDRESS = 2;
/** Between an answer and its next request a client may think this long before its slot counts as idle. */
const THINK_MS = 1000;
/** A connection sent a block this recently may be protected as a fetcher of real data. */
const FETCHED_RECENTLY_MS = 30_000;

/**
 * The group a source address counts in. Core groups IPv4 by /16 (netgroup.cpp), so that one
 * operator's many addresses count once; on a LAN every classmate shares one subnet, so any
 * prefix would put the honest and the attacker in one group: the group is the address.
 */
export function addressGroup(remote: string | undefined): string {
  if (!remote) return '?';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}

/** What the server remembers per address for the protections: a few of its connections, newest first. */
interface Recent {
  /** Most recently sent a block (at most PROTECTED_PER_ADDRESS). */
  fetchers: Conn[];
  /** Most recently answered in full (at most PROTECTED_PER_ADDRESS). */
  answered: Conn[];
}

/** One answer in progress: its frames, one per turn. */
interface Answer {
  readonly done: boolean;
  next(): Uint8Array;
}

/** An answer of one frame, made when its turn comes. */
function oneFrame(make: () => Uint8Array): Answer {
  let done = false;
  return {
    get done() {
      return done;
    },
    next: () => {
      done = true;
      return make();
    },
  };
}

/** What the server tracks per connection; everything in it is bounded. */
interface Conn {
  readonly socket: net.Socket;
  /** Its source address (the group it counts in). */
  readonly group: string;
  readonly reader: FrameReader;
  readonly requests: { type: MsgType; payload: Uint8Array }[];
  answer?: Answer;
  /** Since when it has given the server nothing to do (undefined while it has). */
  idleSinceMs?: number;
  /** Since when its socket has held more unsent than its high-water mark (undefined while not). */
  stalledSinceMs?: number;
  stalledBytes: number;
  /** How long the client has kept the current answer waiting so far (the per-request deadline). */
  requestStallMs: number;
  stallTimer?: NodeJS.Timeout;
  /** Set while a partial frame is pending: the whole frame must arrive by then. */
  frameTimer?: NodeJS.Timeout;
  lastBlockMs: number;
  /** Requests answered in full. */
  answeredCount: number;
  /** On probation with requests, waiting for a slot. */
  waiting: boolean;
  closed: boolean;
  /** It sent SENDHEADERS (BIP130): new tips' headers are pushed to it. */
  wantsHeaders?: boolean;
}

/** Moves c to the front of a short most-recent list. */
const touch = (list: Conn[], c: Conn): Conn[] => [c, ...list.filter((x) => x !== c)].slice(0, PROTECTED_PER_ADDRESS);

export class BlockServer {
  private readonly server: net.Server;
  private readonly slots: InboundSlots<Conn>;
  private readonly conns = new Set<Conn>();
  private readonly recent = new Map<string, Recent>();
  private readonly ready = new FairScheduler<Conn>();
  /** Connections waiting on their client to read, oldest stall first (Set order is insertion order). */
  private readonly stalled = new Set<Conn>();
  private stalledTotal = 0;
  private readonly cache = new FrameCache(FRAME_CACHE_BYTES);
  private pumpScheduled = false;
  private readonly random: () => number;
  readonly stats = {
    connections: 0,
    waited: 0,
    evicted: 0,
    pushedOut: 0,
    badRequests: 0,
    floods: 0,
    timeouts: 0,
    frameDeadlines: 0,
    slowReaders: 0,
    headersServed: 0,
    blocksServed: 0,
    /** HEADERS pushed to SENDHEADERS connections (BIP130). */
    headersPushed: 0,
    /** Connections that sent SENDHEADERS. */
    sendHeadersHeard: 0,
    /** getblocktxn requests answered with a BLOCKTXN (BIP152). */
    blockTxnServed: 0,
  };

  constructor(
    private readonly params: ConsensusParams,
    private readonly chain: Chain,
    private readonly opts: BlockServerOptions,
  ) {
    this.random = opts.random ?? Math.random;
    this.slots = new InboundSlots<Conn>({
      maxConnections: opts.maxConnections,
      random: this.random,
      judge: (c, now) => this.judge(c, now),
      close: (c, why) => {
        if (why === 'evicted') this.stats.evicted++;
        else this.stats.pushedOut++;
        this.drop(c);
      },
      promoted: (c) => this.onPromoted(c),
      groupGone: (key) => this.recent.delete(key),
    });
    this.server = net.createServer({ noDelay: true }, (s) => this.onConnection(s));
    this.server.on('error', () => {});
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port: this.opts.port, host: this.opts.host, backlog: LISTEN_BACKLOG }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo | null)?.port ?? 0;
  }

  /** Open connections (holding a slot or on probation), for tests and status. */
  get connections(): number {
    return this.conns.size;
  }

  private onConnection(s: net.Socket): void {
    s.on('error', () => {});
    this.stats.connections++;
    const c = this.open(s, addressGroup(s.remoteAddress));
    s.on('close', () => this.forget(c));
    s.on('data', (chunk: Buffer) => this.onData(c, chunk));
    s.on('drain', () => this.onDrain(c));
    // Idle: nothing read or written for this long.
    s.setTimeout(this.opts.timeoutMs, () => {
      this.stats.timeouts++;
      this.drop(c);
    });
  }

  /** How c uses its slot (see SlotUse), for how long, and whether a protection covers it. */
  private judge(c: Conn, now: number): EvictionCandidate {
    const prot = this.isProtected(c, now);
    if (c.stalledSinceMs !== undefined) return { use: SlotUse.Slow, waitingMs: now - c.stalledSinceMs, protected: prot };
    if (c.idleSinceMs === undefined) return { use: SlotUse.Busy, waitingMs: 0, protected: prot };
    const idle = now - c.idleSinceMs;
    if (c.frameTimer) return { use: SlotUse.Slow, waitingMs: idle, protected: prot }; // trickling its next request
    return idle > THINK_MS ? { use: SlotUse.Idle, waitingMs: idle, protected: prot } : { use: SlotUse.Busy, waitingMs: 0, protected: prot };
  }

  /** Core's protections, a few per address: recent fetchers of real blocks, and connections of addresses that served us. */
  private isProtected(c: Conn, now: number): boolean {
    const r = this.recent.get(c.group);
    if (!r) return false;
    if (r.fetchers.includes(c) && now - c.lastBlockMs < FETCHED_RECENTLY_MS) return true;
    return r.answered.includes(c) && this.opts.vouched?.(c.group) === true;
  }

  private open(socket: net.Socket, group: string): Conn {
    const c: Conn = {
      socket,
      group,
      reader: new FrameReader(this.params, MAX_REQUEST_BYTES),
      requests: [],
      idleSinceMs: Date.now(),
      stalledBytes: 0,
      requestStallMs: 0,
      lastBlockMs: 0,
      answeredCount: 0,
      waiting: false,
      closed: false,
    };
    this.conns.add(c);
    this.slots.join(c, group);
    return c;
  }

  /** Forgets c: its slot or probation, its timers and stalled bytes. */
  private forget(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    this.conns.delete(c);
    clearTimeout(c.frameTimer);
    this.unstall(c);
    const r = this.recent.get(c.group);
    if (r) {
      r.fetchers = r.fetchers.filter((x) => x !== c);
      r.answered = r.answered.filter((x) => x !== c);
    }
    this.slots.leave(c);
  }

  private drop(c: Conn): void {
    this.forget(c);
    c.socket.destroy();
  }

  private onData(c: Conn, chunk: Buffer): void {
    if (c.closed) return;
    let frames;
    try {
      frames = c.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    } catch {
      this.stats.badRequests++;
      this.drop(c);
      return;
    }
    this.frameDeadline(c, frames.length > 0, c.reader.buffered > 0);
    if (frames.length === 0) return;
    const slot = this.slots.establish(c);
    if (slot === 'gone') {
      this.drop(c);
      return;
    }
    for (const f of frames) {
      // SENDHEADERS has no answer: it only marks the connection (BIP130).
      if (f.type === MsgType.SendHeaders) {
        if (!c.wantsHeaders) this.stats.sendHeadersHeard++;
        c.wantsHeaders = true;
      } else c.requests.push(f);
    }
    if (c.requests.length > MAX_PIPELINED) {
      this.stats.floods++;
      this.drop(c);
      return;
    }
    c.idleSinceMs = undefined;
    if (slot === 'waiting') {
      // No slot free for its address now: it waits unserved and unread (see inbound-slots.ts).
      if (!c.waiting) this.stats.waited++;
      c.waiting = true;
      c.socket.pause();
      return;
    }
    c.waiting = false;
    if (c.requests.length >= PAUSE_READING_AT) c.socket.pause();
    this.markReady(c, true);
  }

  /** c waited on probation and now holds a slot: read and serve it. */
  private onPromoted(c: Conn): void {
    c.waiting = false;
    if (c.requests.length < PAUSE_READING_AT) c.socket.resume();
    this.markReady(c, true);
  }

  /** The whole of each request frame must arrive within timeoutMs of its first byte. */
  private frameDeadline(c: Conn, completed: boolean, partial: boolean): void {
    if (completed) {
      clearTimeout(c.frameTimer);
      c.frameTimer = undefined;
    }
    if (partial && !c.frameTimer) {
      c.frameTimer = setTimeout(() => {
        this.stats.frameDeadlines++;
        this.drop(c);
      }, this.opts.timeoutMs);
    }
  }

  /** Queues c for a turn if it has work and its client is taking what it was sent. */
  private markReady(c: Conn, kick: boolean): void {
    if (c.closed || c.waiting || c.stalledSinceMs !== undefined || (!c.answer && c.requests.length === 0)) return;
    this.ready.add(c.group, c);
    if (kick && !this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
  }

  /** Answers turn by turn for SLICE_MS, then yields to the event loop and goes on if work is left. */
  private pump(): void {
    const until = performance.now() + SLICE_MS;
    for (let c = this.ready.next(); c; c = this.ready.next()) {
      const sent = this.serveTurn(c);
      if (sent > 0) this.ready.charge(sent);
      this.markReady(c, false); // behind its address's others, its address behind the other addresses
      if (performance.now() >= until) break;
    }
    this.pumpScheduled = false;
    if (this.ready.pending) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
  }

  /** One turn: the next frame of c's answer (starting its next request if none is in progress); the bytes sent. */
  private serveTurn(c: Conn): number {
    if (c.closed || c.stalledSinceMs !== undefined) return 0;
    try {
      if (!c.answer) {
        const req = c.requests.shift();
        if (!req) return 0;
        c.answer = this.startAnswer(c, req.type, req.payload);
        c.requestStallMs = 0;
        if (c.requests.length < PAUSE_READING_AT && c.socket.isPaused() && !c.waiting) c.socket.resume();
      }
      const frame = c.answer.next();
      if (c.answer.done) this.answered(c);
      if (!c.socket.write(frame)) this.stall(c);
      return frame.length;
    } catch {
      this.stats.badRequests++;
      this.drop(c);
      return 0;
    }
  }

  private answered(c: Conn): void {
    c.answer = undefined;
    c.answeredCount++;
    const r = this.recentOf(c);
    r.answered = touch(r.answered, c);
    if (c.requests.length === 0) c.idleSinceMs = Date.now();
  }

  private recentOf(c: Conn): Recent {
    let r = this.recent.get(c.group);
    if (!r) {
      r = { fetchers: [], answered: [] };
      this.recent.set(c.group, r);
    }
    return r;
  }

  private startAnswer(c: Conn, type: MsgType, payload: Uint8Array): Answer {
    if (type === MsgType.GetHeaders) {
      const { locator, max } = decodeGetHeaders(payload);
      return oneFrame(() => this.headersFrame(locator, max));
    }
    if (type === MsgType.GetBlocks) return this.blocksAnswer(c, decodeHashes(payload));
    if (type === MsgType.GetBlockTxn) return this.blockTxnAnswer(c, payload);
    throw new Error('unexpected message type');
  }

  /** A BLOCK frame per block we have, one per turn, then NOTFOUND (possibly empty) so the client knows it is complete. */
  private blocksAnswer(c: Conn, hashes: readonly Uint8Array[]): Answer {
    let i = 0;
    let done = false;
    const missing: Uint8Array[] = [];
    return {
      get done() {
        return done;
      },
      next: () => {
        while (i < hashes.length) {
          const h = hashes[i++]!;
          const frame = this.blockFrame(h);
          if (!frame) {
            missing.push(h);
            continue;
          }
          c.lastBlockMs = Date.now();
          const r = this.recentOf(c);
          r.fetchers = touch(r.fetchers, c);
          return frame;
        }
        done = true;
        return encodeFrame(this.params, MsgType.NotFound, encodeHashes(missing));
      },
    };
  }

  /**
   * BIP152 getblocktxn: one BLOCKTXN frame with the transactions at the indexes asked for, or
   * NOTFOUND naming the block if we lack it. A request for an index the block does not have is a
   * bad request (the connection is closed, as for any malformed one; Core: Misbehaving). The
   * request is bounded by MAX_REQUEST_BYTES, its answer by the block's size.
   */
  private blockTxnAnswer(c: Conn, payload: Uint8Array): Answer {
    const req = decodeGetBlockTxn(payload, maxBlockTxs(this.params.maxBlockBytes));
    return oneFrame(() => {
      const block = this.chain.getBlock(req.blockHash) ?? this.opts.relaying?.(req.blockHash);
      if (!block) return encodeFrame(this.params, MsgType.NotFound, encodeHashes([req.blockHash]));
      const txs = req.indexes.map((i) => {
        const tx = block.txs[i];
        if (!tx) throw new Error(`getblocktxn index ${i} out of range`);
        return tx;
      });
      c.lastBlockMs = Date.now();
      const r = this.recentOf(c);
      r.fetchers = touch(r.fetchers, c);
      this.stats.blockTxnServed++;
      return encodeFrame(this.params, MsgType.BlockTxn, encodeBlockTxn({ blockHash: req.blockHash, txs }));
    });
  }

  /**
   * The HEADERS answer to a locator: the same fork point, count and tip give the same frame,
   * encoded once (the cheapest request an attacker can repeat, GETHEADERS from genesis, asks
   * for up to 2 000 headers and a checksum over 160 kB).
   */
  private headersFrame(locator: readonly Uint8Array[], max: number): Uint8Array {
    const key = `h:${this.chain.findFork(locator).hashHex}:${max}:${this.chain.tip.hashHex}`;
    let frame = this.cache.get(key);
    if (!frame) {
      frame = encodeFrame(this.params, MsgType.Headers, encodeHeaders(this.chain.headersAfter(locator, max)));
      this.cache.set(key, frame);
    }
    // The payload is a count of at most 3 bytes and 80 bytes per header.
    this.stats.headersServed += Math.floor((frame.length - FRAME_HEADER_BYTES) / HEADER_BYTES);
    return frame;
  }

  private blockFrame(hash: Uint8Array): Uint8Array | undefined {
    const key = toHex(hash);
    let frame = this.cache.get(key);
    if (!frame) {
      // Only blocks we hold: a block relayed early (not yet validated) is served to getblocktxn,
      // the compact path, never to a sync, which sets a peer that serves an invalid block aside.
      const block = this.chain.getBlock(hash);
      if (!block) return undefined;
      frame = encodeFrame(this.params, MsgType.Block, encodeBlock(block));
      this.cache.set(key, frame);
    }
    this.stats.blocksServed++;
    return frame;
  }

  /**
   * c's socket holds more than its high-water mark unsent: no more turns until it drains, and
   * the client may keep each answer waiting timeoutMs in all (the per-request deadline). Past
   * MAX_STALLED_BYTES for all such connections together, the longest stalled is closed first.
   */
  private stall(c: Conn): void {
    if (c.closed) return;
    c.stalledSinceMs = Date.now();
    c.stalledBytes = c.socket.writableLength;
    this.stalledTotal += c.stalledBytes;
    this.stalled.add(c);
    c.stallTimer = setTimeout(() => this.slowReader(c), Math.max(0, this.opts.timeoutMs - c.requestStallMs));
    for (const oldest of this.stalled) {
      if (this.stalledTotal <= MAX_STALLED_BYTES) break;
      this.slowReader(oldest);
    }
  }

  private slowReader(c: Conn): void {
    this.stats.slowReaders++;
    this.drop(c);
  }

  private unstall(c: Conn): void {
    if (c.stalledSinceMs === undefined) return;
    clearTimeout(c.stallTimer);
    this.stalledTotal -= c.stalledBytes;
    this.stalled.delete(c);
    c.stalledBytes = 0;
    c.stalledSinceMs = undefined;
  }

  private onDrain(c: Conn): void {
    if (c.closed || c.stalledSinceMs === undefined) return;
    c.requestStallMs += Date.now() - c.stalledSinceMs;
    this.unstall(c);
    if (!c.answer && c.requests.length === 0) c.idleSinceMs ??= Date.now();
    this.markReady(c, true);
  }

  /**
   * BIP130: pushes the headers of a new tip (up to MAX_PUSHED_HEADERS, oldest first, ending at the
   * tip) to every connection that sent SENDHEADERS, between answer frames (never inside one). A
   * connection whose client is not taking what it was sent gets none: it catches up by asking.
   */
  pushHeaders(headers: readonly Header[]): void {
    if (headers.length === 0) return;
    let frame: Uint8Array | undefined;
    for (const c of this.conns) {
      if (c.closed || !c.wantsHeaders || c.stalledSinceMs !== undefined) continue;
      frame ??= encodeFrame(this.params, MsgType.HeadersPush, encodeHeaders(headers.slice(-MAX_PUSHED_HEADERS)));
      c.socket.write(frame);
      this.stats.headersPushed++;
    }
  }

  close(): Promise<void> {
    for (const c of [...this.conns]) this.drop(c);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
