// A damaged store is named in one line with its fix, never shown as a stack trace. LMDB detects
// structural damage (a page pointer to nowhere: MDB_PAGE_NOTFOUND; a page of the wrong kind:
// MDB_CORRUPTED; a file that is not LMDB: MDB_INVALID); it keeps no checksums, so changed bytes
// inside a value go unseen by it: our record decoders catch malformed records, and `mvb verify`
// re-derives the UTXO set and indexes from the blocks (whose hashes and Merkle roots are checked)
// to catch values that decode but are wrong. Damaged meta pages make the native library crash
// rather than fail, so checkLmdbMeta looks at them before LMDB opens the file, and a store's
// files in shapes LMDB does not expect (a directory, a symbolic link to nowhere or to itself, a
// file this user may not open, an empty data file) would surface as a raw file-system error from
// deep inside it, so checkStoreFiles names them first.
import { accessSync, closeSync, constants, lstatSync, openSync, readSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class StoreDamagedError extends Error {
  override readonly name = 'StoreDamagedError';
  constructor(
    /** The store's directory. */
    readonly store: string,
    readonly reason: string,
    /** What is wrong in a word or two ("is damaged" unless said), and its fix when the usual one (rebuild) is not the first to try. */
    readonly how: { readonly state?: string; readonly fix?: string } = {},
  ) {
    super(`the chain store ${store} ${how.state ?? 'is damaged'} (${reason})`);
  }
}

/** LMDB's errors that mean the file's structure is broken (lmdb's MDB_* codes). */
const LMDB_DAMAGE =
  /MDB_(CORRUPTED|PAGE_NOTFOUND|INVALID|BAD_TXN|BAD_VALSIZE|BAD_DBI|VERSION_MISMATCH|PANIC|PAGE_FULL|TXN_FULL|CURSOR_FULL)/;

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

/** LMDB's two files in a store's chain.mdb directory, and what each holds. */
const STORE_FILES = [
  { name: 'data.mdb', holdsData: true },
  { name: 'lock.mdb', holdsData: false },
] as const;

/**
 * The first problem with the shape of a store's files (storeDir/chain.mdb and the two files in
 * it), as the error to throw, or undefined when each is absent or a regular file this process
 * may read and write (a symbolic link to one included). An empty data file is damage (LMDB
 * writes its meta pages when it creates one); an empty lock file is not (LMDB sizes it).
 */
export function checkStoreFiles(storeDir: string): StoreDamagedError | undefined {
  const env = join(storeDir, 'chain.mdb');
  const envShape = shapeOf(env);
  if (envShape === 'absent') return undefined;
  if (envShape === 'directory' && !accessible(env))
    return new StoreDamagedError(storeDir, 'chain.mdb: no permission to list, enter and write it for this user', {
      state: 'cannot be opened',
      fix: `give this user read, write and search access to ${env} (chown or chmod)`,
    });
  if (envShape !== 'directory') return new StoreDamagedError(storeDir, `chain.mdb ${describeShape(env, envShape)}, not a directory`);
  for (const f of STORE_FILES) {
    const path = join(env, f.name);
    const shape = shapeOf(path);
    const at = `chain.mdb/${f.name}`;
    const lockFix = f.holdsData ? {} : { fix: `remove ${path} (LMDB makes a new lock file; it holds no data)` };
    if (shape === 'absent') continue;
    if (shape !== 'file') return new StoreDamagedError(storeDir, `${at} ${describeShape(path, shape)}, not a file`, lockFix);
    const denied = openDenied(path);
    if (denied)
      return new StoreDamagedError(storeDir, `${at}: ${denied} for this user`, {
        state: 'cannot be opened',
        fix: `give this user read and write access to ${path} (chown or chmod)`,
      });
    if (f.holdsData && statSync(path).size === 0) return new StoreDamagedError(storeDir, `${at} is empty: it was cut off or never written`);
  }
  return undefined;
}

type Shape = 'absent' | 'file' | 'directory' | 'dangling link' | 'looping link' | 'special file' | 'out of reach';

/** What is at path, following symbolic links (and telling a dangling or looping one apart). */
function shapeOf(path: string): Shape {
  let link;
  try {
    link = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : 'out of reach';
  }
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (link.isSymbolicLink()) return code === 'ELOOP' ? 'looping link' : 'dangling link';
    return 'special file';
  }
  if (st.isDirectory()) return 'directory';
  return st.isFile() ? 'file' : 'special file';
}

function describeShape(path: string, shape: Shape): string {
  if (shape === 'dangling link') return `is a symbolic link to ${readlinkSync(path)}, which does not exist`;
  if (shape === 'looping link') return 'is a symbolic link that loops back on itself';
  if (shape === 'directory') return 'is a directory';
  if (shape === 'out of reach') return 'cannot be looked at (no permission on its directory)';
  return 'is not a regular file (a device, socket or pipe)';
}

/** Whether this process may list, enter and write directory path (LMDB creates its lock file there). */
function accessible(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why this process may not open path for reading and writing (LMDB opens both files so), or undefined. */
function openDenied(path: string): string | undefined {
  try {
    closeSync(openSync(path, 'r+'));
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return 'no permission to read and write it';
    if (code === 'EROFS') return 'on a read-only file system';
    return code ?? String(e);
  }
}
