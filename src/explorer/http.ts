// The HTTP side: the API routes (api.ts) and the page's three files, read into memory once at start
// and served from a fixed table (a request path is never joined to a filesystem path, so nothing
// in a URL can reach outside it). Bounded: URL length, body size, header and request timeouts;
// connections, their order and their rate by address (connections.ts); every failure is a status
// with one line of text.
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Api } from './api.js';
import type { Reply } from './route.js';
import { HttpError } from './params.js';
import { SourceRateLimiter } from '../shared/node/net/rate-limit.js';
import { ConnectionGate, PROBATION_MS } from './connections.js';
import { ExplorerWs, type WsLimits } from './ws.js';

export const MAX_URL_BYTES = 2048;
/** Each request's headers must arrive within this long (the first request's: within connections.ts's PROBATION_MS). */
const HEADERS_TIMEOUT_MS = PROBATION_MS;
/** How often Node checks the header and request deadlines (its default, 30 s, lets a trickler hold on thrice as long). */
const DEADLINE_CHECK_MS = 1000;
/** Connections the kernel queues for accepting: a flood of reconnections must not crowd honest newcomers out (Node's default is 511). */
const LISTEN_BACKLOG = 4096;
/** Transactions one address may post: a burst, then this many per second (each costs signature checks). */
export const POST_BURST = 50;
export const POSTS_PER_SECOND = 20;
/** Addresses whose post allowance is remembered at most (the oldest forgotten first). */
const MAX_POSTERS = 10_000;
const REQUEST_TIMEOUT_MS = 40_000;
/**
 * A socket with no traffic either way for this long is closed: Node's headersTimeout only starts
 * once a request's first byte arrives, so without it a connection that never sends anything is
 * held for ever (connections.ts also gives it PROBATION_MS to ask). Above the event streams'
 * HEARTBEAT_MS, so a reading browser's stream is never cut.
 */
export const IDLE_SOCKET_TIMEOUT_MS = 40_000;

const PAGE_DIR = new URL('../../../src/explorer/page/', import.meta.url);
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/tamper.js': { file: 'tamper.js', type: 'text/javascript; charset=utf-8' },
};
/**
 * The hashing library the tamper lesson runs in the browser: @noble/hashes's SHA-256 (the node's own
 * library), served from node_modules like the page's files, so nothing comes from the internet.
 */
const VENDOR_DIR = new URL('../../../node_modules/@noble/hashes/', import.meta.url);
const VENDOR_FILES = ['sha2.js', '_md.js', '_u64.js', 'utils.js'];

export class ExplorerHttp {
  private readonly server: Server;
  private readonly page = new Map<string, { body: Buffer; type: string }>();
  /** The node layer's token buckets, one per posting address. */
  private readonly posters = new SourceRateLimiter({ ratePerSecond: POSTS_PER_SECOND, burst: POST_BURST }, Date.now, MAX_POSTERS);
  readonly stats = { requests: 0, errors4xx: 0, errors5xx: 0 };
  readonly gate: ConnectionGate;
  /** mempool.space's websocket, /api/v1/ws (ws.ts). */
  readonly ws: ExplorerWs;

  constructor(
    private readonly api: Api,
    private readonly log: (msg: string) => void = () => {},
    idleSocketMs = IDLE_SOCKET_TIMEOUT_MS,
    wsLimits: Partial<WsLimits> = {},
  ) {
    for (const [path, f] of Object.entries(PAGE_FILES))
      this.page.set(path, { body: readFileSync(new URL(f.file, PAGE_DIR)), type: f.type });
    for (const f of VENDOR_FILES)
      this.page.set(`/vendor/noble-hashes/${f}`, { body: readFileSync(new URL(f, VENDOR_DIR)), type: 'text/javascript; charset=utf-8' });
    this.gate = new ConnectionGate((req, res) => this.onRequest(req, res));
    this.server = createServer(
      {
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        maxHeaderSize: 16 * 1024,
        connectionsCheckingInterval: DEADLINE_CHECK_MS,
      },
      (req, res) => this.gate.onRequest(req, res),
    );
    this.server.on('connection', (sock) => this.gate.onConnection(sock));
    // Answers wait their turn (connections.ts): a client that half-closes after asking is answered all the same.
    (this.server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.server.keepAliveTimeout = 5000;
    // No 'timeout' listener on the server: Node destroys the socket when it fires.
    this.server.timeout = idleSocketMs;
    this.ws = new ExplorerWs(api, this.server, this.gate, wsLimits, log);
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    this.ws.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.stats.requests++;
    const url = req.url ?? '/';
    if (url.length > MAX_URL_BYTES) return this.fail(res, 414, 'URL too long');
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return this.fail(res, 405, 'method not allowed');
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    if (!path.startsWith('/api/')) {
      const f = method === 'POST' ? undefined : this.page.get(path === '/index.html' ? '/' : path);
      if (!f) return this.fail(res, 404, 'not found');
      res.writeHead(200, {
        'content-type': f.type,
        'content-length': f.body.length,
        'cache-control': 'no-cache',
        'content-security-policy': "default-src 'self'; img-src 'self' data:",
        'x-content-type-options': 'nosniff',
      });
      res.end(method === 'HEAD' ? undefined : f.body);
      return;
    }
    if (method === 'POST') {
      if (!this.posters.allow(req.socket.remoteAddress ?? '?'))
        return this.fail(res, 429, `too many transactions posted: at most ${POSTS_PER_SECOND} per second`, true);
      const max = this.api.ex.settings.params.maxTxBytes * 2 + 1024;
      // A declared length over the bound is refused before a byte is read (not after the request timeout).
      if (Number(req.headers['content-length'] ?? 0) > max) return this.fail(res, 413, `request body larger than ${max} bytes`, true);
      this.readBody(req, res, max, (body) => this.route('POST', path, query, body, res));
      return;
    }
    this.route('GET', path, query, '', res);
  }

  private readBody(req: IncomingMessage, res: ServerResponse, max: number, then: (body: string) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        if (!over) this.fail(res, 413, `request body larger than ${max} bytes`, true);
        over = true;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) then(Buffer.concat(chunks).toString('latin1'));
    });
    req.on('error', () => res.destroy());
  }

  private route(method: 'GET' | 'POST', path: string, query: URLSearchParams, body: string, res: ServerResponse): void {
    let reply: Reply | Promise<Reply> | undefined;
    let methodMismatch = false;
    try {
      for (const r of this.api.routes) {
        const m = r.pattern.exec(path);
        if (!m) continue;
        if (r.method !== method) {
          methodMismatch = true;
          continue;
        }
        reply = r.handle(m, query, body, res.req.socket.remoteAddress ?? '?');
        break;
      }
    } catch (e) {
      return this.failed(path, e, res);
    }
    if (!reply) return this.fail(res, methodMismatch ? 405 : 404, methodMismatch ? 'method not allowed' : 'not found');
    // A posted transaction answers once its signatures are checked.
    if (reply instanceof Promise)
      return void reply.then(
        (r) => this.send(res, r),
        (e: unknown) => this.failed(path, e, res),
      );
    this.send(res, reply);
  }

  /** A route's failure: its HTTP status, or (our bug) a 500 and a log line. */
  private failed(path: string, e: unknown, res: ServerResponse): void {
    if (e instanceof HttpError) return this.fail(res, e.status, e.message);
    this.log(`internal error on ${path}: ${(e as Error)?.stack ?? String(e)}`);
    this.fail(res, 500, 'internal error');
  }

  private send(res: ServerResponse, reply: Reply): void {
    const head = { 'access-control-allow-origin': '*', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    if (reply.kind === 'events') {
      // HEAD asks for the headers only: answer them and end, rather than open a stream that never ends.
      if (res.req.method === 'HEAD') return void res.writeHead(200, { ...head, 'content-type': 'text/event-stream; charset=utf-8' }).end();
      this.gate.markStream(res);
      const last = res.req.headers['last-event-id'];
      this.api.ex.events.add(res, typeof last === 'string' ? last : undefined);
      return;
    }
    let body: Buffer;
    let type: string;
    if (reply.kind === 'json') {
      body = Buffer.from(JSON.stringify(reply.body));
      type = 'application/json';
    } else if (reply.kind === 'text') {
      body = Buffer.from(reply.body);
      type = 'text/plain; charset=utf-8';
    } else {
      body = Buffer.from(reply.body);
      type = 'application/octet-stream';
    }
    res.writeHead(('status' in reply && reply.status) || 200, { ...head, 'content-type': type, 'content-length': body.length });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  private fail(res: ServerResponse, status: number, msg: string, close = false): void {
    if (status >= 500) this.stats.errors5xx++;
    else this.stats.errors4xx++;
    if (res.headersSent) return void res.destroy();
    const body = Buffer.from(msg.replace(/[\r\n]+/g, ' ') + '\n');
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': body.length,
      'access-control-allow-origin': '*',
      ...(close ? { connection: 'close' } : {}),
    });
    res.end(body);
  }
}
