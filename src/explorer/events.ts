// Live events to browsers as Server-Sent Events (GET /api/mvb/events): one text/event-stream per
// client, a comment every HEARTBEAT_MS so proxies and browsers keep it open. Every event carries
// an `id:` (a sequence number of this run) and is kept in a ring of the last RING_BYTES of events,
// so a browser that reconnects (EventSource sends the last id it saw as Last-Event-ID) is sent
// what it missed; one whose id is older than the ring (or from another run) is sent a `refetch`
// event instead: the page then reloads what it shows.
//
// Bounded (issue 18: an attacker with hundreds of addresses opening streams as fast as it can):
// at most MAX_CLIENTS streams and MAX_CLIENTS_PER_ADDRESS from one address. When full, the stream
// closed for a newcomer is the oldest of the address holding most streams (the newcomer's own
// counted), never the globally oldest: an honest page holding one stream keeps it while any
// address holds two, so it is cut only by an attacker with more addresses than MAX_CLIENTS. A
// client that does not read (its socket buffer above MAX_BUFFERED_BYTES) is dropped rather than
// buffered for.
import type { ServerResponse } from 'node:http';

export const MAX_CLIENTS = 512;
/** Streams one address may hold: a newcomer from it replaces its own oldest, never someone else's. */
export const MAX_CLIENTS_PER_ADDRESS = 8;
/** Recent events kept for reconnecting clients (their encoded text). */
export const RING_BYTES = 64 * 1024;
/** Unsent bytes a stream may hold: the whole ring (a replay) and as much again. */
export const MAX_BUFFERED_BYTES = 2 * RING_BYTES;
export const HEARTBEAT_MS = 15_000;

export type EventName = 'block' | 'reorg' | 'tx' | 'mempool' | 'status';

interface RingEvent {
  readonly id: number;
  readonly text: string;
}

export class EventHub {
  /** Streams per address, each address's oldest first (Set order is insertion order). */
  private readonly byAddress = new Map<string, Set<ServerResponse>>();
  private count = 0;
  private readonly ring: RingEvent[] = [];
  private ringBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  readonly stats = { sent: 0, dropped: 0, replayed: 0, refetches: 0 };

  constructor() {
    this.timer = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.timer.unref();
  }

  get size(): number {
    return this.count;
  }

  /** The id of the last event published (0: none yet). */
  get lastId(): number {
    return this.seq;
  }

  /** A new stream; lastEventId is the client's Last-Event-ID header, if it sent one. */
  add(res: ServerResponse, lastEventId?: string): void {
    const who = res.req.socket.remoteAddress ?? '?';
    this.makeRoom(who);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n' + this.catchUp(lastEventId));
    let mine = this.byAddress.get(who);
    if (!mine) this.byAddress.set(who, (mine = new Set()));
    mine.add(res);
    this.count++;
    res.on('close', () => this.forget(res, who));
  }

  /** Closes one stream if a newcomer from `who` would go over a cap: see the file's header. */
  private makeRoom(who: string): void {
    const mine = this.byAddress.get(who);
    if (mine && mine.size >= MAX_CLIENTS_PER_ADDRESS) return this.drop(mine.values().next().value!);
    if (this.count < MAX_CLIENTS) return;
    let most = mine;
    let mostCount = (mine?.size ?? 0) + 1;
    for (const set of this.byAddress.values()) if (set.size > mostCount) [most, mostCount] = [set, set.size];
    // Every address holds one (more addresses than streams): the newcomer takes an old one's place.
    most ??= this.byAddress.values().next().value!;
    this.drop(most.values().next().value!);
  }

  /** What a reconnecting client missed: the ring's events after its id, or a refetch when they are gone. */
  private catchUp(lastEventId: string | undefined): string {
    if (lastEventId === undefined || !/^\d{1,15}$/.test(lastEventId)) return '';
    const last = Number(lastEventId);
    if (last === this.seq) return '';
    const oldest = this.ring[0]?.id ?? this.seq + 1;
    if (last > this.seq || last < oldest - 1) {
      this.stats.refetches++;
      return `id: ${this.seq}\nevent: refetch\ndata: {}\n\n`;
    }
    const missed = this.ring.slice(last - oldest + 1);
    this.stats.replayed += missed.length;
    return missed.map((e) => e.text).join('');
  }

  publish(event: EventName, data: unknown): void {
    this.seq++;
    const text = `id: ${this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    this.ring.push({ id: this.seq, text });
    this.ringBytes += text.length;
    while (this.ringBytes > RING_BYTES && this.ring.length > 1) this.ringBytes -= this.ring.shift()!.text.length;
    this.write(text);
  }

  private write(text: string): void {
    for (const set of this.byAddress.values())
      for (const c of set) {
        if (c.writableLength > MAX_BUFFERED_BYTES) {
          this.drop(c);
          continue;
        }
        c.write(text);
        this.stats.sent++;
      }
  }

  private forget(c: ServerResponse, who: string): void {
    const set = this.byAddress.get(who);
    if (!set?.delete(c)) return;
    this.count--;
    if (set.size === 0) this.byAddress.delete(who);
  }

  private drop(c: ServerResponse): void {
    this.stats.dropped++;
    this.forget(c, c.req.socket.remoteAddress ?? '?');
    c.destroy();
  }

  close(): void {
    clearInterval(this.timer);
    for (const set of this.byAddress.values()) for (const c of set) c.end();
    this.byAddress.clear();
    this.count = 0;
  }
}
