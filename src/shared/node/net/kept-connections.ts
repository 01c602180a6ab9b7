// Block-client connections kept open between syncs to the few peers last synced from, as Core
// keeps its outbound peers: the next sync with one of them starts with its request, not a TCP
// handshake, and each has asked its server (BIP130 sendheaders) to push new tips' headers over it.
// Bounded: at most MAX_KEPT, the oldest closed first; each closed after KEPT_IDLE_MS unused (the
// server closes it too after its own idle deadline), and a failed one is never handed out.
import type { Header } from '../../core/header.js';
import type { BlockClient } from './blockclient.js';
import type { PeerInfo } from './peers.js';

/** Connections kept at most (Core keeps 8 outbound full-relay peers; a LAN's few miners need fewer). */
export const MAX_KEPT = 3;
/** A kept connection unused this long is closed. */
export const KEPT_IDLE_MS = 120_000;
/**
 * Pushes a connection may send per second: an honest server pushes at each status and each new
 * tip (a few a second at most); past this one is flooding us with work (each push is decoded and
 * its headers hashed) and its connection is closed.
 */
export const MAX_PUSHES_PER_SECOND = 50;

interface Kept {
  readonly peer: PeerInfo;
  readonly client: BlockClient;
  timer: NodeJS.Timeout;
}

export class KeptConnections {
  private readonly kept = new Map<string, Kept>();

  /** onPush: headers a kept connection's server pushed, with the peer it is. */
  constructor(private readonly onPush: (peer: PeerInfo, headers: Header[]) => void) {}

  /** The open connection kept for this peer, taken out of the pool (the caller keeps or closes it). */
  take(key: string): BlockClient | undefined {
    const k = this.kept.get(key);
    if (!k) return undefined;
    this.kept.delete(key);
    clearTimeout(k.timer);
    if (!k.client.failed && k.client.inFlight === 0) return k.client;
    k.client.close();
    return undefined;
  }

  /** Keeps an open connection after a sync (the oldest kept one closed if full); a failed one is closed. */
  keep(peer: PeerInfo, client: BlockClient): void {
    const old = this.kept.get(peer.key);
    if (old && old.client !== client) this.close(peer.key);
    if (client.failed || client.inFlight > 0) return client.close();
    if (!this.kept.has(peer.key) && this.kept.size >= MAX_KEPT) this.close(this.kept.keys().next().value!);
    client.onPush ??= this.pushHandler(peer, client);
    const timer = setTimeout(() => this.close(peer.key), KEPT_IDLE_MS);
    timer.unref();
    this.kept.delete(peer.key);
    this.kept.set(peer.key, { peer, client, timer });
  }

  /** Passes pushes on, at most MAX_PUSHES_PER_SECOND (past it the connection is closed), each keeping the connection from its idle deadline. */
  private pushHandler(peer: PeerInfo, client: BlockClient): (headers: Header[]) => void {
    let windowStart = Date.now();
    let count = 0;
    return (headers) => {
      const now = Date.now();
      if (now - windowStart >= 1000) [windowStart, count] = [now, 0];
      if (++count > MAX_PUSHES_PER_SECOND) {
        this.floods++;
        client.close();
        return;
      }
      this.kept.get(peer.key)?.timer.refresh();
      this.onPush(peer, headers);
    };
  }

  /** Connections closed for pushing too often. */
  floods = 0;

  get size(): number {
    return this.kept.size;
  }

  private close(key: string): void {
    const k = this.kept.get(key);
    if (!k) return;
    this.kept.delete(key);
    clearTimeout(k.timer);
    k.client.close();
  }

  closeAll(): void {
    for (const key of [...this.kept.keys()]) this.close(key);
  }
}
