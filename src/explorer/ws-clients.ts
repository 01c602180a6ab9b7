// The websocket clients of /api/v1/ws and what each asked for, bounded as the event streams are
// (events.ts): at most `maxClients` sockets and `maxPerAddress` from one address; when full, the
// one closed for a newcomer is the oldest of the address holding most (the newcomer's own
// counted), so an honest page holding one socket keeps it while any address holds two. A client
// whose unsent bytes pass `maxBufferedBytes` (it does not read) is dropped rather than buffered for.
import type { WebSocket } from 'ws';

/** mempool.space's `want` subscriptions that apply here. */
export const WANTABLE = ['blocks', 'mempool-blocks', 'stats'] as const;
export type Want = (typeof WANTABLE)[number];

export interface WsClient {
  readonly socket: WebSocket;
  /** The source address it counts under. */
  readonly address: string;
  readonly wants: Set<Want>;
  /** `track-address`: the address (Base58Check, as sent). */
  trackAddress?: string;
  /** `track-addresses`: at most maxTrackedAddresses of them. */
  trackAddresses?: Set<string>;
  /** `track-tx`: a txid in display hex (lowercase). */
  trackTx?: string;
  /** The tracked transaction's inputs ("txid:vout"), once seen in the pool: a block spending one replaced it. */
  trackTxInputs?: readonly string[];
  /** Message allowance (a token bucket): tokens, refilled at the per-connection rate. */
  tokens: number;
  refilledAt: number;
  /** Messages refused for rate since it connected. */
  overRate: number;
  /** It answered the last ping (or sent something) since the last deadline check. */
  alive: boolean;
}

/** Close codes (RFC 6455 section 7.4.1). */
export const CLOSE_POLICY = 1008;
export const CLOSE_TRY_LATER = 1013;
/** A closed client that does not answer the close frame is cut this long after. */
const CLOSE_GRACE_MS = 2000;

/** Closes with a code and a reason, and cuts the socket if the peer does not finish the close handshake soon. */
export function closeClient(c: WsClient, code: number, reason: string): void {
  c.socket.close(code, reason);
  setTimeout(() => c.socket.terminate(), CLOSE_GRACE_MS).unref();
}

export class WsClients {
  /** Clients per address, each address's oldest first (Set order is insertion order). */
  private readonly byAddress = new Map<string, Set<WsClient>>();
  private count = 0;
  readonly stats = { replaced: 0, slowDropped: 0, sent: 0 };

  constructor(
    private readonly maxClients: number,
    private readonly maxPerAddress: number,
    private readonly maxBufferedBytes: number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** A newcomer: room is made for it first (see the file's header). */
  add(c: WsClient): void {
    this.makeRoom(c.address);
    let mine = this.byAddress.get(c.address);
    if (!mine) this.byAddress.set(c.address, (mine = new Set()));
    mine.add(c);
    this.count++;
  }

  forget(c: WsClient): void {
    const set = this.byAddress.get(c.address);
    if (!set?.delete(c)) return;
    this.count--;
    if (set.size === 0) this.byAddress.delete(c.address);
  }

  *all(): IterableIterator<WsClient> {
    for (const set of this.byAddress.values()) yield* [...set];
  }

  /** Sends text unless the client is not reading (then it is dropped); false when it was not sent. */
  send(c: WsClient, text: string): boolean {
    if (c.socket.readyState !== c.socket.OPEN) return false;
    if (c.socket.bufferedAmount > this.maxBufferedBytes) {
      this.stats.slowDropped++;
      this.forget(c);
      c.socket.terminate();
      return false;
    }
    c.socket.send(text);
    this.stats.sent++;
    return true;
  }

  private makeRoom(who: string): void {
    const mine = this.byAddress.get(who);
    if (mine && mine.size >= this.maxPerAddress) return this.replace(mine.values().next().value!);
    if (this.count < this.maxClients) return;
    let most = mine;
    let mostCount = (mine?.size ?? 0) + 1;
    for (const set of this.byAddress.values()) if (set.size > mostCount) [most, mostCount] = [set, set.size];
    // Every address holds one (more addresses than sockets): the newcomer takes an old one's place.
    most ??= this.byAddress.values().next().value!;
    this.replace(most.values().next().value!);
  }

  private replace(c: WsClient): void {
    this.stats.replaced++;
    this.forget(c);
    closeClient(c, CLOSE_TRY_LATER, 'too many websockets from this address, or in all');
  }

  closeAll(): void {
    for (const c of this.all()) c.socket.terminate();
    this.byAddress.clear();
    this.count = 0;
  }
}
