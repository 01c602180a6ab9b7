// Who the explorer's HTTP server serves, and in what order (issue 18: an attacker with hundreds
// of addresses on the class's subnet, opening thousands of connections, silent, trickling or busy).
// The block server's answers to the same attack, reused here as they are (src/shared/node/net/):
// - slots (inbound-slots.ts, inbound-eviction.ts): a connection takes one of MAX_CONNECTIONS
//   slots only with its first whole request; until then it is on probation (a bounded queue from
//   which the oldest of the address with the most is pushed out, and PROBATION_MS to ask), so a
//   silent or trickling connection costs a socket and a place in that queue, never a slot. When
//   full, a newcomer from an address below its fair share takes the slot that gives least (a
//   connection not reading its answers, then one idle past THINK_MS, event streams last), and one
//   above it waits on probation for a slot to free;
// - order (fair-scheduler.ts): requests are answered from per-address queues, the address sent
//   least lately first, SLICE_MS at a time before the event loop reads again, so an address's
//   share does not grow with its connections and an honest request parsed among thousands of an
//   attacker's is answered first;
// - rate (rate-limit.ts): an address's requests are started at most REQUESTS_PER_SECOND (bursts
//   of REQUEST_BURST); past it they wait, unanswered, until its bucket refills.
// A connection may have at most MAX_PIPELINED requests unanswered (pipelining past it is closed).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FairScheduler } from '../shared/node/net/fair-scheduler.js';
import { type EvictionCandidate, SlotUse } from '../shared/node/net/inbound-eviction.js';
import { InboundSlots } from '../shared/node/net/inbound-slots.js';
import { SourceRateLimiter } from '../shared/node/net/rate-limit.js';

/** Connections holding a slot; as many again (twice, at least 1 024) may wait on probation. */
export const MAX_CONNECTIONS = 4096;
/**
 * A connection must send a whole first request within this long of connecting: a time drawn
 * between a third of it and all of it. Long and spread, since on probation a connection costs a
 * socket and a place, not a slot, and each one closed comes back at once: thousands opened
 * together (an attacker's) and closed together would come back together and fill the kernel's
 * queue of connections waiting to be accepted, first come first served, where an honest newcomer
 * waits behind them (measured: closed within 5 to 10 s, 4 500 silent connections kept that queue
 * at 2 000 to 4 000 for seconds, and the explorer, at 1 000 accepts a second on a loaded machine,
 * left honest requests unanswered for up to 9 s).
 */
export const PROBATION_MS = 30_000;
/** Requests an address may start per second, and in a burst (several browsers may share an address behind a NAT). */
export const REQUESTS_PER_SECOND = 100;
export const REQUEST_BURST = 2000;
/** Addresses whose request allowance is remembered at most. */
const MAX_REQUESTERS = 10_000;
/** Unanswered requests one connection may have (a browser has one). */
const MAX_PIPELINED = 8;
/** After an answer a client may think this long before its connection counts as idle. */
const THINK_MS = 1000;
/** Unsent bytes past which a connection counts as not reading (the worst to keep). */
const SLOW_BYTES = 256 * 1024;
/** How long answering goes on before the event loop reads again. */
const SLICE_MS = 4;

/** Answers a request now (its address is charged the bytes it writes). */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

interface Conn {
  readonly socket: Socket;
  readonly group: string;
  /** Requests started and not yet answered in full (an event stream stays one). */
  inFlight: number;
  stream: boolean;
  /** Since when it has had nothing to answer (undefined while it has). */
  idleSinceMs?: number;
  /** Its first request, waiting on probation for a slot. */
  held?: () => void;
  probationTimer?: NodeJS.Timeout;
}

/** The source address a connection counts under (IPv4-mapped IPv6 as plain IPv4). */
const groupOf = (remote: string | undefined): string => (remote?.startsWith('::ffff:') ? remote.slice(7) : (remote ?? '?'));

export class ConnectionGate {
  private readonly slots: InboundSlots<Conn>;
  private readonly conns = new WeakMap<Socket, Conn>();
  private readonly queue = new FairScheduler<() => number>();
  private readonly limiter = new SourceRateLimiter({ ratePerSecond: REQUESTS_PER_SECOND, burst: REQUEST_BURST }, Date.now, MAX_REQUESTERS);
  private pumpScheduled = false;
  private open = 0;
  readonly stats = { connections: 0, evicted: 0, pushedOut: 0, probationDeadlines: 0, waited: 0, rateDelayed: 0, floods: 0 };

  constructor(
    private readonly handler: RequestHandler,
    maxConnections = MAX_CONNECTIONS,
    private readonly probationMs = PROBATION_MS,
  ) {
    this.slots = new InboundSlots<Conn>({
      maxConnections,
      random: Math.random,
      judge: (c, now) => this.judge(c, now),
      close: (c, why) => {
        if (why === 'evicted') this.stats.evicted++;
        else this.stats.pushedOut++;
        c.socket.destroy();
      },
      promoted: (c) => this.onPromoted(c),
    });
  }

  /** Open connections, holding a slot or on probation. */
  get connections(): number {
    return this.open;
  }
  get holding(): number {
    return this.slots.size;
  }

  onConnection(socket: Socket): void {
    this.stats.connections++;
    this.open++;
    const c: Conn = { socket, group: groupOf(socket.remoteAddress), inFlight: 0, stream: false, idleSinceMs: Date.now() };
    this.conns.set(socket, c);
    this.slots.join(c, c.group);
    c.probationTimer = setTimeout(
      () => {
        if (this.slots.holds(c)) return;
        this.stats.probationDeadlines++;
        socket.destroy();
      },
      this.probationMs * (1 / 3 + (2 / 3) * Math.random()),
    );
    socket.once('close', () => {
      this.open--;
      clearTimeout(c.probationTimer);
      c.held = undefined;
      this.slots.leave(c);
    });
  }

  /** A whole request: a slot (or a wait for one), then its address's allowance, then its turn. */
  onRequest(req: IncomingMessage, res: ServerResponse): void {
    const c = this.conns.get(req.socket);
    if (!c || req.socket.destroyed) return void res.destroy();
    if (c.inFlight >= MAX_PIPELINED) {
      this.stats.floods++;
      return void req.socket.destroy();
    }
    c.inFlight++;
    c.idleSinceMs = undefined;
    res.once('close', () => this.answered(c));
    const slot = this.slots.establish(c);
    if (slot === 'gone') return void res.destroy();
    if (slot === 'waiting') {
      // No slot for its address now: unserved and unread until one frees (see inbound-slots.ts).
      if (!c.held) this.stats.waited++;
      c.held = () => this.admit(c, req, res);
      req.socket.pause();
      return;
    }
    clearTimeout(c.probationTimer);
    this.admit(c, req, res);
  }

  /** The connection now holds an event stream: kept over every other kind (see judge). */
  markStream(res: ServerResponse): void {
    const c = this.conns.get(res.req.socket);
    if (c) c.stream = true;
  }

  /**
   * A websocket upgrade (ws.ts): a whole request, so it takes a slot as one would (its address's
   * request allowance spent), and holds it as a stream from then on. 'refused' when its address
   * has no slot or no allowance to give now: it is answered 503, not made to wait.
   */
  admitUpgrade(socket: Socket): 'admitted' | 'refused' {
    const c = this.conns.get(socket);
    if (!c || socket.destroyed || !this.limiter.hasCredit(c.group)) return 'refused';
    if (this.slots.establish(c) !== 'holds') return 'refused';
    clearTimeout(c.probationTimer);
    this.limiter.spend(c.group, 1);
    c.stream = true;
    c.idleSinceMs = Date.now();
    return 'admitted';
  }

  private onPromoted(c: Conn): void {
    clearTimeout(c.probationTimer);
    const held = c.held;
    c.held = undefined;
    c.socket.resume();
    held?.();
  }

  private answered(c: Conn): void {
    c.inFlight--;
    if (c.inFlight === 0) {
      c.idleSinceMs = Date.now();
      c.stream = false;
    }
  }

  /** Starts the request when its address has allowance, else once it has. */
  private admit(c: Conn, req: IncomingMessage, res: ServerResponse): void {
    if (res.destroyed) return;
    if (!this.limiter.hasCredit(c.group)) {
      this.stats.rateDelayed++;
      setTimeout(() => this.admit(c, req, res), this.limiter.msUntilCredit(c.group)).unref();
      return;
    }
    this.limiter.spend(c.group, 1);
    this.queue.add(c.group, () => {
      if (res.destroyed) return 0;
      const before = c.socket.bytesWritten;
      this.handler(req, res);
      return c.socket.bytesWritten - before;
    });
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
  }

  /** Answers queued requests, fairly across addresses, for SLICE_MS; then yields to the event loop. */
  private pump(): void {
    const until = performance.now() + SLICE_MS;
    for (let job = this.queue.next(); job; job = this.queue.next()) {
      this.queue.charge(job());
      if (performance.now() >= until) break;
    }
    this.pumpScheduled = false;
    if (this.queue.pending) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
  }

  /** How c uses its slot, for eviction (inbound-eviction.ts): not reading, idle, or busy; streams protected. */
  private judge(c: Conn, now: number): EvictionCandidate {
    const prot = c.stream;
    if (c.socket.writableLength > SLOW_BYTES) return { use: SlotUse.Slow, waitingMs: c.socket.writableLength, protected: false };
    if (c.idleSinceMs === undefined) return { use: SlotUse.Busy, waitingMs: 0, protected: prot };
    const idle = now - c.idleSinceMs;
    return idle > THINK_MS ? { use: SlotUse.Idle, waitingMs: idle, protected: prot } : { use: SlotUse.Busy, waitingMs: 0, protected: prot };
  }
}
