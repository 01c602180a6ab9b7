// The explorer's API in-process against a live loopback network: an in-process miner (TestMiner)
// builds a chain, a payment posted to /api/tx, a fork and a reorganisation that takes the payment
// out of the best chain and back into the mempool; Esplora's paths are checked for shape and for
// what the chain really holds, and the /api/mvb/ extras for the tree, the reorg and byte fields.
import assert from 'node:assert/strict';
import { decodeBlock, blockSize } from '../src/shared/core/block.js';
import { fromHex, hashToHex, hexToHash, toHex } from '../src/shared/core/bytes.js';
import { encodeAddress } from '../src/shared/core/address.js';
import { sha256, sha256d } from '../src/shared/core/hash.js';
import { p2pkhScript } from '../src/shared/core/script.js';
import { legacySighash } from '../src/shared/core/sighash.js';
import { decodeTx, encodeTx, txid } from '../src/shared/core/tx.js';
import { alice, bob, carol, coinbaseCoin, transfer } from './kit/blockgen.js';
import { type RunningExplorer, get, getJson, startExplorer, waitHeight } from './kit/explorer.js';
import { join } from 'node:path';
import { Chain } from '../src/shared/core/chain.js';
import { LmdbChainStore } from '../src/shared/node/store/lmdb-store.js';
import { removeDir, tempDir, waitFor } from './kit/procs.js';
import { TestMiner, settingsOf, testNetSets } from './kit/wallet-net.js';

describe('explorer API (in-process, a chain with a fork and a reorganisation)', function () {
  this.timeout(60_000);
  let miner: TestMiner;
  let run: RunningExplorer;
  let base: string;
  let version: number;
  let sets: Record<string, unknown>;
  const addr = (pkh: Uint8Array) => encodeAddress(pkh, version);

  before(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    run = await startExplorer(settingsOf(sets));
    base = run.url;
    version = run.ex.settings.params.addressVersion;
  });
  after(async () => {
    await run?.stop();
    await miner?.stop();
  });

  it('follows the chain, takes a payment on /api/tx, loses it in a reorganisation and sees it mined again', async () => {
    const a = miner.mine(8, alice.pkh);
    await waitHeight(run.ex, 8);
    assert.equal((await get(base, '/api/blocks/tip/height')).text, '8');
    assert.equal((await get(base, '/api/blocks/tip/hash')).text, miner.tip.hashHex.match(/../g)!.reverse().join(''));

    // A payment: alice's first coinbase to bob, posted as hex.
    const pay = transfer(coinbaseCoin(a[0]!), bob, 1000n);
    const id = hashToHex(txid(pay));
    const posted = await get(base, '/api/tx', { method: 'POST', body: toHex(encodeTx(pay)) });
    assert.equal(posted.status, 200, posted.text);
    assert.equal(posted.text, id);
    await miner.waitTx(id); // broadcast on the transaction port
    assert.deepEqual(await getJson(base, '/api/mempool/txids'), [id]);
    assert.deepEqual(await getJson(base, `/api/tx/${id}/status`), { confirmed: false });
    const bobMem = await getJson(base, `/api/address/${addr(bob.pkh)}`);
    assert.equal(bobMem.mempool_stats.tx_count, 1);
    assert.equal(bobMem.mempool_stats.funded_txo_sum, 50 * 1e8 - 1000);
    const again = await get(base, '/api/tx', { method: 'POST', body: toHex(encodeTx(transfer(coinbaseCoin(a[0]!), carol, 2000n))) });
    assert.equal(again.status, 400);
    assert.match(again.text, /txn-mempool-conflict/);

    // Mined in block 9 of branch A.
    const [a9] = miner.mine(1, alice.pkh, { txs: [pay] });
    await waitHeight(run.ex, 9);
    const a9hash = hashToHex(txid(a9!.txs[0]!)) && miner.tip.hashHex.match(/../g)!.reverse().join('');
    const st = await getJson(base, `/api/tx/${id}/status`);
    assert.deepEqual({ ...st, block_time: 0 }, { confirmed: true, block_height: 9, block_hash: a9hash, block_time: 0 });
    assert.deepEqual(await getJson(base, '/api/mempool/txids'), []);
    const proof = await getJson(base, `/api/tx/${id}/merkle-proof`);
    assert.equal(proof.block_height, 9);
    let h = hexToHash(id);
    proof.merkle.forEach((sib: string, i: number) => {
      const s = hexToHash(sib);
      const both = new Uint8Array(64);
      const left = (proof.pos >> i) & 1 ? s : h;
      both.set(left, 0);
      both.set(left === s ? h : s, 32);
      h = sha256d(both);
    });
    assert.equal(hashToHex(h), (await getJson(base, `/api/block/${a9hash}`)).merkle_root);
    const cbId = hashToHex(txid(a[0]!.txs[0]!));
    const os = await getJson(base, `/api/tx/${cbId}/outspend/0`);
    assert.equal(os.spent, true);
    assert.equal(os.txid, id);
    assert.equal(os.status.block_height, 9);
    const bobChain = await getJson(base, `/api/address/${addr(bob.pkh)}`);
    assert.deepEqual(bobChain.chain_stats, {
      funded_txo_count: 1,
      funded_txo_sum: 50 * 1e8 - 1000,
      spent_txo_count: 0,
      spent_txo_sum: 0,
      tx_count: 1,
    });
    assert.deepEqual(
      (await getJson(base, `/api/address/${addr(bob.pkh)}/utxo`)).map((u: any) => [u.txid, u.vout, u.value]),
      [[id, 0, 50 * 1e8 - 1000]],
    );
    const aliceStats = (await getJson(base, `/api/address/${addr(alice.pkh)}`)).chain_stats;
    assert.equal(aliceStats.funded_txo_count, 9);
    assert.equal(aliceStats.spent_txo_count, 1);

    // Branch B from block 8, two blocks without the payment: a reorganisation.
    miner.mine(2, carol.pkh, { parent: miner.chain.atHeight(8)! });
    await waitFor(
      () => run.ex.chain.tip.hashHex === miner.tip.hashHex || undefined,
      20_000,
      () => `explorer at ${run.ex.chain.height}`,
    );
    const reorgs = await getJson(base, '/api/mvb/reorgs');
    assert.equal(reorgs.length, 1);
    assert.deepEqual(reorgs[0].disconnected, [{ hash: a9hash, height: 9 }]);
    assert.equal(reorgs[0].forkHeight, 8);
    assert.equal(reorgs[0].connected.length, 2);
    const a9status = await getJson(base, `/api/block/${a9hash}/status`);
    assert.deepEqual(a9status, { in_best_chain: false, height: 9, next_best: null });
    const tree = await getJson(base, '/api/mvb/tree?last=5');
    const stale = tree.blocks.filter((b: any) => !b.active);
    assert.deepEqual(
      stale.map((b: any) => b.hash),
      [a9hash],
    );
    assert.equal(tree.blocks.filter((b: any) => b.active).length, 5);
    assert.equal((await getJson(base, '/api/mvb/summary')).staleBlocks, 1);
    // The payment is back in the mempool, bob's confirmed history is empty again.
    assert.deepEqual(await getJson(base, '/api/mempool/txids'), [id]);
    assert.deepEqual(await getJson(base, `/api/tx/${id}/status`), { confirmed: false });
    assert.deepEqual((await getJson(base, `/api/address/${addr(bob.pkh)}`)).chain_stats.tx_count, 0);
    // As electrs counts them: the pool's output to bob is an unspent output, unconfirmed.
    assert.deepEqual(await getJson(base, `/api/address/${addr(bob.pkh)}/utxo`), [
      { txid: id, vout: 0, status: { confirmed: false }, value: 50 * 1e8 - 1000 },
    ]);
    assert.equal((await getJson(base, `/api/tx/${cbId}/outspend/0`)).status.confirmed, false);
    assert.deepEqual((await getJson(base, `/api/tx/${cbId}/outspends`))[0], {
      spent: true,
      txid: id,
      vin: 0,
      status: { confirmed: false },
    });
    assert.equal((await getJson(base, `/api/address/${addr(alice.pkh)}`)).chain_stats.funded_txo_count, 8);

    // Mined again on branch B.
    miner.mine(1, carol.pkh, { txs: [pay] });
    await waitHeight(run.ex, 11);
    assert.equal((await getJson(base, `/api/tx/${id}/status`)).block_height, 11);
    const txs = await getJson(base, `/api/address/${addr(bob.pkh)}/txs`);
    assert.deepEqual(
      txs.map((t: any) => t.txid),
      [id],
    );
    assert.equal(txs[0].fee, 1000);
    assert.equal(txs[0].vin[0].prevout.scriptpubkey_address, addr(alice.pkh));
  });

  it('answers Esplora’s block and transaction paths with the chain’s real bytes', async () => {
    const tip = run.ex.chain.tip;
    const tipHash = hashToHex(tip.hash);
    const blocks = await getJson(base, '/api/blocks');
    assert.equal(blocks.length, 10);
    assert.deepEqual(
      blocks.map((b: any) => b.height),
      [11, 10, 9, 8, 7, 6, 5, 4, 3, 2],
    );
    for (const k of [
      'id',
      'height',
      'version',
      'timestamp',
      'tx_count',
      'size',
      'weight',
      'merkle_root',
      'previousblockhash',
      'mediantime',
      'nonce',
      'bits',
      'difficulty',
    ])
      assert.ok(k in blocks[0], k);
    assert.deepEqual(
      (await getJson(base, '/api/blocks/3')).map((b: any) => b.height),
      [3, 2, 1, 0],
    );
    assert.equal((await get(base, '/api/block-height/0')).text, hashToHex(run.ex.settings.params.genesisHash));
    assert.equal((await get(base, '/api/block-height/99')).status, 404);
    const raw = new Uint8Array(await (await fetch(`${base}/api/block/${tipHash}/raw`)).arrayBuffer());
    const block = decodeBlock(raw);
    assert.equal(blocks[0].size, blockSize(block));
    assert.equal((await get(base, `/api/block/${tipHash}/header`)).text, toHex(raw.subarray(0, 80)));
    const ids = await getJson(base, `/api/block/${tipHash}/txids`);
    assert.deepEqual(
      ids,
      block.txs.map((t) => hashToHex(txid(t))),
    );
    assert.equal((await get(base, `/api/block/${tipHash}/txid/1`)).text, ids[1]);
    const btxs = await getJson(base, `/api/block/${tipHash}/txs`);
    assert.equal(btxs.length, 2);
    assert.equal(btxs[0].vin[0].is_coinbase, true);
    assert.equal((await get(base, `/api/block/${tipHash}/txs/1`)).status, 400);
    const hex = (await get(base, `/api/tx/${ids[1]}/hex`)).text;
    assert.equal(hashToHex(txid(decodeTx(fromHex(hex)))), ids[1]);
    const outs = await getJson(base, `/api/tx/${ids[1]}/outspends`);
    assert.deepEqual(outs, [{ spent: false }]);
    // The payment waited one block each time it was mined: the history's estimate for every target is its fee rate.
    const fee = await getJson(base, '/api/fee-estimates');
    const payRate = 1000 / (await getJson(base, `/api/tx/${ids[1]}`)).size;
    assert.equal(fee['1'], Math.max(payRate, run.ex.settings.minRelayFeeRate));
    assert.ok('144' in fee && '1008' in fee);
    assert.deepEqual(await getJson(base, '/api/mempool'), { count: 0, vsize: 0, total_fee: 0, fee_histogram: [] });
  });

  it('annotates a transaction byte by byte (DER r, s, hash type, public key) and gives its sighash preimage', async () => {
    const ids = await getJson(base, `/api/block/${hashToHex(run.ex.chain.tip.hash)}/txids`);
    const a = await getJson(base, `/api/mvb/tx/${ids[1]}`);
    const raw = fromHex(a.hex);
    let at = 0;
    for (const f of a.fields) {
      assert.equal(f.start, at, `${f.name} starts where the previous field ended`);
      assert.ok(f.end > f.start && f.meaning && f.value !== undefined, f.name);
      at = f.end;
    }
    assert.equal(at, raw.length);
    const names = a.fields.map((f: any) => f.name);
    for (const n of [
      'version',
      'vin[0].prevTxid',
      'vin[0].vout',
      'vin[0].scriptSig.sig.der.r',
      'vin[0].scriptSig.sig.der.s',
      'vin[0].scriptSig.sig.hashType',
      'vin[0].scriptSig.pubkey',
      'vin[0].sequence',
      'vout[0].value',
      'vout[0].scriptPubKey',
      'locktime',
    ])
      assert.ok(names.includes(n), n);
    const tx = decodeTx(raw);
    assert.equal(a.sighash[0].sighash, toHex(legacySighash(tx, 0, p2pkhScript(alice.pkh), 1)));
    assert.equal(a.confirmations, 1);
    assert.equal(a.tx.fee, 1000);
    const b = await getJson(base, `/api/mvb/block/${hashToHex(run.ex.chain.tip.hash)}`);
    assert.deepEqual(
      b.fields.map((f: any) => [f.name, f.start, f.end]),
      [
        ['version', 0, 4],
        ['prevHash', 4, 36],
        ['merkleRoot', 36, 68],
        ['time', 68, 72],
        ['bits', 72, 76],
        ['nonce', 76, 80],
      ],
    );
    assert.deepEqual(b.merkle[0], ids);
    assert.deepEqual(b.merkle[b.merkle.length - 1], [b.block.merkle_root]);
    assert.ok(b.pow.log2Hash <= b.pow.log2Target && b.pow.log2Target <= b.pow.log2PowLimit);
    assert.deepEqual(await getJson(base, `/api/mvb/search/${ids[1]}`), { type: 'tx', id: ids[1] });
    assert.deepEqual(await getJson(base, '/api/mvb/search/0'), { type: 'block', id: hashToHex(run.ex.settings.params.genesisHash) });
    assert.deepEqual(await getJson(base, `/api/mvb/search/${addr(bob.pkh)}`), { type: 'address', id: addr(bob.pkh) });
    const miners = await getJson(base, '/api/mvb/miners');
    assert.equal(miners.length, 1);
    assert.equal(miners[0].height, 11);
  });

  it('builds its indexes when started on a chain that has none (a miner’s copied chain)', async () => {
    const dir = tempDir('explorer-copied');
    const store = new LmdbChainStore(join(dir, 'chain'), 'test');
    const chain = new Chain(run.ex.settings.params, store);
    for (let h = 1; h <= miner.chain.height; h++)
      chain.processBlock(miner.chain.getBlock(miner.chain.atHeight(h)!.hash)!, Math.floor(Date.now() / 1000));
    store.close();
    const other = await startExplorer(run.ex.settings, dir);
    try {
      const bobSh = hashToHex(sha256(p2pkhScript(bob.pkh)));
      for (const p of [
        `/api/address/${addr(bob.pkh)}`,
        `/api/address/${addr(alice.pkh)}/utxo`,
        `/api/address/${addr(carol.pkh)}/txs`,
        `/api/scripthash/${bobSh}/txs`,
        `/api/address-prefix/${addr(bob.pkh).slice(0, 3)}`,
      ]) {
        assert.deepEqual(await getJson(other.url, p), await getJson(base, p), p);
      }
    } finally {
      await other.stop();
      removeDir(dir);
    }
  });

  it('keeps its indexes across a restart on the same datadir', async () => {
    const dir = run.dir;
    const before = await getJson(base, `/api/address/${addr(bob.pkh)}/txs`);
    const reorgs = await getJson(base, '/api/mvb/reorgs');
    await run.http.close();
    await run.ex.stop();
    run = await startExplorer(settingsOf(sets), dir);
    base = run.url;
    try {
      assert.equal((await get(base, '/api/blocks/tip/height')).text, '11');
      assert.deepEqual(await getJson(base, `/api/address/${addr(bob.pkh)}/txs`), before);
      assert.deepEqual(await getJson(base, '/api/mvb/reorgs'), reorgs);
    } finally {
      await run.stop();
      removeDir(dir);
      run = undefined as unknown as RunningExplorer;
    }
  });
});
