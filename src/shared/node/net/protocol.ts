// mvb's network messages. Like Bitcoin's P2P messages each one is framed: magic, then our network
// id, a type, the payload length and the first 4 bytes of HASH256(payload) as checksum
// (https://en.bitcoin.it/wiki/Protocol_documentation#Message_structure). Transactions and status go
// over UDP broadcast (one frame per datagram), and so do compact blocks (BIP152, compact-relay.ts);
// headers, blocks and a compact block's missing transactions over TCP (a stream of frames).
// Every decoder treats input as hostile and throws DecodeError, which the shells count and drop.
import { createHash } from 'node:crypto';
import { DecodeError, Reader, Writer, bigIntToBytesLE, bytesToBigIntLE, equalBytes } from '../../core/bytes.js';
import { checkMinerName, MAX_MINER_NAME_BYTES } from '../../core/coinbase-tag.js';
import { type Header, readHeader, writeHeader, HEADER_BYTES } from '../../core/header.js';
import type { ConsensusParams } from '../../core/params.js';

export const FRAME_HEADER_BYTES = 17;
/** A UDP datagram's payload limit over IPv4. */
export const MAX_DATAGRAM_BYTES = 65_507;
/** Headers per HEADERS reply (Bitcoin: MAX_HEADERS_RESULTS = 2000). */
export const MAX_HEADERS_PER_MESSAGE = 2000;
/** Hashes per GETBLOCKS request and locator entries (Bitcoin caps locators at 101). */
export const MAX_HASHES_PER_REQUEST = 500;

export enum MsgType {
  Tx = 1,
  Status = 2,
  GetHeaders = 3,
  Headers = 4,
  GetBlocks = 5,
  Block = 6,
  NotFound = 7,
  /** A BIP152 cmpctblock on the status port, in an envelope naming its announcer (compact-relay.ts). */
  CompactBlock = 8,
  /** BIP152 getblocktxn / blocktxn over TCP to the announcer's block server. */
  GetBlockTxn = 9,
  BlockTxn = 10,
  /**
   * BIP130's sendheaders: the client asks the server to push the headers of each new tip over this
   * connection (no answer). Numbered apart from the request/answer types so others can be added.
   */
  SendHeaders = 20,
  /** A pushed HEADERS (BIP130): up to MAX_PUSHED_HEADERS ending at the sender's new tip, oldest first; never an answer. */
  HeadersPush = 21,
}

/** Headers in one push (BIP130: a new tip more than 8 blocks on is announced otherwise; here the status datagram). */
export const MAX_PUSHED_HEADERS = 8;

export interface Frame {
  readonly type: MsgType;
  readonly payload: Uint8Array;
}

/**
 * A frame's checksum: the first 4 bytes of HASH256(payload), as Bitcoin's message header. Node's
 * native SHA-256 (the same bytes as core's sha256d): every block a catch-up fetches is hashed so
 * twice, once by the server and once by the client, and the portable one costs several times more.
 */
export function frameChecksum(payload: Uint8Array): Uint8Array {
  const once = createHash('sha256').update(payload).digest();
  return new Uint8Array(createHash('sha256').update(once).digest().buffer, 0, 4);
}

export function encodeFrame(params: ConsensusParams, type: MsgType, payload: Uint8Array): Uint8Array {
  const w = new Writer(FRAME_HEADER_BYTES + payload.length);
  w.bytes(params.magic).bytes(params.networkId).u8(type).u32(payload.length).bytes(frameChecksum(payload)).bytes(payload);
  return w.finish();
}

/** Why a frame was dropped; counted by the shells. */
export type DropReason = 'short' | 'magic' | 'network' | 'type' | 'oversize' | 'checksum' | 'length' | 'payload';

export class FrameError extends DecodeError {
  constructor(
    readonly reason: DropReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parses a frame header at the start of buf. Returns undefined if more bytes are needed (streams);
 * throws FrameError if the bytes can never be a frame of our network.
 */
export function parseFrameHeader(
  params: ConsensusParams,
  buf: Uint8Array,
  maxPayload: number,
): { type: MsgType; length: number; checksum: Uint8Array } | undefined {
  if (buf.length >= 4 && !equalBytes(buf.subarray(0, 4), params.magic)) throw new FrameError('magic', 'bad magic');
  if (buf.length >= 8 && !equalBytes(buf.subarray(4, 8), params.networkId)) throw new FrameError('network', 'frame from another network');
  if (buf.length < FRAME_HEADER_BYTES) return undefined;
  const type = buf[8]!;
  if (!(type in MsgType)) throw new FrameError('type', `unknown message type ${type}`);
  const length = new DataView(buf.buffer, buf.byteOffset + 9, 4).getUint32(0, true);
  if (length > maxPayload) throw new FrameError('oversize', `payload ${length} bytes exceeds ${maxPayload}`);
  return { type: type as MsgType, length, checksum: buf.subarray(13, 17) };
}

/** Decodes exactly one frame (a datagram). */
export function decodeFrame(params: ConsensusParams, buf: Uint8Array, maxPayload: number): Frame {
  const h = parseFrameHeader(params, buf, maxPayload);
  if (!h) throw new FrameError('short', 'datagram shorter than a frame header');
  if (buf.length !== FRAME_HEADER_BYTES + h.length) throw new FrameError('length', 'datagram length does not match the frame');
  const payload = buf.subarray(FRAME_HEADER_BYTES);
  if (!equalBytes(frameChecksum(payload), h.checksum)) throw new FrameError('checksum', 'bad checksum');
  return { type: h.type, payload };
}

/**
 * Splits a TCP byte stream into frames. Bytes not yet taken are kept from an offset into one
 * buffer: a chunk is appended (the buffer grown by doubling, compacted when it is mostly taken),
 * so a run of blocks in one chunk, or a large block in many, is copied a bounded number of times
 * rather than once per frame or per chunk.
 */
export class FrameReader {
  private buf = new Uint8Array(0);
  private start = 0;
  private end = 0;
  constructor(
    private readonly params: ConsensusParams,
    private readonly maxPayload: number,
  ) {}

  /** Feeds bytes; returns the complete frames. Throws FrameError on a stream that is not ours. */
  push(chunk: Uint8Array): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    for (;;) {
      const view = this.buf.subarray(this.start, this.end);
      const h = parseFrameHeader(this.params, view, this.maxPayload);
      if (!h || view.length < FRAME_HEADER_BYTES + h.length) break;
      const total = FRAME_HEADER_BYTES + h.length;
      const payload = view.slice(FRAME_HEADER_BYTES, total);
      if (!equalBytes(frameChecksum(payload), h.checksum)) throw new FrameError('checksum', 'bad checksum');
      frames.push({ type: h.type, payload });
      this.start += total;
    }
    if (this.start === this.end) this.start = this.end = 0;
    return frames;
  }

  private append(chunk: Uint8Array): void {
    const held = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      // Compact into the same buffer when that leaves room, else into one twice as large.
      const size = held + chunk.length;
      if (size <= this.buf.length) this.buf.copyWithin(0, this.start, this.end);
      else {
        const next = new Uint8Array(Math.max(size, this.buf.length * 2, 4096));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = held;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  get buffered(): number {
    return this.end - this.start;
  }
}

// ------------------------------------------------------------------ payloads

export interface Status {
  readonly tipHash: Uint8Array;
  readonly height: number;
  readonly chainWork: bigint;
  /** TCP port of the sender's block server (0: it serves none). */
  readonly blockServerPort: number;
  /** Random per process: a node recognises its own broadcasts heard back. */
  readonly nodeId: Uint8Array;
  /** Transactions in the sender's mempool (informational). */
  readonly mempoolSize: number;
  /**
   * The miner's name, as in its coinbase tags (informational, optional): a trailing length byte and
   * up to MAX_MINER_NAME_BYTES of ASCII. Statuses without it (older nodes, wallets) still decode;
   * a name that breaks checkMinerName's rules is read as no name, never shown.
   */
  readonly name?: string | undefined;
}

/** The status payload without a name, in bytes. */
const STATUS_BYTES = 82;

export function encodeStatus(s: Status): Uint8Array {
  const w = new Writer(STATUS_BYTES + 1 + MAX_MINER_NAME_BYTES)
    .bytes(s.tipHash)
    .u32(s.height)
    .bytes(bigIntToBytesLE(s.chainWork, 32))
    .u16(s.blockServerPort)
    .bytes(s.nodeId)
    .u32(s.mempoolSize);
  if (s.name !== undefined) {
    const name = new TextEncoder().encode(checkMinerName(s.name));
    w.u8(name.length).bytes(name);
  }
  return w.finish();
}

export function decodeStatus(b: Uint8Array): Status {
  const r = new Reader(b);
  const tipHash = r.bytes(32, 'tip').slice();
  const height = r.u32('height');
  const chainWork = bytesToBigIntLE(r.bytes(32, 'chain work'));
  const blockServerPort = r.u16('port');
  const nodeId = r.bytes(8, 'node id').slice();
  const mempoolSize = r.u32('mempool size');
  const name = b.length > STATUS_BYTES ? statusName(r) : undefined;
  r.end('status');
  return { tipHash, height, chainWork, blockServerPort, nodeId, mempoolSize, name };
}

/** The optional trailing name: a length byte (1 to MAX_MINER_NAME_BYTES) and ASCII; undefined if it breaks the rules. */
function statusName(r: Reader): string | undefined {
  const n = r.u8('name length');
  if (n === 0 || n > MAX_MINER_NAME_BYTES) throw new DecodeError(`status name of ${n} bytes`);
  const text = String.fromCharCode(...r.bytes(n, 'name'));
  try {
    return checkMinerName(text) === text ? text : undefined;
  } catch {
    return undefined;
  }
}

/** GETHEADERS: a block locator and how many headers are wanted. */
export function encodeGetHeaders(locator: readonly Uint8Array[], max: number): Uint8Array {
  const w = new Writer(8 + 32 * locator.length).compactSize(locator.length);
  for (const h of locator) w.bytes(h);
  return w.u16(Math.min(max, MAX_HEADERS_PER_MESSAGE)).finish();
}

export function decodeGetHeaders(b: Uint8Array): { locator: Uint8Array[]; max: number } {
  const r = new Reader(b);
  const n = r.count(32, 'locator');
  if (n > MAX_HASHES_PER_REQUEST) throw new DecodeError('locator too long');
  const locator: Uint8Array[] = [];
  for (let i = 0; i < n; i++) locator.push(r.bytes(32).slice());
  const max = r.u16('max');
  r.end('getheaders');
  return { locator, max: Math.min(max, MAX_HEADERS_PER_MESSAGE) };
}

export function encodeHeaders(headers: readonly Header[]): Uint8Array {
  const w = new Writer(3 + HEADER_BYTES * headers.length).compactSize(headers.length);
  for (const h of headers) writeHeader(w, h);
  return w.finish();
}

export function decodeHeaders(b: Uint8Array): Header[] {
  const r = new Reader(b);
  const n = r.count(HEADER_BYTES, 'headers');
  if (n > MAX_HEADERS_PER_MESSAGE) throw new DecodeError('too many headers');
  const out: Header[] = [];
  for (let i = 0; i < n; i++) out.push(readHeader(r));
  r.end('headers');
  return out;
}

/** GETBLOCKS (by hash) and NOTFOUND share one shape: a list of hashes. */
export function encodeHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const w = new Writer(3 + 32 * hashes.length).compactSize(hashes.length);
  for (const h of hashes) w.bytes(h);
  return w.finish();
}

export function decodeHashes(b: Uint8Array): Uint8Array[] {
  const r = new Reader(b);
  const n = r.count(32, 'hashes');
  if (n > MAX_HASHES_PER_REQUEST) throw new DecodeError('too many hashes');
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes(32).slice());
  r.end('hashes');
  return out;
}

/** Largest frame payload a node accepts: a block at the size limit. */
export function maxPayloadBytes(params: ConsensusParams): number {
  return Math.max(params.maxBlockBytes, HEADER_BYTES * MAX_HEADERS_PER_MESSAGE + 3) + 16;
}
