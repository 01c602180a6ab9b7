// One Electrum connection: newline-delimited JSON-RPC (rpc.ts) read line by line and answered in
// order. Bounded before use: a line longer than maxLineBytes is answered with an error and the
// connection closed; a batch holds at most MAX_BATCH requests; at most MAX_PENDING requests wait
// (reading pauses at half of it; a flood past it in one read is closed); answers are held back
// while more than PAUSE_UNSENT_BYTES are unsent, and a connection that lets MAX_UNSENT_BYTES pile
// up (notifications to a client that does not read) is closed; after MAX_BAD_LINES lines that are
// not JSON-RPC it is closed. Each request spends one token of its address's allowance (server.ts);
// without one, the connection waits for it. After each line answered the session yields to the
// event loop, so connections take turns. Nothing a client sends can throw out of here: a
// handler's unexpected error is an internal-error answer, counted.
import type { Socket } from 'node:net';
import type { ElectrumContext, ElectrumSession } from './context.js';
import { METHODS } from './methods.js';
import {
  INTERNAL_ERROR,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  PARSE_ERROR,
  type RpcRequest,
  RpcError,
  asRequest,
  errorReply,
  idOf,
  paramList,
  resultReply,
} from './rpc.js';
import { NoCommonVersion } from './version.js';

export const MAX_BATCH = 100;
export const MAX_PENDING = 1000;
export const MAX_BAD_LINES = 10;
const PAUSE_UNSENT_BYTES = 1 << 20;
export const MAX_UNSENT_BYTES = 8 << 20;

/** What a session tells its server (counted in server.ts's stats). */
export interface SessionHooks {
  readonly ctx: ElectrumContext;
  readonly maxLineBytes: number;
  /** True, and `requests` charged, when the address may start work now; else false. */
  credit(source: string, requests: number): boolean;
  msUntilCredit(source: string): number;
  count(what: 'requests' | 'badJson' | 'oversize' | 'floods' | 'slowReaders' | 'internalErrors' | 'errors'): void;
  warn(msg: string): void;
}

type Unit = { kind: 'one'; req: RpcRequest } | { kind: 'batch'; reqs: RpcRequest[] } | { kind: 'reply'; line: string };

export class Session implements ElectrumSession {
  protocol?: string;
  private buffer = '';
  private readonly queue: Unit[] = [];
  private pending = 0;
  private badLines = 0;
  private working = false;
  private closed = false;
  /** Called once, when the first whole line has arrived (server.ts's first-line deadline). */
  onFirstLine?: () => void;

  constructor(
    readonly socket: Socket,
    readonly source: string,
    private readonly hooks: SessionHooks,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('drain', () => this.work());
    socket.on('close', () => (this.closed = true));
  }

  send(line: string): void {
    if (this.closed) return;
    if (this.socket.writableLength > MAX_UNSENT_BYTES) {
      this.hooks.count('slowReaders');
      return this.close();
    }
    this.socket.write(line + '\n');
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    if (this.closed) return;
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl >= 0 && !this.closed; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.onFirstLine?.();
      this.onFirstLine = undefined;
      if (line.length > this.hooks.maxLineBytes) return this.oversize();
      if (line.trim() !== '') this.onLine(line);
    }
    if (this.buffer.length > this.hooks.maxLineBytes) return this.oversize();
    if (this.pending > MAX_PENDING) {
      this.hooks.count('floods');
      return this.close();
    }
    if (this.pending >= MAX_PENDING / 2) this.socket.pause();
    this.work();
  }

  private oversize(): void {
    this.hooks.count('oversize');
    this.socket.end(errorReply(null, new RpcError(INVALID_REQUEST, `line too long: more than ${this.hooks.maxLineBytes} bytes`)) + '\n');
    this.closed = true;
    this.buffer = '';
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private onLine(line: string): void {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return this.bad(errorReply(null, new RpcError(PARSE_ERROR, 'parse error: the line is not JSON')));
    }
    if (!Array.isArray(v)) {
      try {
        return this.push({ kind: 'one', req: asRequest(v) }, 1);
      } catch (e) {
        return this.bad(errorReply(idOf(v), e as RpcError));
      }
    }
    if (v.length === 0) return this.bad(errorReply(null, new RpcError(INVALID_REQUEST, 'an empty batch')));
    if (v.length > MAX_BATCH)
      return this.bad(errorReply(null, new RpcError(INVALID_REQUEST, `batch too large: at most ${MAX_BATCH} requests`)));
    const reqs: RpcRequest[] = [];
    for (const item of v) {
      try {
        reqs.push(asRequest(item));
      } catch (e) {
        return this.bad(errorReply(idOf(item), e as RpcError));
      }
    }
    this.push({ kind: 'batch', reqs }, reqs.length);
  }

  private push(u: Unit, n: number): void {
    this.queue.push(u);
    this.pending += n;
  }

  private bad(line: string): void {
    this.hooks.count('badJson');
    this.push({ kind: 'reply', line }, 1);
    if (++this.badLines >= MAX_BAD_LINES) {
      this.work();
      this.socket.end();
      this.closed = true;
    }
  }

  /** Answers queued units in order, one at a time, while the client reads and its address has allowance. */
  private work(): void {
    if (this.working) return;
    this.working = true;
    void this.drain().finally(() => (this.working = false));
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.socket.destroyed) {
      if (this.socket.writableLength > PAUSE_UNSENT_BYTES) return; // resumed on 'drain'
      const head = this.queue[0]!;
      if (!this.hooks.credit(this.source, head.kind === 'batch' ? head.reqs.length : 1)) {
        await new Promise((r) => setTimeout(r, this.hooks.msUntilCredit(this.source)).unref());
        continue;
      }
      const u = this.queue.shift()!;
      if (u.kind === 'reply') {
        this.pending--;
        this.write(u.line);
      } else if (u.kind === 'one') {
        const line = await this.answer(u.req);
        this.pending--;
        if (line !== undefined) this.write(line);
      } else {
        const lines: string[] = [];
        for (const r of u.reqs) {
          const line = await this.answer(r);
          if (line !== undefined) lines.push(line);
        }
        this.pending -= u.reqs.length;
        if (lines.length) this.write(`[${lines.join(',')}]`);
      }
      if (this.pending < MAX_PENDING / 2 && !this.closed) this.socket.resume();
      // Let the event loop read and answer other connections between units: answers take turns.
      await new Promise((r) => setImmediate(r));
    }
  }

  private write(line: string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(line + '\n');
  }

  /** One request's answer line (undefined for a notification, which gets none). */
  private async answer(req: RpcRequest): Promise<string | undefined> {
    this.hooks.count('requests');
    const method = METHODS.get(req.method);
    try {
      if (!method) throw new RpcError(METHOD_NOT_FOUND, `unknown method "${req.method.slice(0, 64)}"`);
      const result = await method.handle(this.hooks.ctx, this, paramList(req.params, method.params));
      return req.hasId ? resultReply(req.id, result ?? null) : undefined;
    } catch (e) {
      if (!(e instanceof RpcError)) {
        this.hooks.count('internalErrors');
        this.hooks.warn(`electrum ${req.method}: ${(e as Error).stack ?? String(e)}`);
      } else this.hooks.count('errors');
      const err = e instanceof RpcError ? e : new RpcError(INTERNAL_ERROR, 'internal error');
      if (e instanceof NoCommonVersion) setImmediate(() => this.socket.end());
      return req.hasId ? errorReply(req.id, err) : undefined;
    }
  }
}
