// The chain store on disk: LMDB through the `lmdb` package. Reads are synchronous, which suits the
// pure core's synchronous ChainStore interface, and transactionSync commits a whole ChainBatch
// atomically: after a kill -9 the store holds the state before or after a batch, never between.
import { lstatSync, mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { DecodeError } from '../../core/bytes.js';
import { decodeBlock, encodeBlock, type Block } from '../../core/block.js';
import type { ChainBatch, ChainStore, EntryRecord } from '../../core/chain.js';
import type { Coin } from '../../core/validation.js';
import { StoreDamagedError, checkLmdbMeta, checkStoreFiles } from './damage.js';
import { DirLock } from './lock.js';
import { decodeCoin, decodeEntry, decodeUndo, encodeCoin, encodeEntry, encodeUndo } from './records.js';
import { outpointBytes, parseOutpointBytes } from '../../core/outpoint.js';

type Bin = Database<Uint8Array, Uint8Array>;

/**
 * Whether DIR holds a chain store (read-only commands refuse a directory that does not, rather
 * than create one): anything named data.mdb counts, a dangling link included, so that opening it
 * says what is wrong with it instead of "no chain here".
 */
export function chainStoreExists(dir: string): boolean {
  try {
    lstatSync(`${dir}/chain.mdb/data.mdb`);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code !== 'ENOENT' && code !== 'ENOTDIR'; // out of reach (no permission) is for the opener to say
  }
}

export class LmdbChainStore implements ChainStore {
  readonly root: RootDatabase;
  private readonly entries: Bin;
  private readonly blocks: Bin;
  private readonly undo: Bin;
  private readonly coins: Bin;
  private readonly meta: Database<Uint8Array, string>;
  private readonly lock: DirLock | undefined;
  private closed = false;

  /**
   * Opens (creating) the store in dir; throws LockError if another process has it.
   * `lock: false` opens it without the directory lock, shared: LMDB itself serialises write
   * transactions across processes, so a short-lived process may read the chain and write its own
   * named databases beside a running node. Never run a Chain over a store opened that way.
   */
  constructor(
    readonly dir: string,
    what = 'mvb process',
    opts: { readonly lock?: boolean } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.lock = opts.lock === false ? undefined : DirLock.acquire(dir, what);
    try {
      const shape = checkStoreFiles(dir);
      if (shape) throw shape;
      const problem = checkLmdbMeta(`${dir}/chain.mdb/data.mdb`);
      if (problem) throw new StoreDamagedError(dir, problem);
      this.root = open({ path: `${dir}/chain.mdb`, maxDbs: 16, noSubdir: false, compression: false });
      const bin = { encoding: 'binary' as const, keyEncoding: 'binary' as const };
      this.entries = this.root.openDB<Uint8Array, Uint8Array>({ name: 'entries', ...bin });
      this.blocks = this.root.openDB<Uint8Array, Uint8Array>({ name: 'blocks', ...bin });
      this.undo = this.root.openDB<Uint8Array, Uint8Array>({ name: 'undo', ...bin });
      this.coins = this.root.openDB<Uint8Array, Uint8Array>({ name: 'coins', ...bin });
      this.meta = this.root.openDB<Uint8Array, string>({ name: 'meta', encoding: 'binary' });
    } catch (e) {
      this.lock?.release();
      throw e;
    }
  }

  /** Another named database in the same environment, for data that must commit with the chain. */
  openBinary(name: string): Bin {
    return this.root.openDB<Uint8Array, Uint8Array>({ name, encoding: 'binary', keyEncoding: 'binary' });
  }
  openJson<V>(name: string): Database<V, string> {
    return this.root.openDB<V, string>({ name, encoding: 'json' });
  }

  /** A stored record that does not decode means the store is damaged: say which, never a stack trace. */
  private decoded<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof DecodeError) throw new StoreDamagedError(this.dir, `a stored ${what} does not decode: ${e.message}`);
      throw e;
    }
  }

  *loadEntries(): Iterable<EntryRecord> {
    for (const { key, value } of this.entries.getRange())
      yield this.decoded('header entry', () => decodeEntry(Uint8Array.from(key), value));
  }
  getTip(): Uint8Array | undefined {
    const t = this.meta.get('tip');
    return t ? Uint8Array.from(t) : undefined;
  }
  getBlock(hash: Uint8Array): Block | undefined {
    const b = this.blocks.get(hash);
    return b ? this.decoded('block', () => decodeBlock(b)) : undefined;
  }
  getRawBlock(hash: Uint8Array): Uint8Array | undefined {
    return this.blocks.get(hash);
  }
  getUndo(hash: Uint8Array): Coin[] | undefined {
    const b = this.undo.get(hash);
    return b ? this.decoded('undo record', () => decodeUndo(b)) : undefined;
  }
  getCoin(prevTxid: Uint8Array, vout: number): Coin | undefined {
    const b = this.coins.get(outpointBytes(prevTxid, vout));
    return b ? this.decoded('coin', () => decodeCoin(b)) : undefined;
  }
  /** Every unspent output, for tools and tests. */
  *allCoins(): Iterable<{ txid: Uint8Array; vout: number; coin: Coin }> {
    for (const { key, value } of this.coins.getRange()) {
      const o = parseOutpointBytes(Uint8Array.from(key));
      yield { txid: o.txid, vout: o.vout, coin: decodeCoin(value) };
    }
  }

  /** Called inside the commit's transaction, so indexes kept in this store change atomically with the chain. */
  readonly commitHooks: ((b: ChainBatch) => void)[] = [];

  commit(b: ChainBatch): void {
    this.root.transactionSync(() => {
      for (const e of b.entries) this.entries.putSync(e.hash, encodeEntry(e));
      for (const x of b.blocks) this.blocks.putSync(x.hash, encodeBlock(x.block));
      for (const u of b.undo) this.undo.putSync(u.hash, encodeUndo(u.spent));
      for (const c of b.coins) {
        const k = outpointBytes(c.txid, c.vout);
        if (c.coin === null) this.coins.removeSync(k);
        else this.coins.putSync(k, encodeCoin(c.coin));
      }
      if (b.tip) this.meta.putSync('tip', b.tip);
      for (const hook of this.commitHooks) hook(b);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.root.close();
    } finally {
      this.lock?.release();
    }
  }
}
