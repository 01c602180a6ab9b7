// Client side of the block server: one TCP connection, every wait bounded. Requests may be
// pipelined (sent at once; the server answers them in order, and each answer is read after the
// ones asked for before it), so a parallel block download keeps a few requests in flight per peer.
import net from 'node:net';
import { type Block, decodeBlock } from '../../core/block.js';
import type { Header } from '../../core/header.js';
import type { ConsensusParams } from '../../core/params.js';
import { DecodeError, equalBytes } from '../../core/bytes.js';
import { decodeBlockTxn, encodeGetBlockTxn } from '../../core/block-txn.js';
import { maxBlockTxs } from '../../core/compact-block.js';
import type { Tx } from '../../core/tx.js';
import {
  type Frame,
  FrameReader,
  MAX_PUSHED_HEADERS,
  MsgType,
  decodeHashes,
  decodeHeaders,
  encodeFrame,
  encodeGetHeaders,
  encodeHashes,
  maxPayloadBytes,
} from './protocol.js';

export class PeerError extends Error {
  override readonly name = 'PeerError';
  /** The peer took our whole timeout: waiting on it again soon would cost as much. */
  constructor(
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

export class BlockClient {
  private socket?: net.Socket;
  private reader: FrameReader;
  private queue: Frame[] = [];
  private waiter?: (err?: Error) => void;
  private failure?: Error;
  /** The last answer to be read: the next one is read after it (pipelined requests). */
  private reading: Promise<unknown> = Promise.resolve();
  /** Requests sent whose answer has not been read yet. */
  private unanswered = 0;
  /** Headers the server pushed (BIP130, after sendHeaders); set by the owner, never an answer. */
  onPush?: (headers: Header[]) => void;
  /** Pushes that did not decode (dropped). */
  badPushes = 0;

  constructor(
    private readonly params: ConsensusParams,
    readonly host: string,
    readonly port: number,
    /** Deadline for each whole frame (and the connect); may be raised once the peer proves itself. */
    public timeoutMs: number,
    /** Deadline for the connect alone, when shorter than timeoutMs. */
    private readonly connectTimeoutMs = timeoutMs,
  ) {
    this.reader = new FrameReader(params, maxPayloadBytes(params));
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: this.host, port: this.port });
      const timer = setTimeout(
        () => {
          s.destroy();
          reject(new PeerError(`connect to ${this.host}:${this.port} timed out`, true));
        },
        Math.min(this.timeoutMs, this.connectTimeoutMs),
      );
      s.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      s.on('error', (e) => {
        clearTimeout(timer);
        this.fail(new PeerError(`${this.host}:${this.port}: ${e.message}`));
        reject(this.failure);
      });
      s.on('close', () => this.fail(new PeerError(`${this.host}:${this.port} closed the connection`)));
      s.on('data', (chunk: Buffer) => {
        try {
          for (const f of this.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)))
            if (f.type === MsgType.HeadersPush) this.pushed(f.payload);
            else this.queue.push(f);
        } catch (e) {
          this.fail(new PeerError(`${this.host}:${this.port} sent a bad frame: ${(e as Error).message}`));
          s.destroy();
        }
        this.wake();
      });
      this.socket = s;
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async next(): Promise<Frame> {
    // One deadline for the whole frame: a peer trickling a byte now and then must not hold us forever.
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const f = this.queue.shift();
      if (f) return f;
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => {
            this.waiter = undefined;
            // The stream is now out of step with the requests: the connection is done for.
            this.failure ??= new PeerError(`${this.host}:${this.port} did not answer in time`, true);
            this.socket?.destroy();
            reject(this.failure);
          },
          Math.max(0, deadline - Date.now()),
        );
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private send(type: MsgType, payload: Uint8Array): void {
    if (!this.socket || this.failure) throw this.failure ?? new PeerError('not connected');
    this.socket.write(encodeFrame(this.params, type, payload));
  }

  /** Reads an answer once every answer asked for before it is read (failing too if one of them failed). */
  private inOrder<T>(read: () => Promise<T>): Promise<T> {
    this.unanswered++;
    const p = this.reading.then(read, read).finally(() => this.unanswered--);
    this.reading = p.catch(() => {});
    return p;
  }

  /** Requests sent and not yet answered in full. */
  get inFlight(): number {
    return this.unanswered;
  }

  /** Whether the connection failed (closed, timed out or sent a bad frame): no request can succeed on it. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  getHeaders(locator: readonly Uint8Array[], max: number): Promise<Header[]> {
    this.send(MsgType.GetHeaders, encodeGetHeaders(locator, max));
    return this.inOrder(() => this.readHeaders());
  }

  private async readHeaders(): Promise<Header[]> {
    const f = await this.next();
    if (f.type !== MsgType.Headers) throw new PeerError(`expected HEADERS, got type ${f.type}`);
    try {
      return decodeHeaders(f.payload);
    } catch (e) {
      throw new PeerError(`bad HEADERS: ${(e as DecodeError).message}`);
    }
  }

  /** Blocks for the hashes, in the order served; hashes the peer lacks are simply absent. */
  getBlocks(hashes: readonly Uint8Array[]): Promise<Block[]> {
    this.send(MsgType.GetBlocks, encodeHashes(hashes));
    return this.inOrder(() => this.readBlocks(hashes.length));
  }

  private async readBlocks(asked: number): Promise<Block[]> {
    const out: Block[] = [];
    for (;;) {
      const f = await this.next();
      if (f.type === MsgType.NotFound) {
        decodeHashes(f.payload);
        return out;
      }
      if (f.type !== MsgType.Block) throw new PeerError(`expected BLOCK, got type ${f.type}`);
      if (out.length >= asked) throw new PeerError('peer sent more blocks than asked');
      try {
        out.push(decodeBlock(f.payload));
      } catch (e) {
        throw new PeerError(`undecodable block: ${(e as Error).message}`);
      }
    }
  }

  /** BIP130: asks the server to push the headers of its new tips over this connection. */
  sendHeaders(): void {
    this.send(MsgType.SendHeaders, new Uint8Array(0));
  }

  private pushed(payload: Uint8Array): void {
    let headers: Header[];
    try {
      headers = decodeHeaders(payload);
    } catch {
      this.badPushes++;
      return;
    }
    if (headers.length === 0 || headers.length > MAX_PUSHED_HEADERS) this.badPushes++;
    else this.onPush?.(headers);
  }

  /**
   * BIP152 getblocktxn: the block's transactions at `indexes`, in that order. Undefined if the
   * peer lacks the block (NOTFOUND); a PeerError if it answers anything else or a wrong count.
   */
  getBlockTxn(blockHash: Uint8Array, indexes: readonly number[]): Promise<Tx[] | undefined> {
    this.send(MsgType.GetBlockTxn, encodeGetBlockTxn({ blockHash, indexes }));
    return this.inOrder(() => this.readBlockTxn(blockHash, indexes.length));
  }

  private async readBlockTxn(blockHash: Uint8Array, count: number): Promise<Tx[] | undefined> {
    const f = await this.next();
    if (f.type === MsgType.NotFound) return undefined;
    if (f.type !== MsgType.BlockTxn) throw new PeerError(`expected BLOCKTXN, got type ${f.type}`);
    let answer;
    try {
      answer = decodeBlockTxn(f.payload, maxBlockTxs(this.params.maxBlockBytes));
    } catch (e) {
      throw new PeerError(`bad BLOCKTXN: ${(e as Error).message}`);
    }
    if (!equalBytes(answer.blockHash, blockHash) || answer.txs.length !== count)
      throw new PeerError('BLOCKTXN does not answer the request');
    return [...answer.txs];
  }

  close(): void {
    this.socket?.destroy();
  }
}
