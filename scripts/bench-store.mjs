#!/usr/bin/env node
// Chain-store benchmark: LMDB (`lmdb`) against LevelDB (`classic-level`) on mvb's own workload.
// Run after `npx tsc -p .` (it encodes records with dist/): node scripts/bench-store.mjs
// Options: --blocks N (2000), --lookups N (100000), --dir PATH (a temp dir under os.tmpdir()).
// Each store runs in a fresh child process over the same deterministic key/value bytes:
//   connect: N blocks, each one atomic durable batch (entry + block + undo + coin puts/deletes + tip)
//            LMDB: root.transactionSync (default flags: fsync before the commit returns);
//            LevelDB: db.batch(ops, { sync: true }).
//   lookup:  random gets of existing coin keys (LMDB get; classic-level getSync, and await get for reference).
//   reopen:  close, then open again up to the first read of the tip.
//   reader:  while the store is open, a second process opens the same store and reads a coin.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, statfsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const DIST = new URL('../dist/src/shared/', import.meta.url);

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

// ------------------------------------------------------------------ synthetic chain (same bytes for both)

function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function makeWorkload(nBlocks, nLookups) {
  const { encodeEntry, encodeUndo, encodeCoin, outpointBytes } = await import(new URL('node/store/records.js', DIST));
  const { encodeBlock } = await import(new URL('core/block.js', DIST));
  const { headerHash } = await import(new URL('core/header.js', DIST));
  const { txid } = await import(new URL('core/tx.js', DIST));
  const rnd = prng(0x6d7662);
  const bytes = (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (rnd() * 256) | 0;
    return b;
  };
  const spk = () => bytes(34); // a segwit-sized output script
  const live = []; // { key, coin }
  let prev = new Uint8Array(32);
  let chainWork = 0n;
  const batches = [];
  const stats = { block: 0, entry: 0, undo: 0, coin: 0, puts: 0, dels: 0 };
  for (let h = 0; h < nBlocks; h++) {
    // 5 spent coins: live ones when there are (block 0 spends 5 that were never stored).
    const spent = [];
    for (let i = 0; i < 5; i++) {
      if (live.length > 0) {
        const j = (rnd() * live.length) | 0;
        spent.push(live[j]);
        live[j] = live[live.length - 1];
        live.pop();
      } else {
        const t = bytes(32);
        spent.push({ txid: t, vout: 0, coin: { value: 5000n, height: 0, coinbase: false, scriptPubKey: spk() } });
      }
    }
    const coinbase = {
      version: 1,
      inputs: [{ prevTxid: new Uint8Array(32), vout: 0xffffffff, scriptSig: bytes(8), sequence: 0xffffffff }],
      outputs: [{ value: 5_000_000_000n, scriptPubKey: spk() }],
      locktime: 0,
    };
    const mk = (ins, nOut) => ({
      version: 2,
      inputs: ins.map((s) => ({ prevTxid: s.txid, vout: s.vout, scriptSig: bytes(180), sequence: 0xfffffffe })),
      outputs: Array.from({ length: nOut }, () => ({ value: BigInt(1 + ((rnd() * 1e8) | 0)), scriptPubKey: spk() })),
      locktime: 0,
    });
    const txs = [coinbase, mk(spent.slice(0, 3), 7), mk(spent.slice(3), 7)]; // 5 inputs, 15 outputs in all
    const header = { version: 1, prevHash: prev, merkleRoot: bytes(32), time: 1_700_000_000 + h * 600, bits: 0x207fffff, nonce: h };
    const hash = headerHash(header);
    chainWork += 2n;
    const entry = encodeEntry({ hash, header, height: h, chainWork, status: 'valid', seq: h });
    const block = encodeBlock({ header, txs });
    const undo = encodeUndo(spent.map((s) => s.coin));
    const coinPuts = [];
    txs.forEach((tx, ti) => {
      const id = txid(tx);
      tx.outputs.forEach((o, vout) => {
        const coin = { value: o.value, height: h, coinbase: ti === 0, scriptPubKey: o.scriptPubKey };
        const key = outpointBytes(id, vout);
        const value = encodeCoin(coin);
        coinPuts.push({ key, value });
        live.push({ txid: id, vout, coin, key });
        stats.coin += value.length;
      });
    });
    const coinDels = spent.map((s) => outpointBytes(s.txid, s.vout));
    batches.push({ hash, entry, block, undo, coinPuts, coinDels });
    stats.block += block.length;
    stats.entry += entry.length;
    stats.undo += undo.length;
    stats.puts += coinPuts.length;
    stats.dels += coinDels.length;
    prev = hash;
  }
  const liveKeys = live.map((c) => c.key);
  const lookups = Array.from({ length: nLookups }, () => liveKeys[(rnd() * liveKeys.length) | 0]);
  const avg = {
    blockBytes: Math.round(stats.block / nBlocks),
    entryBytes: Math.round(stats.entry / nBlocks),
    undoBytes: Math.round(stats.undo / nBlocks),
    coinBytes: Math.round(stats.coin / stats.puts),
    coinPutsPerBlock: stats.puts / nBlocks,
    coinDelsPerBlock: stats.dels / nBlocks,
    liveCoins: liveKeys.length,
  };
  return { batches, lookups, tip: prev, avg };
}

// ------------------------------------------------------------------ the two stores, laid out as mvb would

// LMDB: the same open options and named databases as src/shared/node/store/lmdb-store.ts.
async function lmdbStore(dir) {
  const { open } = await import('lmdb');
  const bin = { encoding: 'binary', keyEncoding: 'binary' };
  const o = () => {
    const root = open({ path: `${dir}/chain.mdb`, maxDbs: 16, noSubdir: false, compression: false });
    return {
      root,
      entries: root.openDB({ name: 'entries', ...bin }),
      blocks: root.openDB({ name: 'blocks', ...bin }),
      undo: root.openDB({ name: 'undo', ...bin }),
      coins: root.openDB({ name: 'coins', ...bin }),
      meta: root.openDB({ name: 'meta', encoding: 'binary' }),
    };
  };
  let d = o();
  return {
    name: 'lmdb',
    getMode: 'get (synchronous)',
    commit(b, tip) {
      d.root.transactionSync(() => {
        d.entries.putSync(b.hash, b.entry);
        d.blocks.putSync(b.hash, b.block);
        d.undo.putSync(b.hash, b.undo);
        for (const k of b.coinDels) d.coins.removeSync(k);
        for (const c of b.coinPuts) d.coins.putSync(c.key, c.value);
        d.meta.putSync('tip', tip);
      });
    },
    getCoin: (k) => d.coins.get(k),
    getCoinAsync: undefined,
    async close() {
      await d.root.close();
    },
    async reopen() {
      d = o();
      return d.meta.get('tip');
    },
  };
}

// LevelDB: one keyspace, a one-byte prefix per table (what a sublevel amounts to), default options.
const P = { entries: 0x65, blocks: 0x62, undo: 0x75, coins: 0x63, meta: 0x6d };
const pk = (p, k) => {
  const out = new Uint8Array(k.length + 1);
  out[0] = p;
  out.set(k, 1);
  return out;
};
const TIP_KEY = pk(P.meta, new TextEncoder().encode('tip'));

async function levelStore(dir) {
  const { ClassicLevel } = await import('classic-level');
  const o = async () => {
    const db = new ClassicLevel(`${dir}/chain.ldb`, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    return db;
  };
  let db = await o();
  const hasGetSync = typeof db.getSync === 'function' && db.supports.getSync === true;
  return {
    name: 'classic-level',
    getMode: hasGetSync ? 'getSync (synchronous)' : 'await get (asynchronous)',
    async commit(b, tip) {
      const ops = [
        { type: 'put', key: pk(P.entries, b.hash), value: b.entry },
        { type: 'put', key: pk(P.blocks, b.hash), value: b.block },
        { type: 'put', key: pk(P.undo, b.hash), value: b.undo },
      ];
      for (const k of b.coinDels) ops.push({ type: 'del', key: pk(P.coins, k) });
      for (const c of b.coinPuts) ops.push({ type: 'put', key: pk(P.coins, c.key), value: c.value });
      ops.push({ type: 'put', key: TIP_KEY, value: tip });
      await db.batch(ops, { sync: true });
    },
    getCoin: hasGetSync ? (k) => db.getSync(pk(P.coins, k)) : undefined,
    getCoinAsync: (k) => db.get(pk(P.coins, k)),
    async close() {
      await db.close();
    },
    async reopen() {
      db = await o();
      return hasGetSync ? db.getSync(TIP_KEY) : await db.get(TIP_KEY);
    },
  };
}

// ------------------------------------------------------------------ worker: one store, one process

function diskBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += statSync(join(e.parentPath ?? e.path, e.name)).blocks * 512;
  }
  return n;
}

async function worker(kind, dir) {
  const nBlocks = Number(arg('blocks', 2000));
  const nLookups = Number(arg('lookups', 100000));
  const w = await makeWorkload(nBlocks, nLookups);
  const store = kind === 'lmdb' ? await lmdbStore(dir) : await levelStore(dir);
  const res = { store: store.name, blocks: nBlocks, lookups: nLookups, workload: w.avg };

  // (a) connect: one atomic durable batch per block
  let t = performance.now();
  for (const b of w.batches) await store.commit(b, b.hash);
  let s = (performance.now() - t) / 1000;
  res.connectSeconds = +s.toFixed(3);
  res.batchesPerSec = Math.round(nBlocks / s);
  res.msPerBatch = +((s * 1000) / nBlocks).toFixed(3);

  // (b) random lookups of existing coins
  let misses = 0;
  res.getMode = store.getMode;
  if (store.getCoin) {
    t = performance.now();
    for (const k of w.lookups) if (store.getCoin(k) === undefined) misses++;
    s = (performance.now() - t) / 1000;
    res.lookupsPerSec = Math.round(nLookups / s);
  }
  if (store.getCoinAsync) {
    t = performance.now();
    for (const k of w.lookups) if ((await store.getCoinAsync(k)) === undefined) misses++;
    s = (performance.now() - t) / 1000;
    res.asyncLookupsPerSec = Math.round(nLookups / s);
    if (!store.getCoin) res.lookupsPerSec = res.asyncLookupsPerSec;
  }
  res.lookupMisses = misses;

  // (d) a second process reading the store while this one has it open (the wallet's case)
  const probe = spawnSync(process.execPath, [SELF, '--reader', kind, '--dir', dir, '--key', Buffer.from(w.lookups[0]).toString('hex')], {
    encoding: 'utf8',
    timeout: 20000,
  });
  res.secondProcessReader = probe.status === 0 ? probe.stdout.trim() : `fails: ${(probe.stdout || probe.stderr).trim().split('\n')[0]}`;
  res.secondProcessReader = res.secondProcessReader.replaceAll(dir, '<dir>');

  // (c) reopen
  await store.close();
  res.diskBytes = diskBytes(dir);
  t = performance.now();
  const tip = await store.reopen();
  res.reopenMs = +(performance.now() - t).toFixed(2);
  if (!tip || Buffer.compare(Buffer.from(tip), Buffer.from(w.tip)) !== 0) throw new Error('tip lost across reopen');
  await store.close();
  process.stdout.write(JSON.stringify(res) + '\n');
}

async function reader(kind, dir, keyHex) {
  try {
    await readOnce(kind, dir, keyHex);
    console.log('ok');
  } catch (e) {
    console.log(`${e.code ?? e.name}: ${e.cause?.message ?? e.message}`);
    process.exitCode = 1;
  }
}

async function readOnce(kind, dir, keyHex) {
  const key = new Uint8Array(Buffer.from(keyHex, 'hex'));
  if (kind === 'lmdb') {
    const { open } = await import('lmdb');
    const root = open({ path: `${dir}/chain.mdb`, maxDbs: 16, noSubdir: false, compression: false });
    const coins = root.openDB({ name: 'coins', encoding: 'binary', keyEncoding: 'binary' });
    const v = coins.get(key);
    await root.close();
    if (!v) throw new Error('coin not found');
  } else {
    const { ClassicLevel } = await import('classic-level');
    const db = new ClassicLevel(`${dir}/chain.ldb`, { keyEncoding: 'view', valueEncoding: 'view', createIfMissing: false });
    await db.open();
    const v = await db.get(pk(P.coins, key));
    await db.close();
    if (!v) throw new Error('coin not found');
  }
}

// ------------------------------------------------------------------ main: run each store in a child

async function main() {
  const base = arg('dir', tmpdir());
  const root = mkdtempSync(join(base, 'mvb-bench-store-'));
  const fsType = statfsSync(root).type;
  const kinds = { 0xef53: 'ext2/3/4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlayfs' };
  const pkgVersion = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
  const env = {
    node: process.version,
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    dir: root,
    fs: kinds[fsType] ?? `0x${fsType.toString(16)}`,
    lmdb: pkgVersion('lmdb'),
    'classic-level': pkgVersion('classic-level'),
  };
  if (fsType === 0x01021994) console.error('warning: the temp dir is on tmpfs, so fsync costs nothing; pass --dir on a real disk');
  console.log(JSON.stringify({ env }));
  const results = [];
  try {
    for (const kind of ['lmdb', 'level']) {
      const dir = join(root, kind);
      const passArgs = ['blocks', 'lookups'].flatMap((n) => (arg(n) ? [`--${n}`, arg(n)] : []));
      const r = spawnSync(process.execPath, [SELF, '--worker', kind, '--dir', dir, ...passArgs], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (r.status !== 0) throw new Error(`${kind} worker failed (${r.status})`);
      const line = r.stdout.trim().split('\n').pop();
      console.log(line);
      results.push(JSON.parse(line));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const w = results[0].workload;
  console.log(
    `\n${results[0].blocks} blocks (block ${w.blockBytes} B, entry ${w.entryBytes} B, undo ${w.undoBytes} B, ` +
      `${w.coinPutsPerBlock} coin puts + ${w.coinDelsPerBlock} deletes of ${w.coinBytes} B each), ` +
      `${results[0].lookups} lookups over ${w.liveCoins} coins; node ${env.node}, ${env.nproc} cpus, ${env.fs}`,
  );
  const rows = [
    ['', ...results.map((r) => r.store)],
    ['durable batches/s', ...results.map((r) => `${r.batchesPerSec} (${r.msPerBatch} ms)`)],
    ['coin lookups/s', ...results.map((r) => `${r.lookupsPerSec} [${r.getMode.split(' ')[0]}]`)],
    ['  (await get)/s', ...results.map((r) => (r.asyncLookupsPerSec ? String(r.asyncLookupsPerSec) : '-'))],
    ['reopen ms', ...results.map((r) => String(r.reopenMs))],
    ['disk MB', ...results.map((r) => (r.diskBytes / 1e6).toFixed(1))],
    ['2nd-process reader', ...results.map((r) => r.secondProcessReader.replace(/: .*LOCK:/, ': LOCK held:'))],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
}

if (process.argv.includes('--worker')) await worker(arg('worker'), arg('dir'));
else if (process.argv.includes('--reader')) await reader(arg('reader'), arg('dir'), arg('key'));
else await main();
