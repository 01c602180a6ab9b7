// A node's event log (`--events FILE`): one JSON object per line, appended as things happen, so a
// tool (the lab) can measure from what the nodes did rather than from a model. Every line has
//   t     milliseconds on the machine's monotonic clock (process.hrtime: CLOCK_MONOTONIC on Linux,
//         the same clock for every process on the machine, so logs of several nodes line up)
//   ev    heard | mined | connected | disconnected | tip | reorg | tx | compact | compact-dropped
// and the block hash (display order hex) or txid. Events:
//   heard        {hash, height, from}          a status announcing a tip we had not heard of
//   mined        {hash, height, hashes}        this miner found the block; hashes: header hashes its
//                                              threads had tried since it started (a work meter)
//   connected    {hash, height, source, txids} a block joined our active chain (source self|peer)
//   disconnected {hash, height, txids}         a block left our active chain in a reorganisation
//   tip          {hash, height}                the active chain's tip after an update
//   reorg        {depth, from, to}             blocks disconnected in one update, old and new tip
//   tx           {txid}                        a transaction entered the mempool
//   compact      {hash, from, txs, outcome, ...} a compact block (BIP152) heard and how it became a
//                                              block: outcome rebuilt | completed | full | fellBack,
//                                              fromMempool and fetched (transactions), ms
//   compact-dropped {reason, from}             a compact block datagram dropped (undecodable, its
//                                              header's proof of work or context, busy)
// The file is bounded (maxBytes); past it, events are counted, not written.
import { closeSync, openSync, writeSync } from 'node:fs';
import { hashToHex } from '../core/bytes.js';
import type { ChainUpdate } from '../core/chain.js';
import { txid } from '../core/tx.js';

/** Default cap on one log's size: a long lab run writes a few MB. */
export const EVENT_LOG_MAX_BYTES = 256 * 1024 * 1024;
/** Txids listed per block event (the rest are counted in `txCount`). */
const MAX_TXIDS_PER_EVENT = 200;
/** Heard tips remembered, to log each once. */
const MAX_HEARD = 4096;

export type EventRecord = Record<string, string | number | boolean | string[]>;

/** Milliseconds on the monotonic clock shared by every process on this machine. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

export class EventLog {
  private fd: number | undefined;
  private bytes = 0;
  dropped = 0;
  private readonly heard = new Set<string>();

  constructor(
    readonly path: string,
    private readonly maxBytes = EVENT_LOG_MAX_BYTES,
  ) {
    this.fd = openSync(path, 'a', 0o644);
  }

  write(ev: string, fields: EventRecord): void {
    if (this.fd === undefined) return;
    const line = JSON.stringify({ t: monotonicMs(), ev, ...fields }) + '\n';
    if (this.bytes + line.length > this.maxBytes) {
      this.dropped++;
      return;
    }
    this.bytes += line.length;
    writeSync(this.fd, line);
  }

  /** A status announced tip `hash`: logged the first time it is heard. */
  heardTip(hash: Uint8Array, height: number, from: string): void {
    const h = hashToHex(hash);
    if (this.heard.has(h)) return;
    if (this.heard.size >= MAX_HEARD) this.heard.clear();
    this.heard.add(h);
    this.write('heard', { hash: h, height, from });
  }

  /** Everything one chain update did: blocks out, blocks in, the reorganisation, the new tip. */
  update(u: ChainUpdate, source: 'self' | 'peer'): void {
    if (!u.connected.length && !u.disconnected.length) return;
    const ids = (txs: readonly Parameters<typeof txid>[0][]) => txs.slice(0, MAX_TXIDS_PER_EVENT).map((t) => hashToHex(txid(t)));
    for (const d of u.disconnected)
      this.write('disconnected', {
        hash: hashToHex(d.entry.hash),
        height: d.entry.height,
        txids: ids(d.block.txs),
        txCount: d.block.txs.length,
      });
    for (const c of u.connected)
      this.write('connected', {
        hash: hashToHex(c.entry.hash),
        height: c.entry.height,
        source,
        txids: ids(c.block.txs),
        txCount: c.block.txs.length,
      });
    const last = u.connected[u.connected.length - 1] ?? u.disconnected[u.disconnected.length - 1];
    if (u.disconnected.length) {
      const oldTip = u.disconnected[0]!.entry;
      this.write('reorg', {
        depth: u.disconnected.length,
        from: hashToHex(oldTip.hash),
        to: u.connected.length ? hashToHex(u.connected[u.connected.length - 1]!.entry.hash) : '',
      });
    }
    if (u.connected.length && last) this.write('tip', { hash: hashToHex(last.entry.hash), height: last.entry.height });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** An event log that cannot be opened: a usage error (the runner's error table prints it, exit 2). */
export class EventLogError extends Error {
  override readonly name = 'EventLogError';
}

/** Opens the log named by an `--events FILE` option, if any. */
export function openEventLog(path: unknown): EventLog | undefined {
  if (path === undefined || path === false) return undefined;
  if (typeof path !== 'string' || path === '') throw new EventLogError('--events needs a file name');
  try {
    return new EventLog(path);
  } catch (e) {
    throw new EventLogError(`--events ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
