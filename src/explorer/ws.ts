// mempool.space's websocket, GET /api/v1/ws on the explorer's HTTP server, framed by the `ws`
// library (RFC 6455; no compression, so no inflation bombs). Requests are read in ws-requests.ts,
// state parts built in ws-messages.ts, pushes made in ws-feed.ts. Bounded as the HTTP side is
// (issue 18's attacker with hundreds of addresses):
// - an upgrade is a request to the connection gate (connections.ts): it takes one of the HTTP
//   server's slots by the same fair share per address and spends its address's request allowance,
//   or is refused 503; then at most maxClients sockets and maxPerAddress from one address
//   (ws-clients.ts: a newcomer closes the oldest of the address holding most);
// - a message is at most maxPayloadBytes (bigger: closed 1009 by `ws`), and each socket has
//   messagesPerSecond (bursts of messageBurst); past it messages are dropped and counted, and a
//   socket that keeps on is closed 1008;
// - a socket whose unsent bytes pass maxBufferedBytes is dropped (it does not read);
// - every pingIntervalMs each socket is pinged; one that has neither answered nor sent anything
//   since the last ping is cut, so a silent socket is held at most twice that.
// Bad JSON and unknown messages are answered {"error":...} and counted; nothing from a client throws.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { ChainUpdate } from '../shared/core/chain.js';
import type { TxVerdict } from '../shared/node/mempool/intake.js';
import type { ConnectionGate } from './connections.js';
import { MAX_BUFFERED_BYTES, MAX_CLIENTS, MAX_CLIENTS_PER_ADDRESS } from './events.js';
import type { Lookups } from './lookups.js';
import { CLOSE_POLICY, type WsClient, WsClients, closeClient } from './ws-clients.js';
import { WsFeed } from './ws-feed.js';
import { WsState, joinResponse } from './ws-messages.js';
import { answer } from './ws-requests.js';

export const WS_PATH = '/api/v1/ws';

export interface WsLimits {
  readonly maxClients: number;
  readonly maxPerAddress: number;
  readonly maxPayloadBytes: number;
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  readonly maxBufferedBytes: number;
  readonly maxTrackedAddresses: number;
  readonly pingIntervalMs: number;
}

/** The event streams' caps (events.ts), the same again for websockets. */
export const WS_LIMITS: WsLimits = {
  maxClients: MAX_CLIENTS,
  maxPerAddress: MAX_CLIENTS_PER_ADDRESS,
  // A want list, or track-addresses with maxTrackedAddresses addresses (34 characters each).
  maxPayloadBytes: 4096,
  messagesPerSecond: 5,
  messageBurst: 20,
  // As a stream's: the init state (about 11 kB on a test chain) many times over.
  maxBufferedBytes: MAX_BUFFERED_BYTES,
  maxTrackedAddresses: 50,
  pingIntervalMs: 30_000,
};

/** Messages dropped for rate after which a socket is closed (it is not a page, which sends a handful). */
const OVER_RATE_CLOSE = 100;

export class ExplorerWs {
  readonly limits: WsLimits;
  readonly clients: WsClients;
  private readonly wss: WebSocketServer;
  private readonly state: WsState;
  private readonly feed: WsFeed;
  private readonly pinger: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  readonly stats = {
    upgrades: 0,
    refused: 0,
    notFound: 0,
    messages: 0,
    badJson: 0,
    unknown: 0,
    overRate: 0,
    rateClosed: 0,
    timedOut: 0,
    internalErrors: 0,
  };

  constructor(
    private readonly api: Lookups,
    server: Server,
    private readonly gate: ConnectionGate,
    limits: Partial<WsLimits> = {},
    private readonly log: (msg: string) => void = () => {},
  ) {
    this.limits = { ...WS_LIMITS, ...limits };
    const l = this.limits;
    this.clients = new WsClients(l.maxClients, l.maxPerAddress, l.maxBufferedBytes);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: l.maxPayloadBytes, perMessageDeflate: false, clientTracking: false });
    this.state = new WsState(api);
    this.feed = new WsFeed(api, this.clients, this.state, (what, f) => this.guard(what, f));
    // Our bug in a push must not reach the node's or the intake's emitter: caught, logged, counted.
    const onUpdate = (u: ChainUpdate) => this.guard('a block push', () => this.feed.onUpdate(u));
    const onVerdict = (v: TxVerdict) => {
      if (v.kind === 'accepted') this.guard('a pool push', () => this.feed.onAccepted(v.entry));
    };
    api.ex.node.on('update', onUpdate);
    api.ex.intake.on('verdict', onVerdict);
    this.unsubscribe = () => {
      api.ex.node.off('update', onUpdate);
      api.ex.intake.off('verdict', onVerdict);
    };
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.pinger = setInterval(() => this.guard('the ping round', () => this.checkAlive()), l.pingIntervalMs);
    this.pinger.unref();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) {
      this.stats.notFound++;
      return refuse(socket, 404, 'not found');
    }
    if (this.gate.admitUpgrade(req.socket) === 'refused') {
      this.stats.refused++;
      return refuse(socket, 503, 'too many connections from this address: try again later');
    }
    this.stats.upgrades++;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onOpen(ws, req));
  }

  private onOpen(socket: WebSocket, req: IncomingMessage): void {
    const remote = req.socket.remoteAddress ?? '?';
    const c: WsClient = {
      socket,
      address: remote.startsWith('::ffff:') ? remote.slice(7) : remote,
      wants: new Set(),
      tokens: this.limits.messageBurst,
      refilledAt: Date.now(),
      overRate: 0,
      alive: true,
    };
    this.clients.add(c);
    socket.on('message', (data, isBinary) => this.guard('a message', () => this.onMessage(c, data, isBinary)));
    socket.on('pong', () => (c.alive = true));
    socket.on('close', () => this.clients.forget(c));
    // A frame over maxPayload or a protocol error: `ws` closes the socket; nothing to do but forget it.
    socket.on('error', () => this.clients.forget(c));
  }

  private onMessage(c: WsClient, data: RawData, isBinary: boolean): void {
    this.stats.messages++;
    c.alive = true;
    if (!this.spendToken(c)) return;
    let msg: unknown;
    try {
      msg = isBinary ? undefined : JSON.parse(data.toString());
    } catch {
      msg = undefined;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.stats.badJson++;
      return void this.clients.send(c, joinResponse({ error: JSON.stringify('invalid message: expected a JSON object') }));
    }
    const a = answer(
      { api: this.api, state: this.state, maxTrackedAddresses: this.limits.maxTrackedAddresses },
      c,
      msg as Record<string, unknown>,
    );
    if (!a.understood) this.stats.unknown++;
    if (a.text) this.clients.send(c, a.text);
  }

  /** The socket's message allowance: a token bucket refilled at messagesPerSecond up to messageBurst. */
  private spendToken(c: WsClient): boolean {
    const now = Date.now();
    const l = this.limits;
    c.tokens = Math.min(l.messageBurst, c.tokens + ((now - c.refilledAt) / 1000) * l.messagesPerSecond);
    c.refilledAt = now;
    if (c.tokens >= 1) {
      c.tokens--;
      return true;
    }
    this.stats.overRate++;
    if (++c.overRate === OVER_RATE_CLOSE) {
      this.stats.rateClosed++;
      this.clients.forget(c);
      closeClient(c, CLOSE_POLICY, `more than ${l.messagesPerSecond} messages per second`);
    }
    return false;
  }

  /** Runs f; an exception (a bug of ours, never the client's input) is logged and counted instead of thrown. */
  private guard(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.stats.internalErrors++;
      this.log(`websocket: internal error on ${what}: ${(e as Error)?.stack ?? String(e)}`);
    }
  }

  private checkAlive(): void {
    for (const c of this.clients.all()) {
      if (!c.alive) {
        this.stats.timedOut++;
        this.clients.forget(c);
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }

  close(): void {
    clearInterval(this.pinger);
    this.feed.stop();
    this.unsubscribe();
    this.clients.closeAll();
    this.wss.close();
  }
}

/** An upgrade refused: a one-line HTTP answer, then the socket closed. */
function refuse(socket: Duplex, status: number, msg: string): void {
  const reason = status === 404 ? 'Not Found' : 'Service Unavailable';
  const body = msg + '\n';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
