// Who is subscribed to what (blockchain.headers.subscribe, blockchain.scripthash.subscribe), and
// the notifications: the new tip to every headers subscriber, and a scripthash's new status to
// each of its subscribers when a block or a pool change touches it and the status differs from
// the last one sent (the protocol's rule: notify on change only). Each scripthash's status is
// computed once per round however many connections follow it. Bounded: MAX_PER_SESSION
// subscriptions per connection and MAX_TOTAL in all, so a round costs at most that many history
// reads, each at most MAX_HISTORY entries (history.ts).
import { RpcError, SERVER_BUSY, notification } from './rpc.js';

/** Scripthashes one connection may follow (a wallet with a gap limit of 20 follows tens to hundreds). */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 2000;
/** Subscriptions in all, every connection's counted. */
export const MAX_SUBSCRIPTIONS_TOTAL = 100_000;

/** Anything notifications can be sent to (a session, session.ts). */
export interface Subscriber {
  send(line: string): void;
}

interface Followed {
  /** The status last sent (or answered to subscribe). */
  status: string | null;
  readonly sessions: Set<Subscriber>;
}

export class Subscriptions {
  private readonly byScripthash = new Map<string, Followed>();
  private readonly bySession = new Map<Subscriber, Set<string>>();
  private readonly headers = new Set<Subscriber>();
  private total = 0;
  readonly stats = { notified: 0, refused: 0 };

  constructor(
    private readonly perSession = MAX_SUBSCRIPTIONS_PER_SESSION,
    private readonly maxTotal = MAX_SUBSCRIPTIONS_TOTAL,
  ) {}

  get size(): number {
    return this.total;
  }

  /** Every scripthash someone follows. */
  followed(): IterableIterator<string> {
    return this.byScripthash.keys();
  }

  subscribeHeaders(s: Subscriber): void {
    this.headers.add(s);
  }

  subscribe(s: Subscriber, scripthash: string, status: string | null): void {
    let mine = this.bySession.get(s);
    if (mine?.has(scripthash)) return void (this.byScripthash.get(scripthash)!.status = status);
    if ((mine?.size ?? 0) >= this.perSession || this.total >= this.maxTotal) {
      this.stats.refused++;
      const which = (mine?.size ?? 0) >= this.perSession ? `${this.perSession} on one connection` : `${this.maxTotal} on this server`;
      throw new RpcError(SERVER_BUSY, `too many subscriptions: at most ${which}`);
    }
    if (!mine) this.bySession.set(s, (mine = new Set()));
    mine.add(scripthash);
    this.total++;
    let f = this.byScripthash.get(scripthash);
    if (!f) this.byScripthash.set(scripthash, (f = { status, sessions: new Set() }));
    f.status = status;
    f.sessions.add(s);
  }

  /** True when s was subscribed to it (protocol 1.4.2). */
  unsubscribe(s: Subscriber, scripthash: string): boolean {
    const mine = this.bySession.get(s);
    if (!mine?.delete(scripthash)) return false;
    this.total--;
    const f = this.byScripthash.get(scripthash)!;
    f.sessions.delete(s);
    if (f.sessions.size === 0) this.byScripthash.delete(scripthash);
    return true;
  }

  /** A connection closed: all its subscriptions go. */
  drop(s: Subscriber): void {
    this.headers.delete(s);
    for (const sh of [...(this.bySession.get(s) ?? [])]) this.unsubscribe(s, sh);
    this.bySession.delete(s);
  }

  /** The new tip, to every headers subscriber. */
  notifyTip(tip: { hex: string; height: number }): void {
    const line = notification('blockchain.headers.subscribe', [tip]);
    for (const s of this.headers) {
      s.send(line);
      this.stats.notified++;
    }
  }

  /** Recomputes the status of each followed scripthash in `touched`; sends the changed ones. */
  refresh(touched: Iterable<string>, statusOf: (scripthash: string) => string | null): void {
    for (const sh of touched) {
      const f = this.byScripthash.get(sh);
      if (!f) continue;
      let status: string | null;
      try {
        status = statusOf(sh);
      } catch {
        continue; // a history past MAX_HISTORY: its subscriber was told so when it asked
      }
      if (status === f.status) continue;
      f.status = status;
      const line = notification('blockchain.scripthash.subscribe', [sh, status]);
      for (const s of f.sessions) {
        s.send(line);
        this.stats.notified++;
      }
    }
  }
}
