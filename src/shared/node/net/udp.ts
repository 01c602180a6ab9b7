// A UDP port shared by every node on the machine (SO_REUSEADDR): each datagram is one frame,
// broadcast to broadcastAddress and sent unicast to each configured peer. Anything that is not a
// valid frame of our network is dropped and counted, never thrown.
import dgram from 'node:dgram';
import type { ConsensusParams } from '../../core/params.js';
import { type RateLimit, SourceRateLimiter } from './rate-limit.js';
import { type DropReason, FrameError, type MsgType, MAX_DATAGRAM_BYTES, decodeFrame, encodeFrame } from './protocol.js';

export interface UdpOptions {
  readonly port: number;
  readonly broadcastAddress: string;
  readonly peers: readonly string[];
  /** Address to bind; default all interfaces. */
  readonly bindAddress?: string;
  /** Datagrams accepted per source address; the rest are dropped (counted as 'rate'). */
  readonly rateLimit?: RateLimit;
}

/**
 * The status port's per-source limit. Honest traffic is far below it (a status every few seconds
 * per miner); a flood from one address is cut to it before a byte of it is hashed. (The
 * transaction port has none: its intake charges signature work only, see mempool/intake.ts.)
 */
export const STATUS_RATE_LIMIT: RateLimit = { ratePerSecond: 50, burst: 200 };
/** Receive buffer asked of the kernel (it caps it at net.core.rmem_max). */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

export class UdpChannel {
  private readonly socket: dgram.Socket;
  readonly dropped: Partial<Record<DropReason | 'rate', number>> = {};
  private readonly limiter?: SourceRateLimiter;
  received = 0;
  sendErrors = 0;
  private ready: Promise<void>;

  constructor(
    private readonly params: ConsensusParams,
    private readonly opts: UdpOptions,
    onFrame: (type: MsgType, payload: Uint8Array, from: { address: string; port: number }) => void,
  ) {
    this.socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    if (opts.rateLimit) this.limiter = new SourceRateLimiter(opts.rateLimit);
    this.socket.on('message', (msg, rinfo) => {
      if (this.limiter && !this.limiter.allow(rinfo.address)) {
        this.drop('rate');
        return;
      }
      try {
        const f = decodeFrame(this.params, new Uint8Array(msg.buffer, msg.byteOffset, msg.length), MAX_DATAGRAM_BYTES);
        this.received++;
        onFrame(f.type, f.payload, rinfo);
      } catch (e) {
        const reason: DropReason = e instanceof FrameError ? e.reason : 'payload';
        this.drop(reason);
      }
    });
    this.socket.on('error', () => {
      this.sendErrors++;
    });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(opts.port, opts.bindAddress, () => {
        this.socket.off('error', reject);
        this.socket.setBroadcast(true);
        try {
          this.socket.setRecvBufferSize(RECV_BUFFER_BYTES);
        } catch {
          /* the kernel's default buffer then */
        }
        resolve();
      });
    });
  }

  drop(reason: DropReason | 'rate'): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  listening(): Promise<void> {
    return this.ready;
  }

  /** Broadcasts one frame and sends it to every peer. Send failures are counted, not thrown. */
  send(type: MsgType, payload: Uint8Array): void {
    const frame = encodeFrame(this.params, type, payload);
    for (const addr of [this.opts.broadcastAddress, ...this.opts.peers]) {
      this.socket.send(frame, this.opts.port, addr, (err) => {
        if (err) this.sendErrors++;
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** Sends one frame from a throwaway socket (for the wallet, which does not listen on the port). */
export function sendOnce(
  params: ConsensusParams,
  type: MsgType,
  payload: Uint8Array,
  port: number,
  addresses: readonly string[],
): Promise<void> {
  const frame = encodeFrame(params, type, payload);
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  return new Promise((resolve, reject) => {
    s.once('error', (e) => {
      s.close();
      reject(e);
    });
    s.bind(0, () => {
      s.setBroadcast(true);
      let left = addresses.length;
      let firstErr: Error | undefined;
      if (left === 0) {
        s.close();
        resolve();
        return;
      }
      for (const a of addresses) {
        s.send(frame, port, a, (err) => {
          if (err && !firstErr) firstErr = err;
          if (--left === 0) {
            s.close();
            if (firstErr) reject(firstErr);
            else resolve();
          }
        });
      }
    });
  });
}
