// The TCP block server: answers GETHEADERS (from a block locator) and GETBLOCKS (by hash) so any
// node can catch up from any point, on any fork. Connections are capped in number, time out when
// idle, and are closed on the first malformed frame.
import net from 'node:net';
import type { Chain } from '../chain.js';
import { encodeBlock } from '../block.js';
import type { ConsensusParams } from '../params.js';
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
    s.on('data', (chunk: Buffer) => {
      try {
        for (const f of reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) this.answer(s, f.type, f.payload);
      } catch {
        this.stats.badRequests++;
        s.destroy();
      }
    });
  }

  private answer(s: net.Socket, type: MsgType, payload: Uint8Array): void {
    if (type === MsgType.GetHeaders) {
      const { locator, max } = decodeGetHeaders(payload);
      const headers = this.chain.headersAfter(locator, max);
      this.stats.headersServed += headers.length;
      s.write(encodeFrame(this.params, MsgType.Headers, encodeHeaders(headers)));
    } else if (type === MsgType.GetBlocks) {
      const missing: Uint8Array[] = [];
      for (const h of decodeHashes(payload)) {
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
