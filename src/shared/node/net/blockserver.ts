// The TCP block server: answers GETHEADERS (from a block locator) and GETBLOCKS (by hash) so any
// node can catch up from any point, on any fork. Connections are capped in number, time out when
// idle, and are closed on the first malformed frame.
import net from 'node:net';
import type { Chain } from '../../core/chain.js';
import { encodeBlock } from '../../core/block.js';
import type { ConsensusParams } from '../../core/params.js';
import {
  FrameReader,
  MAX_HASHES_PER_REQUEST,
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
}

/** Requests are small: a locator or a hash list. */
const MAX_REQUEST_BYTES = 32 * MAX_HASHES_PER_REQUEST + 16;
/**
 * Answers wait while this much is queued unsent on a connection, and its requests are not read
 * meanwhile: a client that asks without reading (one GETBLOCKS names up to 500 blocks of up to
 * maxBlockBytes) costs the server this much memory, not what it asked for.
 */
const MAX_UNSENT_BYTES = 2_000_000;
/** Parsed requests held per connection before reading from it pauses. */
const MAX_QUEUED_REQUESTS = 8;

export class BlockServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  readonly stats = { connections: 0, refused: 0, badRequests: 0, timeouts: 0, headersServed: 0, blocksServed: 0 };

  constructor(
    private readonly params: ConsensusParams,
    private readonly chain: Chain,
    private readonly opts: BlockServerOptions,
  ) {
    this.server = net.createServer((s) => this.onConnection(s));
    this.server.maxConnections = opts.maxConnections;
    this.server.on('drop', () => this.stats.refused++);
    this.server.on('error', () => {});
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo | null)?.port ?? 0;
  }

  private onConnection(s: net.Socket): void {
    this.stats.connections++;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    s.setTimeout(this.opts.timeoutMs, () => {
      this.stats.timeouts++;
      s.destroy();
    });
    const reader = new FrameReader(this.params, MAX_REQUEST_BYTES);
    // Requests are answered one at a time, in order, each waiting for the client to take what
    // was sent before (see MAX_UNSENT_BYTES).
    const queue: { type: MsgType; payload: Uint8Array }[] = [];
    let answering = false;
    const bad = () => {
      this.stats.badRequests++;
      s.destroy();
    };
    const pump = async () => {
      if (answering) return;
      answering = true;
      try {
        for (let f = queue.shift(); f && !s.destroyed; f = queue.shift()) await this.answer(s, f.type, f.payload);
        if (!s.destroyed) s.resume();
      } catch {
        bad();
      } finally {
        answering = false;
      }
    };
    s.on('data', (chunk: Buffer) => {
      try {
        queue.push(...reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
      } catch {
        bad();
        return;
      }
      if (queue.length >= MAX_QUEUED_REQUESTS) s.pause();
      void pump();
    });
  }

  /** Resolves once the socket has taken most of what was written, or has closed. */
  private drained(s: net.Socket): Promise<void> | undefined {
    if (s.writableLength <= MAX_UNSENT_BYTES || s.destroyed) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        s.off('drain', done);
        s.off('close', done);
        resolve();
      };
      s.on('drain', done);
      s.on('close', done);
    });
  }

  private async answer(s: net.Socket, type: MsgType, payload: Uint8Array): Promise<void> {
    await this.drained(s);
    if (s.destroyed) return;
    if (type === MsgType.GetHeaders) {
      const { locator, max } = decodeGetHeaders(payload);
      const headers = this.chain.headersAfter(locator, max);
      this.stats.headersServed += headers.length;
      s.write(encodeFrame(this.params, MsgType.Headers, encodeHeaders(headers)));
    } else if (type === MsgType.GetBlocks) {
      const missing: Uint8Array[] = [];
      for (const h of decodeHashes(payload)) {
        await this.drained(s);
        if (s.destroyed) return;
        const block = this.chain.getBlock(h);
        if (!block) {
          missing.push(h);
          continue;
        }
        this.stats.blocksServed++;
        s.write(encodeFrame(this.params, MsgType.Block, encodeBlock(block)));
      }
      // Always end a GETBLOCKS answer with NOTFOUND (possibly empty) so the client knows it is complete.
      s.write(encodeFrame(this.params, MsgType.NotFound, encodeHashes(missing)));
    } else {
      throw new Error('unexpected message type');
    }
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
