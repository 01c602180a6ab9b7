// Compact block relay (BIP152, in the spirit of its high-bandwidth mode and of FIBRE's UDP): a
// miner that finds or connects a new tip broadcasts the block's cmpctblock in one datagram to the
// status port, and every node that hears it rebuilds the block from its mempool and connects it at
// once, asking the announcer's block server over TCP (getblocktxn / blocktxn) only for the
// transactions it lacks. Any failure falls back to the full block from the announcer, then to the
// status broadcasts' sync (sync.ts), which stays as it was. Runs beside the sync, never behind it.
//
// The datagram: an envelope naming the announcer, then BIP152's cmpctblock byte for byte:
//   node id (8) | block server port (uint16 LE) | cmpctblock
// Hostile input costs little: datagrams are rate-limited per source before decoding (here and by
// the status port's own limit), the payload is bounded by the datagram, and the header's proof of
// work and context are checked (Chain.acceptHeader) before any short id is computed. Only a
// header that brings at least our tip's work is rebuilt, at most MAX_IN_FLIGHT at a time.
import { randomBytes } from 'node:crypto';
import { DecodeError, Reader, Writer, equalBytes, hashToHex, toHex } from '../../core/bytes.js';
import type { Block } from '../../core/block.js';
import type { Chain, ChainUpdate } from '../../core/chain.js';
import { type CompactBlock, compactFromBlock, decodeCompactBlock, encodeCompactBlock, maxBlockTxs } from '../../core/compact-block.js';
import { type Candidate, type PartialBlock, finishRebuild, startRebuild } from '../../core/compact-rebuild.js';
import { sha256d } from '../../core/hash.js';
import { HEADER_BYTES, headerHash } from '../../core/header.js';
import { blockWork } from '../../core/pow.js';
import { ValidationError } from '../../core/validation.js';
import type { Settings } from '../cli/config.js';
import { type EventLog, type EventRecord } from '../events.js';
import type { BlockSignatureVerifier } from '../verify/block-verifier.js';
import { BlockClient } from './blockclient.js';
import { FRAME_HEADER_BYTES, MAX_DATAGRAM_BYTES } from './protocol.js';
import { type RateLimit, SourceRateLimiter } from './rate-limit.js';

const ENVELOPE_BYTES = 8 + 2;
/** The largest envelope that fits one datagram; a larger compact block is not sent compactly. */
export const MAX_COMPACT_PAYLOAD_BYTES = MAX_DATAGRAM_BYTES - FRAME_HEADER_BYTES;
/**
 * Compact blocks per source address: honest miners on one machine share an address and each
 * relays every new tip once, so a few per second; a flood is cut here before a byte is decoded.
 */
export const COMPACT_RATE_LIMIT: RateLimit = { ratePerSecond: 20, burst: 60 };
/** Blocks being rebuilt or fetched at once; more announcements meanwhile are dropped (counted). */
const MAX_IN_FLIGHT = 8;
/** The announcer answers getblocktxn from memory: a short deadline, as sync.ts gives unproven peers. */
const CONNECT_MS = 1000;
/** Indexes per getblocktxn at most (1 to 3 bytes each: within the block server's request bound). */
const MAX_TXN_INDEXES = 4000;
const ANSWER_MS = 3000;

export interface CompactAnnouncement {
  readonly nodeId: Uint8Array;
  readonly blockServerPort: number;
  readonly compact: CompactBlock;
}

export function encodeCompactAnnouncement(nodeId: Uint8Array, blockServerPort: number, cmpctblock: Uint8Array): Uint8Array {
  return new Writer(ENVELOPE_BYTES + cmpctblock.length).bytes(nodeId).u16(blockServerPort).bytes(cmpctblock).finish();
}

export function decodeCompactAnnouncement(payload: Uint8Array, maxTxs: number): CompactAnnouncement {
  const r = new Reader(payload);
  const nodeId = r.bytes(8, 'node id').slice();
  const blockServerPort = r.u16('port');
  if (blockServerPort === 0) throw new DecodeError('compact block from a node without a block server');
  return { nodeId, blockServerPort, compact: decodeCompactBlock(payload.subarray(ENVELOPE_BYTES), maxTxs) };
}

/** What happened to compact blocks, sent and heard (a part of the status line and of tests' view). */
export interface CompactStats {
  sent: number;
  /** Our new tip's compact form was over one datagram: only the status went out. */
  tooLarge: number;
  received: number;
  /** Undecodable, rate-limited, or a header failing its proof of work or context. */
  dropped: number;
  /** Already had the block, or its header brings no more work than our tip (cheap, not an error). */
  known: number;
  /** Connected from the mempool and the prefilled coinbase alone. */
  rebuilt: number;
  /** Connected after a getblocktxn. */
  completed: number;
  /** Rebuilt blocks that extended our tip, relayed on before their validation (relayEarly). */
  relayedEarly: number;
  /** Transactions asked for with getblocktxn. */
  txsFetched: number;
  /** Connected from a full block fetched from the announcer (collision, NOTFOUND, bad answer). */
  fullBlocks: number;
  /** Could not be connected from the announcer at all: left to the status broadcasts' sync. */
  fellBack: number;
  /** The block, rebuilt, failed validation. */
  invalid: number;
}

export interface CompactRelayOptions {
  readonly chain: Chain;
  readonly settings: Settings;
  readonly nodeId: Uint8Array;
  /** Sends a payload as a CompactBlock frame on the status port. */
  readonly send: (payload: Uint8Array) => void;
  /** Blocks connected: the node emits them as its 'update'. */
  readonly update: (r: ChainUpdate) => void;
  /** The status path: a sync from the best peer (ChainNode.syncNow). */
  readonly fallback: () => void;
  readonly log: (level: 'info' | 'warn' | 'debug', msg: string) => void;
  /** Seconds since the epoch. */
  readonly now: () => number;
  readonly events?: EventLog;
  readonly signatures?: BlockSignatureVerifier;
  /**
   * Relays a block on before it is fully validated (BIP152's high-bandwidth mode allows it once
   * the header is valid): called with a block rebuilt from its compact form (Merkle root checked)
   * that extends our tip. While it is being connected our block server answers getblocktxn for
   * it from `relayingBlock`, so a peer that lacks transactions can ask us (a sync's getblocks is
   * answered only with blocks we hold: a sync sets a peer that serves an invalid block aside). Without it, blocks are relayed
   * once connected (the miner's onChainUpdate).
   */
  readonly relay?: (block: Block) => void;
}

/** Blocks announced lately, by hash: a block relayed early is not announced again once connected. */
const RECENT_ANNOUNCEMENTS = 64;

export class CompactRelay {
  readonly stats: CompactStats = {
    sent: 0,
    tooLarge: 0,
    received: 0,
    dropped: 0,
    known: 0,
    rebuilt: 0,
    completed: 0,
    relayedEarly: 0,
    txsFetched: 0,
    fullBlocks: 0,
    fellBack: 0,
    invalid: 0,
  };
  /** The mempool's transactions (set by a miner); without it compact blocks are not rebuilt. */
  candidates?: () => Iterable<Candidate>;
  private readonly limiter = new SourceRateLimiter(COMPACT_RATE_LIMIT);
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Blocks relayed early and not yet connected (or failed), at most MAX_IN_FLIGHT. */
  private readonly relaying = new Map<string, Block>();
  private readonly announced: string[] = [];
  private readonly clients = new Set<BlockClient>();
  private stopped = false;

  constructor(private readonly o: CompactRelayOptions) {}

  /** Broadcasts a block we found or connected as our new tip, if its compact form fits a datagram. */
  announce(block: Block, blockServerPort: number): void {
    if (this.stopped) return;
    const key = toHex(headerHash(block.header));
    if (this.announced.includes(key)) return;
    this.announced.push(key);
    if (this.announced.length > RECENT_ANNOUNCEMENTS) this.announced.shift();
    const nonce = new DataView(randomBytes(8).buffer).getBigUint64(0, true);
    const cmpct = encodeCompactBlock(compactFromBlock(block, nonce));
    const payload = encodeCompactAnnouncement(this.o.nodeId, blockServerPort, cmpct);
    if (payload.length > MAX_COMPACT_PAYLOAD_BYTES) {
      this.stats.tooLarge++;
      return;
    }
    this.stats.sent++;
    this.o.send(payload);
  }

  /** A CompactBlock frame heard on the status port. Never throws. */
  onDatagram(payload: Uint8Array, from: { address: string }): void {
    if (this.stopped || !this.candidates) return;
    // A copy of a block we hold or are rebuilding (every neighbour relays each block on) costs one
    // header hash and no share of its source's budget: on one machine all nodes share 127.0.0.1.
    if (this.alreadyHave(payload)) {
      this.stats.known++;
      return;
    }
    if (!this.limiter.allow(from.address)) {
      this.stats.dropped++; // counted, not logged: a flood must not become a flood of log lines
      return;
    }
    let a: CompactAnnouncement;
    try {
      a = decodeCompactAnnouncement(payload, maxBlockTxs(this.o.settings.params.maxBlockBytes));
    } catch (e) {
      return this.drop(`undecodable: ${(e as Error).message}`, from.address);
    }
    if (equalBytes(a.nodeId, this.o.nodeId)) return; // our own, heard back
    this.stats.received++;
    const hash = headerHash(a.compact.header);
    const key = toHex(hash);
    const known = this.o.chain.getEntry(hash);
    if ((known && known.status !== 'header') || this.inFlight.has(key)) {
      this.stats.known++;
      return;
    }
    const parent = this.o.chain.getEntry(a.compact.header.prevHash);
    // Cheap first: the work it claims (its parent's plus its nBits') must reach our tip's. A block
    // that only ties it (a competing branch's first block) is rebuilt and stored too, not
    // connected: when its branch's next block comes, that one's parent is here and the
    // reorganisation happens at once instead of waiting for a sync.
    if (!parent || parent.chainWork + blockWork(a.compact.header.bits) < this.o.chain.tip.chainWork) {
      this.stats.known++;
      return;
    }
    try {
      this.o.chain.acceptHeader(a.compact.header, this.o.now()); // proof of work, then nBits and time in context
    } catch (e) {
      return this.drop(`header: ${(e as Error).message}`, from.address);
    }
    if (this.inFlight.size >= MAX_IN_FLIGHT) return this.drop('busy', from.address);
    const run = this.receive(a, from.address).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, run);
  }

  /** Whether the datagram's header (its first 80 bytes after the envelope) names a block we hold or are rebuilding. */
  private alreadyHave(payload: Uint8Array): boolean {
    if (payload.length < ENVELOPE_BYTES + HEADER_BYTES) return false;
    const hash = sha256d(payload.subarray(ENVELOPE_BYTES, ENVELOPE_BYTES + HEADER_BYTES)); // the header hash, as headerHash computes it
    const known = this.o.chain.getEntry(hash);
    return (known !== undefined && known.status !== 'header') || this.inFlight.has(toHex(hash));
  }

  private drop(reason: string, from: string): void {
    this.stats.dropped++;
    this.o.events?.write('compact-dropped', { reason: reason.slice(0, 120), from });
  }

  /** Rebuilds, completes or fetches the block, and connects it; on failure leaves it to the sync. */
  private async receive(a: CompactAnnouncement, address: string): Promise<void> {
    const t0 = performance.now();
    const hash = headerHash(a.compact.header);
    const record: EventRecord = {
      hash: hashToHex(hash),
      from: `${address}:${a.blockServerPort}`,
      txs: a.compact.shortIds.length + a.compact.prefilled.length,
    };
    let client: BlockClient | undefined;
    try {
      const start = startRebuild(a.compact, this.candidates!());
      let block: Block | undefined;
      let how: 'rebuilt' | 'completed' | 'full' = 'full';
      // Missing most of a large block: one getblocks is as cheap, and so long a getblocktxn would not fit a request.
      if (start.status === 'partial' && start.partial.missing.length <= MAX_TXN_INDEXES) {
        record['fromMempool'] = start.partial.fromMempool;
        record['fetched'] = start.partial.missing.length;
        if (start.partial.missing.length === 0) [block, how] = [finishRebuild(start.partial), 'rebuilt'];
        else {
          client = await this.connectTo(address, a.blockServerPort);
          [block, how] = [await this.complete(client, hash, start.partial), 'completed'];
        }
      }
      if (!block) {
        how = 'full';
        client ??= await this.connectTo(address, a.blockServerPort);
        block = (await client.getBlocks([hash]))[0];
      }
      if (!block || !equalBytes(headerHash(block.header), hash)) throw new Error('the announcer did not serve the block');
      if (how !== 'full') this.relayEarly(hash, block);
      await this.connect(block);
      this.stats[how === 'full' ? 'fullBlocks' : how]++;
      this.o.events?.write('compact', { ...record, outcome: how, ms: Math.round((performance.now() - t0) * 1000) / 1000 });
    } catch (e) {
      if (e instanceof ValidationError) this.stats.invalid++;
      this.stats.fellBack++;
      this.o.events?.write('compact', { ...record, outcome: 'fellBack', error: (e as Error).message.slice(0, 120) });
      this.o.log('info', `compact block ${hashToHex(hash).slice(0, 16)}… from ${address}: ${(e as Error).message}; syncing instead`);
      if (!this.stopped) this.o.fallback();
    } finally {
      this.relaying.delete(toHex(hash));
      if (client) {
        client.close();
        this.clients.delete(client);
      }
    }
  }

  /**
   * A rebuilt block (its Merkle root matched) whose header extends our tip goes on at once, before
   * its transactions are validated: each hop of its way then costs a rebuild, not a validation and
   * a commit. A full block fetched after a failed rebuild is not relayed early (its body is as the
   * announcer sent it); a block that fails validation was relayed once, as Core's high-bandwidth
   * peers may, and its header's work was checked first.
   */
  private relayEarly(hash: Uint8Array, block: Block): void {
    const entry = this.o.chain.getEntry(hash);
    if (!this.o.relay || !entry || entry.chainWork <= this.o.chain.tip.chainWork) return;
    this.relaying.set(toHex(hash), block);
    this.stats.relayedEarly++;
    this.o.relay(block);
  }

  /** A block relayed early that is still being connected, for our block server to serve. */
  relayingBlock(hash: Uint8Array): Block | undefined {
    return this.relaying.get(toHex(hash));
  }

  private async connectTo(address: string, port: number): Promise<BlockClient> {
    const client = new BlockClient(this.o.settings.params, address, port, ANSWER_MS, CONNECT_MS);
    this.clients.add(client);
    await client.connect();
    return client;
  }

  /** getblocktxn for what the mempool lacked; undefined when that does not give the block (fetch it whole). */
  private async complete(client: BlockClient, hash: Uint8Array, partial: PartialBlock): Promise<Block | undefined> {
    this.stats.txsFetched += partial.missing.length;
    const txs = await client.getBlockTxn(hash, partial.missing);
    return txs ? finishRebuild(partial, txs) : undefined;
  }

  /** Validates and connects the block as the sync does one block (sync.ts connectBlocks). */
  private async connect(block: Block): Promise<void> {
    // Signatures in the checking threads first (mostly cache hits: the mempool saw them). A failed
    // check only leaves the cache unfilled (a tie's block spends from another view); connecting checks again.
    await this.o.signatures?.preverify([block], this.o.chain.coins).catch(() => {});
    const r = this.o.chain.processBlock(block, this.o.now());
    if (r.status !== 'accepted') return;
    this.o.events?.update(r, 'peer');
    if (r.connected.length || r.disconnected.length) this.o.update(r);
    if (r.invalid.length) throw r.invalid[0]!.error;
  }

  /** Stops, closing fetches in progress and waiting for them to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of this.clients) c.close();
    await Promise.all([...this.inFlight.values()]);
  }
}
