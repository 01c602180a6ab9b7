// The TCP block server: answers GETHEADERS (from a block locator) and GETBLOCKS (by hash) so any
// node can catch up from any point, on any fork. No client can hold what others need:
// connections are capped in number and per source address, and when full the slowest (the one
// that has gone longest without completing a request) makes room for the newcomer; each request
// frame must arrive whole within a deadline (a byte now and then does not keep it open); output
// waiting on a client that does not read is bounded, and answering always yields to the event
// loop between blocks. The first malformed frame closes the connection.
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
const MAX_UNSENT_BYTES = 1_000_000;
/** Parsed requests held per connection before reading from it pauses. */
const MAX_QUEUED_REQUESTS = 8;
/** Connections from one source address at most, as a share of maxConnections (at least 2). */
const PER_SOURCE_SHARE = 0.25;
/** A connection that completed a request this recently is not evicted to make room. */
const PROTECT_AFTER_FRAME_MS = 250;

/** What the server tracks per connection. */
interface Conn {
  readonly socket: net.Socket;
  readonly address: string;
  readonly openedMs: number;
  /** When it last completed a request frame (or connected). */
  lastFrameMs: number;
  /** Set while a partial frame is pending: the whole frame must arrive by then. */
  frameTimer?: NodeJS.Timeout;
  /** Its requests are being answered. */
  busy: boolean;
}

/** A turn of the event loop: status, mining and other connections run between blocks. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class BlockServer {
  private readonly server: net.Server;
  private readonly conns = new Map<net.Socket, Conn>();
  private readonly perSource = new Map<string, number>();
  readonly stats = { connections: 0, refused: 0, evicted: 0, badRequests: 0, timeouts: 0, frameDeadlines: 0, headersServed: 0, blocksServed: 0 };

  constructor(
    private readonly params: ConsensusParams,
    private readonly chain: Chain,
    private readonly opts: BlockServerOptions,
  ) {
    this.server = net.createServer((s) => this.onConnection(s));
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

  private get perSourceCap(): number {
    return Math.max(2, Math.floor(this.opts.maxConnections * PER_SOURCE_SHARE));
  }

  /**
   * Admission: within the source's share; when the server is full, room is made by closing a
   * connection of the source holding the most (Core's AttemptToEvictConnection: from the
   * largest group), its slowest one, so long as that source holds more than the newcomer's.
   * A connection that is being answered or completed a request lately is never the one closed.
   * A flood from many addresses thus churns among itself while every honest newcomer gets in.
   */
  private admit(address: string): boolean {
    const mine = this.perSource.get(address) ?? 0;
    if (mine >= this.perSourceCap) return false;
    if (this.conns.size < this.opts.maxConnections) return true;
    const now = Date.now();
    let victim: Conn | undefined;
    for (const c of this.conns.values()) {
      if (c.busy || now - c.lastFrameMs < PROTECT_AFTER_FRAME_MS) continue;
      const n = this.perSource.get(c.address) ?? 0;
      const vn = victim ? (this.perSource.get(victim.address) ?? 0) : -1;
      if (n > vn || (n === vn && c.lastFrameMs < victim!.lastFrameMs)) victim = c;
    }
    if (!victim || (this.perSource.get(victim.address) ?? 0) <= mine) return false;
    this.stats.evicted++;
    this.forget(victim);
    victim.socket.destroy();
    return true;
  }

  private forget(c: Conn): void {
    if (!this.conns.delete(c.socket)) return;
    clearTimeout(c.frameTimer);
    const n = (this.perSource.get(c.address) ?? 1) - 1;
    if (n > 0) this.perSource.set(c.address, n);
    else this.perSource.delete(c.address);
  }

  private onConnection(s: net.Socket): void {
    s.on('error', () => {});
    const address = s.remoteAddress ?? '?';
    if (!this.admit(address)) {
      this.stats.refused++;
      s.destroy();
      return;
    }
    this.stats.connections++;
    const now = Date.now();
    const conn: Conn = { socket: s, address, openedMs: now, lastFrameMs: now - PROTECT_AFTER_FRAME_MS, busy: false };
    this.conns.set(s, conn);
    this.perSource.set(address, (this.perSource.get(address) ?? 0) + 1);
    s.on('close', () => this.forget(conn));
    // Idle: nothing read or written for this long (a client that never reads what we send included).
    s.setTimeout(this.opts.timeoutMs, () => {
      this.stats.timeouts++;
      s.destroy();
    });
    this.serve(conn);
  }

  /** Reads requests and answers them one at a time, in order (see MAX_UNSENT_BYTES). */
  private serve(conn: Conn): void {
    const s = conn.socket;
    const reader = new FrameReader(this.params, MAX_REQUEST_BYTES);
    const queue: { type: MsgType; payload: Uint8Array }[] = [];
    let answering = false;
    const bad = () => {
      this.stats.badRequests++;
      s.destroy();
    };
    const pump = async () => {
      if (answering || queue.length === 0) return;
      answering = true;
      conn.busy = true;
      try {
        for (let f = queue.shift(); f && !s.destroyed; f = queue.shift()) await this.answer(s, f.type, f.payload);
        if (!s.destroyed) s.resume();
      } catch {
        bad();
      } finally {
        answering = false;
        conn.busy = false;
        conn.lastFrameMs = Date.now();
      }
    };
    s.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      } catch {
        bad();
        return;
      }
      this.frameDeadline(conn, frames.length > 0, reader.buffered > 0);
      queue.push(...frames);
      if (queue.length >= MAX_QUEUED_REQUESTS) s.pause();
      void pump();
    });
  }

  /** The whole of each request frame must arrive within timeoutMs of its first byte. */
  private frameDeadline(conn: Conn, completed: boolean, partial: boolean): void {
    if (completed) {
      conn.lastFrameMs = Date.now();
      clearTimeout(conn.frameTimer);
      conn.frameTimer = undefined;
    }
    if (partial && !conn.frameTimer) {
      conn.frameTimer = setTimeout(() => {
        this.stats.frameDeadlines++;
        conn.socket.destroy();
      }, this.opts.timeoutMs);
    }
  }

  /**
   * Resolves once the socket has taken most of what was written, or has closed; always after
   * at least one turn of the event loop, so a client asking for many blocks never holds it.
   */
  private async drained(s: net.Socket): Promise<void> {
    await yieldToLoop();
    if (s.writableLength <= MAX_UNSENT_BYTES || s.destroyed) return;
    await new Promise<void>((resolve) => {
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

  /** Open connections, for tests and status. */
  get connections(): number {
    return this.conns.size;
  }

  close(): Promise<void> {
    for (const c of [...this.conns.values()]) {
      this.forget(c);
      c.socket.destroy();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
