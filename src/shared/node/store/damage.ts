// A damaged store is named in one line with its fix, never shown as a stack trace. LMDB detects
// structural damage (a page pointer to nowhere: MDB_PAGE_NOTFOUND; a page of the wrong kind:
// MDB_CORRUPTED; a file that is not LMDB: MDB_INVALID); it keeps no checksums, so changed bytes
// inside a value go unseen by it: our record decoders catch malformed records, and `mvb verify`
// re-derives the UTXO set and indexes from the blocks (whose hashes and Merkle roots are checked)
// to catch values that decode but are wrong. Damaged meta pages make the native library crash
// rather than fail, so checkLmdbMeta looks at them before LMDB opens the file.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export class StoreDamagedError extends Error {
  override readonly name = 'StoreDamagedError';
  constructor(
    /** The store's directory. */
    readonly store: string,
    readonly reason: string,
  ) {
    super(`the chain store ${store} is damaged (${reason})`);
  }
}

/** LMDB's errors that mean the file's structure is broken (lmdb's MDB_* codes). */
const LMDB_DAMAGE = /MDB_(CORRUPTED|PAGE_NOTFOUND|INVALID|BAD_TXN|BAD_VALSIZE|BAD_DBI|VERSION_MISMATCH|PANIC|PAGE_FULL|TXN_FULL|CURSOR_FULL)/;

/** True for an error that says a store is damaged (LMDB's, or a record our decoders refused). */
export function isStoreDamage(e: unknown): boolean {
  if (e instanceof StoreDamagedError) return true;
  const msg = (e as Error)?.message;
  return typeof msg === 'string' && LMDB_DAMAGE.test(msg);
}

/** The short reason of an LMDB damage error, e.g. "MDB_PAGE_NOTFOUND". */
export function damageReason(e: unknown): string {
  if (e instanceof StoreDamagedError) return e.reason;
  const m = LMDB_DAMAGE.exec((e as Error)?.message ?? '');
  return m ? m[0] : String((e as Error)?.message ?? e).split('\n')[0]!;
}

const META_MAGIC = 0xbeefc0de;
const P_META = 0x08;
const P_INVALID = 0xffffffffffffffffn;

/**
 * Checks the two meta pages of an LMDB data file (64-bit layout of the LMDB in the lmdb
 * package: page header of 20 bytes, then magic, version, address, map size, the free and main
 * database records of 48 bytes each, the last page number and the transaction id). Returns the
 * problem, or undefined when both are sound. Does not read anything else.
 */
export function checkLmdbMeta(dataFile: string): string | undefined {
  let size: number;
  try {
    size = statSync(dataFile).size;
  } catch {
    return undefined; // not created yet
  }
  if (size === 0) return undefined;
  const fd = openSync(dataFile, 'r');
  try {
    const head = Buffer.alloc(160);
    if (readSync(fd, head, 0, 160, 0) < 160) return 'data file shorter than its meta pages';
    const pageSize = head.readUInt32LE(0x30);
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return 'bad page size in meta page 0';
    if (size < 2 * pageSize) return 'data file shorter than its meta pages';
    const pages = BigInt(Math.floor(size / pageSize));
    for (const p of [0, 1]) {
      const m = Buffer.alloc(160);
      readSync(fd, m, 0, 160, p * pageSize);
      if (m.readBigUInt64LE(0) !== BigInt(p) || (m.readUInt16LE(0x12) & P_META) === 0) return `meta page ${p} overwritten`;
      if (m.readUInt32LE(0x18) !== META_MAGIC) return `meta page ${p}: not an LMDB file`;
      const lastPage = m.readBigUInt64LE(0x90);
      if (lastPage >= pages) return `meta page ${p}: last page ${lastPage} beyond the file's ${pages}`;
      for (const rootAt of [0x58, 0x88]) {
        const root = m.readBigUInt64LE(rootAt);
        if (root !== P_INVALID && root > lastPage) return `meta page ${p}: a database root beyond the last page`;
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}
