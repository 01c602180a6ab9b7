// Signature cache, checking threads and catch-up batches: a block of transactions the mempool
// accepted connects with every signature answered by the cache; the worker pool gives the same
// verdicts as the OpenSSL verifier; processBlocks connects many blocks in one store commit to the
// same state as one at a time, and a bad block in a batch leaves its valid ancestors connected.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Block,
  type ChainBatch,
  Chain,
  MemoryChainStore,
  assembleBlock,
  signatureChecks,
  solveHeader,
  toHex,
} from '../src/shared/core/index.js';
import { SignatureCache } from '../src/shared/node/verify/sigcache.js';
import { VerifyPool } from '../src/shared/node/verify/pool.js';
import { BlockSignatureVerifier } from '../src/shared/node/verify/block-verifier.js';
import { Mempool } from '../src/shared/node/mempool/pool.js';
import { opensslVerifier } from '../src/shared/node/verify/verifier.js';
import { LmdbChainStore } from '../src/shared/node/store/lmdb-store.js';
import { BENCH_NOW, chainWorkload, fanOutWorkload, spendBlock } from '../src/tools/cmds/bench/workload.js';

class CountingStore extends MemoryChainStore {
  commits = 0;
  override commit(b: ChainBatch): void {
    this.commits++;
    super.commit(b);
  }
}

function tampered(b: Block): Block {
  const tx = b.txs[1]!;
  const sig = tx.inputs[0]!.scriptSig.slice();
  sig[10] ^= 1; // inside r: still strict DER, no longer a valid signature
  const txs = [b.txs[0]!, { ...tx, inputs: [{ ...tx.inputs[0]!, scriptSig: sig }, ...tx.inputs.slice(1)] }, ...b.txs.slice(2)];
  const a = assembleBlock(b.header.prevHash, txs, b.header.time, b.header.bits);
  return { header: solveHeader(a.header, 1_000_000)!, txs: a.txs };
}

describe('signature cache and checking threads', function () {
  this.timeout(120_000);
  const w = fanOutWorkload(24);
  const block3 = spendBlock(w.blocks[1]!, 3, w.spends);

  function chainWith(cache: SignatureCache): Chain {
    const chain = new Chain(w.params, new MemoryChainStore(), { verifier: cache.verifier });
    for (const b of w.blocks) chain.processBlock(b, BENCH_NOW);
    return chain;
  }

  it('fills when the mempool accepts transactions; their block then connects with no signature verified again', () => {
    const cache = new SignatureCache();
    const chain = chainWith(cache);
    const pool = new Mempool(chain, { minRelayFeeRate: 0, maxBytes: 1_000_000, verifier: cache.verifier });
    for (const tx of w.spends) assert.equal(pool.accept(tx).status, 'accepted');
    const misses = cache.stats.misses;
    const hits = cache.stats.hits;
    const r = chain.processBlock(block3, BENCH_NOW);
    assert.equal(r.status, 'accepted');
    assert.equal(chain.height, 3);
    assert.equal(cache.stats.misses, misses, 'no signature verified twice');
    assert.equal(cache.stats.hits - hits, w.spends.length);
  });

  it('connecting cold verifies every signature; a bad signature is never cached and still fails the block', () => {
    const cache = new SignatureCache();
    const chain = chainWith(cache);
    const before = cache.stats.misses;
    const bad = tampered(block3);
    assert.throws(() => chain.processBlock(bad, BENCH_NOW), /mandatory-script-verify-flag-failed/);
    const [c] = signatureChecks(bad.txs, chain.coins);
    assert.equal(cache.has({ der: c!.der, pubkey: c!.pubkey, firstHash: c!.firstHash! }), false);
    chain.processBlock(block3, BENCH_NOW);
    assert.ok(cache.stats.misses - before >= w.spends.length);
  });

  it('keys on sighash, signature and key alike, and keeps at most maxEntries', () => {
    const cache = new SignatureCache(5);
    const chain = chainWith(new SignatureCache());
    const checks = signatureChecks(block3.txs, chain.coins).map((c) => ({ der: c.der, pubkey: c.pubkey, firstHash: c.firstHash! }));
    const c = checks[0]!;
    assert.equal(cache.verifier(c.der, c.firstHash, c.pubkey), true);
    assert.equal(cache.has(c), true);
    const flip = (b: Uint8Array, i: number) => Uint8Array.from(b, (x, k) => (k === i ? x ^ 1 : x));
    assert.equal(cache.has({ ...c, firstHash: flip(c.firstHash, 0) }), false);
    assert.equal(cache.has({ ...c, der: flip(c.der, 8) }), false);
    assert.equal(cache.has({ ...c, pubkey: checks[1]!.pubkey.slice(0, 32).length === 32 ? flip(c.pubkey, 5) : c.pubkey }), false);
    assert.equal(cache.verifier(c.der, flip(c.firstHash, 0), c.pubkey), false);
    for (const x of checks) cache.add(x);
    assert.equal(cache.size, 5);
    assert.ok(cache.stats.evictions > 0);
  });

  it('worker threads give the OpenSSL verdict for each check, valid and invalid mixed', async () => {
    const chain = chainWith(new SignatureCache());
    const good = signatureChecks(block3.txs, chain.coins).map((c) => ({ der: c.der, pubkey: c.pubkey, firstHash: c.firstHash! }));
    const bad = good.map((c) => ({ ...c, firstHash: Uint8Array.from(c.firstHash, (x, k) => (k === 3 ? x ^ 0x40 : x)) }));
    const mixed = good.flatMap((g, i) => [g, bad[i]!]);
    const pool = new VerifyPool(2);
    try {
      const got = await pool.verify(mixed);
      assert.deepEqual(
        got,
        mixed.map((c) => opensslVerifier(c.der, c.firstHash, c.pubkey)),
      );
      assert.deepEqual(
        got,
        mixed.map((_, i) => i % 2 === 0),
      );
      assert.deepEqual(await pool.verify([]), []);
    } finally {
      await pool.close();
    }
  });

  it("preverify runs a block's checks in the threads into the cache: connecting then verifies none", async () => {
    const sigs = BlockSignatureVerifier.create(2);
    try {
      const chain = chainWith(sigs.cache);
      await sigs.preverify([block3], chain.coins);
      assert.equal(sigs.stats.parallel, w.spends.length);
      const misses = sigs.cache.stats.misses;
      chain.processBlock(block3, BENCH_NOW);
      assert.equal(sigs.cache.stats.misses, misses);
    } finally {
      await sigs.close();
    }
  });
});

describe('catch-up: many blocks per store commit', function () {
  this.timeout(120_000);
  const w = chainWorkload(60, 2);

  it('reaches the same tip and coins as one block at a time, with one commit per batch', () => {
    const one = new MemoryChainStore();
    const a = new Chain(w.params, one, { verifier: opensslVerifier });
    for (const b of w.blocks) a.processBlock(b, BENCH_NOW);
    const store = new CountingStore();
    const c = new Chain(w.params, store, { verifier: opensslVerifier });
    const before = store.commits;
    let connected = 0;
    for (let i = 0; i < w.blocks.length; i += 25) connected += c.processBlocks(w.blocks.slice(i, i + 25), BENCH_NOW).connected.length;
    assert.equal(store.commits - before, 3);
    assert.equal(connected, 60);
    assert.equal(c.tip.hashHex, a.tip.hashHex);
    assert.equal(c.height, 60);
    assert.deepEqual([...store.coins.keys()].sort(), [...one.coins.keys()].sort());
    assert.equal(store.entries.size, one.entries.size);
  });

  it('a block failing in the batch: its ancestors connect, it is marked invalid, nothing after it', () => {
    const blocks = [...w.blocks.slice(0, 29), tampered(w.blocks[29]!), ...w.blocks.slice(30)];
    const c = new Chain(w.params, new MemoryChainStore(), { verifier: opensslVerifier });
    const r = c.processBlocks(blocks, BENCH_NOW);
    assert.equal(c.height, 29);
    assert.equal(r.invalid.length, 1);
    assert.equal(r.invalid[0]!.entry.height, 30);
    assert.match(r.invalid[0]!.error.message, /mandatory-script-verify-flag-failed/);
  });

  it('a block failing its own checks stops the batch: what came before connects and the error is returned', () => {
    const bad = { ...w.blocks[9]!, txs: w.blocks[9]!.txs.slice(0, 1) }; // Merkle root no longer matches
    const c = new Chain(w.params, new MemoryChainStore(), { verifier: opensslVerifier });
    const r = c.processBlocks([...w.blocks.slice(0, 9), bad, ...w.blocks.slice(10)], BENCH_NOW);
    assert.equal(c.height, 9);
    assert.equal(r.rejected?.code, 'bad-txnmrklroot');
  });

  it('kill -9 during catch-up batches leaves the store at a batch boundary, its coins those of that height', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mvb-batch-kill-'));
    const url = (p: string) => JSON.stringify(new URL(`../src/${p}`, import.meta.url).href);
    const code = [
      `const { Chain } = await import(${url('shared/core/chain.js')});`,
      `const { LmdbChainStore } = await import(${url('shared/node/store/lmdb-store.js')});`,
      `const { opensslVerifier } = await import(${url('shared/node/verify/verifier.js')});`,
      `const { BENCH_NOW, chainWorkload } = await import(${url('tools/cmds/bench/workload.js')});`,
      `const w = chainWorkload(60, 2);`,
      `const c = new Chain(w.params, new LmdbChainStore(${JSON.stringify(dir)}), { verifier: opensslVerifier });`,
      `for (let i = 0; i < 60; i += 5) {`,
      `  c.processBlocks(w.blocks.slice(i, i + 5), BENCH_NOW);`,
      `  process.stdout.write(c.height + '\\n');`,
      `}`,
      `setInterval(() => {}, 1000);`, // stays until killed
    ].join('\n');
    try {
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      const killedAt = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child did not report 3 batches in 60 s')), 60_000);
        let lines = 0;
        child.stdout.on('data', (d: Buffer) => {
          lines += d.toString().split('\n').filter(Boolean).length;
          if (lines >= 3 && child.exitCode === null && !child.killed) {
            clearTimeout(timer);
            child.kill('SIGKILL');
            resolve(lines);
          }
        });
        child.on('exit', (c) => c !== null && reject(new Error(`child exited ${c}`)));
      });
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
      assert.ok(killedAt >= 3);
      const store = new LmdbChainStore(dir);
      try {
        const c = new Chain(w.params, store, { verifier: opensslVerifier });
        assert.equal(c.height % 5, 0, `height ${c.height} is a batch boundary`);
        assert.ok(c.height >= 15);
        const ref = new MemoryChainStore();
        const r = new Chain(w.params, ref, { verifier: opensslVerifier });
        r.processBlocks(w.blocks.slice(0, c.height), BENCH_NOW);
        assert.equal(c.tip.hashHex, r.tip.hashHex);
        const coins = [...store.allCoins()].map((x) => `${toHex(x.txid)}:${x.vout}`).sort();
        assert.deepEqual(coins, [...ref.coins.keys()].sort());
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on LMDB: the batch is on disk after reopening (one transaction: before or after, never between)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mvb-batch-'));
    try {
      let store = new LmdbChainStore(dir);
      let c = new Chain(w.params, store, { verifier: opensslVerifier });
      c.processBlocks(w.blocks.slice(0, 40), BENCH_NOW);
      store.close();
      store = new LmdbChainStore(dir);
      c = new Chain(w.params, store, { verifier: opensslVerifier });
      assert.equal(c.height, 40);
      assert.equal(toHex(c.tip.hash), toHex(c.atHeight(40)!.hash));
      c.processBlocks(w.blocks.slice(40), BENCH_NOW);
      assert.equal(c.height, 60);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
