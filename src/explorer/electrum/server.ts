// The explorer's Electrum server (protocol 1.4 to 1.4.2, electrumx.readthedocs.io): newline-
// delimited JSON-RPC over TCP on its own port, answered from the explorer's chain, indexes and pool
// (methods.ts), one Session per connection (session.ts: framing and per-connection limits).
// Notifications: after each chain update the new tip to headers subscribers, and after each chain
// or pool change the new status of each followed scripthash the change touched (subscriptions.ts);
// pool changes are gathered into rounds at most every ROUND_MS apart, so a flood of transactions
// costs one pass over the pool per round, not one per transaction.
//
// Bounded as the HTTP side is (docs/THREATS.md): at most MAX_CONNECTIONS connections and
// MAX_CONNECTIONS_PER_ADDRESS from one address (a newcomer from an address at its cap replaces that
// address's oldest). When full, the connection closed for a newcomer is the oldest of the address
// holding most (the newcomer's own counted), as the event streams' hub does (events.ts): an honest
// wallet holding one connection keeps it while any address holds two, so a few addresses cannot
// hold them all. A connection must send a whole first line within FIRST_LINE_MS, and is closed
// after IDLE_MS with no traffic either way; an address starts at most REQUESTS_PER_SECOND
// requests a second (bursts of REQUEST_BURST), and broadcasts at most the HTTP side's POST rate.
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { hashToHex, toHex } from '../../shared/core/bytes.js';
import type { ChainUpdate } from '../../shared/core/chain.js';
import { encodeHeader } from '../../shared/core/header.js';
import { isCoinbase } from '../../shared/core/tx.js';
import type { TxVerdict } from '../../shared/node/mempool/intake.js';
import { SourceRateLimiter } from '../../shared/node/net/rate-limit.js';
import { POSTS_PER_SECOND, POST_BURST } from '../http.js';
import { scripthashOf } from '../indexes.js';
import type { Lookups } from '../lookups.js';
import type { ElectrumContext } from './context.js';
import { HeaderProofs } from './header-proof.js';
import { type PoolIndex, buildPoolIndex, history, statusOf } from './history.js';
import { Session, type SessionHooks } from './session.js';
import { Subscriptions } from './subscriptions.js';
import { PROTOCOL_MAX, PROTOCOL_MIN, serverVersion } from './version.js';

export const MAX_CONNECTIONS = 1024;
export const MAX_CONNECTIONS_PER_ADDRESS = 16;
/** A connection's first whole line must arrive within this long. */
export const FIRST_LINE_MS = 20_000;
/** No traffic either way for this long closes a connection (ElectrumX's session timeout; clients ping well within it). */
export const IDLE_MS = 600_000;
export const REQUESTS_PER_SECOND = 200;
export const REQUEST_BURST = 2000;
/** Pool changes are notified at most this often (and the pool's scripthash index rebuilt at most this often for them). */
export const ROUND_MS = 250;
/** Addresses whose allowances are remembered at most. */
const MAX_SOURCES = 10_000;

export interface ElectrumOptions {
  /** The host clients reach it by (server.features "hosts"). */
  readonly host: string;
  readonly maxConnections?: number;
  readonly maxPerAddress?: number;
  readonly idleMs?: number;
  readonly firstLineMs?: number;
  readonly warn?: (msg: string) => void;
}

const sourceOf = (s: Socket): string => {
  const a = s.remoteAddress ?? '?';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
};

export class ElectrumServer {
  private readonly server: Server;
  private readonly byAddress = new Map<string, Set<Session>>();
  private count = 0;
  private readonly requests = new SourceRateLimiter({ ratePerSecond: REQUESTS_PER_SECOND, burst: REQUEST_BURST }, Date.now, MAX_SOURCES);
  private readonly posts = new SourceRateLimiter({ ratePerSecond: POSTS_PER_SECOND, burst: POST_BURST }, Date.now, MAX_SOURCES);
  readonly subs = new Subscriptions();
  readonly ctx: ElectrumContext;
  private readonly hooks: SessionHooks;
  private port = 0;
  private poolIndex?: PoolIndex;
  private poolDirty = true;
  private poolBuiltAt = 0;
  /** The pool as of the last notification round, to see what changed. */
  private notifiedPool?: PoolIndex;
  private readonly touched = new Set<string>();
  private touchAll = false;
  private tipChanged = false;
  private roundTimer?: NodeJS.Timeout;
  private lastRoundAt = 0;
  private readonly onUpdate = (u: ChainUpdate) => this.guarded('chain update', () => this.chainChanged(u));
  private readonly onVerdict = (v: TxVerdict) => v.kind === 'accepted' && this.poolChanged(false);
  readonly stats = {
    connections: 0,
    replaced: 0,
    requests: 0,
    errors: 0,
    badJson: 0,
    oversize: 0,
    floods: 0,
    slowReaders: 0,
    internalErrors: 0,
    idleClosed: 0,
    firstLineDeadlines: 0,
  };

  constructor(
    readonly l: Lookups,
    private readonly opts: ElectrumOptions,
  ) {
    this.ctx = {
      l,
      proofs: new HeaderProofs(l.ex.chain),
      subs: this.subs,
      banner: `mvb explorer ${serverVersion()} on ${l.ex.settings.network}: Electrum protocol ${PROTOCOL_MIN} to ${PROTOCOL_MAX}`,
      pool: () => this.pool(),
      features: () => this.features(),
      mayBroadcast: (source) => this.posts.allow(source),
    };
    const maxTx = l.ex.settings.params.maxTxBytes;
    this.hooks = {
      ctx: this.ctx,
      // A broadcast of the largest transaction in hex, and room for the JSON around it.
      maxLineBytes: 2 * maxTx + 4096,
      credit: (src, n) => {
        if (!this.requests.hasCredit(src)) return false;
        this.requests.spend(src, n);
        return true;
      },
      msUntilCredit: (src) => Math.max(1, this.requests.msUntilCredit(src)),
      count: (what) => this.stats[what]++,
      warn: (m) => this.opts.warn?.(m),
    };
    this.server = createServer({ noDelay: true }, (s) => this.onConnection(s));
    l.ex.node.on('update', this.onUpdate);
    l.ex.intake.on('verdict', this.onVerdict);
  }

  get connections(): number {
    return this.count;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, backlog: 1024 }, () => {
        this.server.off('error', reject);
        const a = this.server.address() as AddressInfo;
        this.port = a.port;
        resolve(a);
      });
    });
  }

  close(): Promise<void> {
    this.l.ex.node.off('update', this.onUpdate);
    this.l.ex.intake.off('verdict', this.onVerdict);
    clearTimeout(this.roundTimer);
    for (const set of this.byAddress.values()) for (const s of set) s.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Runs f; an unexpected error is a warning and counted, never thrown into the node or a timer. */
  private guarded(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.stats.internalErrors++;
      this.opts.warn?.(`electrum ${what}: ${(e as Error).stack ?? String(e)}`);
    }
  }

  private features(): Record<string, unknown> {
    return {
      genesis_hash: hashToHex(this.l.ex.settings.params.genesisHash),
      hosts: { [this.opts.host]: { tcp_port: this.port, ssl_port: null } },
      protocol_max: PROTOCOL_MAX,
      protocol_min: PROTOCOL_MIN,
      pruning: null,
      server_version: serverVersion(),
      hash_function: 'sha256',
    };
  }

  private onConnection(socket: Socket): void {
    this.stats.connections++;
    const source = sourceOf(socket);
    this.makeRoom(source);
    const s = new Session(socket, source, this.hooks);
    let mine = this.byAddress.get(source);
    if (!mine) this.byAddress.set(source, (mine = new Set()));
    mine.add(s);
    this.count++;
    const first = setTimeout(() => {
      this.stats.firstLineDeadlines++;
      s.close();
    }, this.opts.firstLineMs ?? FIRST_LINE_MS);
    s.onFirstLine = () => clearTimeout(first);
    socket.setTimeout(this.opts.idleMs ?? IDLE_MS, () => {
      this.stats.idleClosed++;
      s.close();
    });
    socket.on('error', () => {}); // a reset by the peer: 'close' follows
    socket.once('close', () => {
      clearTimeout(first);
      this.subs.drop(s);
      const set = this.byAddress.get(source);
      if (!set?.delete(s)) return;
      this.count--;
      if (set.size === 0) this.byAddress.delete(source);
    });
  }

  /** Closes one connection if a newcomer from `source` would go over a cap: see the file's header. */
  private makeRoom(source: string): void {
    const mine = this.byAddress.get(source);
    const perAddress = this.opts.maxPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS;
    if (mine && mine.size >= perAddress) return this.replace(mine);
    if (this.count < (this.opts.maxConnections ?? MAX_CONNECTIONS)) return;
    let most = mine;
    let mostCount = (mine?.size ?? 0) + 1;
    for (const set of this.byAddress.values()) if (set.size > mostCount) [most, mostCount] = [set, set.size];
    this.replace(most ?? this.byAddress.values().next().value!);
  }

  /** Closes the oldest of a set now (its 'close' event comes later), so the count is right at once. */
  private replace(set: Set<Session>): void {
    const oldest = set.values().next().value!;
    set.delete(oldest);
    this.count--;
    this.subs.drop(oldest);
    this.stats.replaced++;
    oldest.close();
  }

  /** The pool by scripthash: rebuilt when it changed, at most once per ROUND_MS unless a block came. */
  private pool(): PoolIndex {
    if (!this.poolIndex || (this.poolDirty && Date.now() - this.poolBuiltAt >= ROUND_MS)) {
      this.poolIndex = buildPoolIndex(this.l);
      this.poolDirty = false;
      this.poolBuiltAt = Date.now();
    }
    return this.poolIndex;
  }

  private chainChanged(u: ChainUpdate): void {
    if (u.disconnected.length) this.touchAll = true;
    for (const c of u.connected) {
      this.tipChanged = true;
      const spent = this.l.ex.store.getUndo(c.entry.hash) ?? [];
      for (const coin of spent) this.touched.add(scripthashOf(coin.scriptPubKey));
      for (const tx of c.block.txs) for (const o of tx.outputs) this.touched.add(scripthashOf(o.scriptPubKey));
      if (!spent.length) for (const tx of c.block.txs) if (!isCoinbase(tx)) this.touchAll = true; // no undo data: look at everything
    }
    this.poolChanged(true);
  }

  private poolChanged(block: boolean): void {
    this.poolDirty = true;
    if (block) this.poolBuiltAt = 0;
    if (this.roundTimer) return;
    const wait = block ? 0 : Math.max(0, ROUND_MS - (Date.now() - this.lastRoundAt));
    this.roundTimer = setTimeout(() => this.guarded('notification round', () => this.round()), wait);
  }

  /** Sends what changed since the last round: the tip, and each followed scripthash whose status moved. */
  private round(): void {
    this.roundTimer = undefined;
    this.lastRoundAt = Date.now();
    if (this.tipChanged) {
      this.tipChanged = false;
      const height = this.l.ex.chain.height;
      this.subs.notifyTip({ hex: toHex(encodeHeader(this.l.ex.chain.tip.header)), height });
    }
    if (this.subs.size === 0) return void (this.touched.clear(), (this.touchAll = false));
    this.poolBuiltAt = 0;
    const before = this.notifiedPool;
    const now = this.pool();
    this.notifiedPool = now;
    const touched = new Set(this.touchAll ? this.subs.followed() : this.touched);
    for (const sh of this.subs.followed()) if (before?.has(sh) || now.has(sh) || !before) touched.add(sh);
    this.touched.clear();
    this.touchAll = false;
    this.subs.refresh(touched, (sh) => statusOf(history(this.l, now, sh)));
  }
}
