// Live events to browsers as Server-Sent Events (GET /api/mvb/events): one text/event-stream per
// client, a comment every HEARTBEAT_MS so proxies and browsers keep it open. Bounded: at most
// MAX_CLIENTS streams (the oldest is closed for a newcomer), MAX_CLIENTS_PER_ADDRESS from one
// address (its own oldest goes first), and a client that does not read (its
// socket buffer above MAX_BUFFERED_BYTES) is dropped rather than buffered for.
import type { ServerResponse } from 'node:http';

export const MAX_CLIENTS = 64;
/** Streams one address may hold: a newcomer from it replaces its own oldest, never someone else's. */
export const MAX_CLIENTS_PER_ADDRESS = 8;
export const MAX_BUFFERED_BYTES = 256 * 1024;
export const HEARTBEAT_MS = 15_000;

export type EventName = 'block' | 'reorg' | 'tx' | 'mempool' | 'status';

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  readonly stats = { sent: 0, dropped: 0 };

  constructor() {
    this.timer = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.timer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  add(res: ServerResponse): void {
    const who = res.req.socket.remoteAddress ?? '?';
    const mine = [...this.clients].filter((c) => c.req.socket.remoteAddress === who);
    if (mine.length >= MAX_CLIENTS_PER_ADDRESS) this.drop(mine[0]!);
    else if (this.clients.size >= MAX_CLIENTS) this.drop(this.clients.values().next().value!);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  publish(event: EventName, data: unknown): void {
    this.seq++;
    this.write(`id: ${this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(text: string): void {
    for (const c of this.clients) {
      if (c.writableLength > MAX_BUFFERED_BYTES) {
        this.drop(c);
        continue;
      }
      c.write(text);
      this.stats.sent++;
    }
  }

  private drop(c: ServerResponse): void {
    this.stats.dropped++;
    this.clients.delete(c);
    c.destroy();
  }

  close(): void {
    clearInterval(this.timer);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
