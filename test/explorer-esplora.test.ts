// The Esplora paths electrs serves beyond the address family, and mempool.space's /api/v1 ones, on
// a live loopback network: a descriptor-style client that knows only scriptPubKeys finds its
// history and coins by scripthash; a package posted whole; a merkleblock proof decoded here (BIP37,
// independently of the explorer's code) whose partial tree must give the header's Merkle root;
// electrs's status codes; fee estimates with no data and then from blocks; pools by coinbase tag.
import assert from 'node:assert/strict';
import { encodeAddress } from '../src/shared/core/address.js';
import { fromHex, hashToHex, toHex } from '../src/shared/core/bytes.js';
import { sha256 } from '../src/shared/core/hash.js';
import { p2pkhScript } from '../src/shared/core/script.js';
import { type Tx, encodeTx, txid } from '../src/shared/core/tx.js';
import { type Key, type Spendable, alice, bob, carol, coinOf, coinbaseCoin, key, pay, spend, transfer } from './kit/blockgen.js';
import { decodeMerkleBlock } from './kit/merkleblock.js';
import { type RunningExplorer, get, getJson, startExplorer, waitHeight } from './kit/explorer.js';
import { TestMiner, settingsOf, testNetSets } from './kit/wallet-net.js';

/** What a descriptor wallet knows: the scriptPubKey; Esplora's name for it: SHA-256, reversed hex. */
const scripthashOf = (spk: Uint8Array) => hashToHex(sha256(spk));
const hex = (tx: Tx) => toHex(encodeTx(tx));
const idOf = (tx: Tx) => hashToHex(txid(tx));

describe('explorer: scripthash, merkleblock, package, status codes and mempool.space paths', function () {
  this.timeout(60_000);
  let miner: TestMiner;
  let run: RunningExplorer;
  let base: string;
  let addr: (k: Key) => string;
  const coins: Spendable[] = [];
  let pkgBlockHash = '';
  let pkg: Tx[] = [];

  before(async () => {
    const sets = await testNetSets();
    miner = await TestMiner.start(sets);
    run = await startExplorer(settingsOf(sets));
    base = run.url;
    addr = (k) => encodeAddress(k.pkh, run.ex.settings.params.addressVersion);
  });
  after(async () => {
    await run?.stop();
    await miner?.stop();
  });

  it('says it has no fee data on an empty chain and pool, rather than answering the floor', async () => {
    assert.deepEqual(await getJson(base, '/api/fee-estimates'), {});
    const d = await getJson(base, '/api/mvb/fee-estimates');
    assert.equal(d.samples, 0);
    assert.ok(d.estimates.every((e: any) => e.basis === 'none' && e.feeRate === undefined));
    const rec = await getJson(base, '/api/v1/fees/recommended');
    const floor = Math.ceil(run.ex.settings.minRelayFeeRate);
    assert.deepEqual(rec, { fastestFee: floor, halfHourFee: floor, hourFee: floor, economyFee: floor, minimumFee: floor });
  });

  it('takes a package whole (Core’s rules first), and refuses malformed ones with Core’s reason', async () => {
    for (const b of miner.mine(6, alice.pkh, { tag: 'PoolA' })) coins.push(coinbaseCoin(b));
    miner.mine(2, carol.pkh, { tag: 'PoolB' });
    miner.mine(1, carol.pkh, { tag: '' });
    await waitHeight(run.ex, 9);
    const parent = spend([coins[0]!], [pay(bob, 20n * 100_000_000n), pay(alice, 30n * 100_000_000n - 5000n)]);
    const child = transfer(coinOf(parent, 0, bob), carol, 3000n);
    const post = (body: string) => get(base, '/api/txs/package', { method: 'POST', body });
    const cases: [string, RegExp][] = [
      ['not json', /invalid JSON body/],
      ['{}', /JSON array of 1 to 25/],
      ['[]', /JSON array of 1 to 25/],
      [JSON.stringify(Array(26).fill(hex(parent))), /JSON array of 1 to 25/],
      [JSON.stringify(['zz']), /TX decode failed: package entry 0/],
      [JSON.stringify(['00']), /TX decode failed: package entry 0/],
      [JSON.stringify([hex(child), hex(parent)]), /package-not-sorted/],
      [JSON.stringify([hex(parent), hex(parent)]), /package-contains-duplicates/],
      [JSON.stringify([hex(transfer(coins[1]!, bob, 1000n)), hex(child)]), /package-not-child-with-parents/],
      [JSON.stringify([hex(transfer(coins[1]!, bob, 1000n)), hex(transfer(coins[1]!, carol, 1000n))]), /conflict-in-package/],
      [JSON.stringify([hex(transfer({ ...coins[1]!, txid: new Uint8Array(32).fill(7) }, bob, 1000n))]), /bad-txns-inputs-missingorspent/],
    ];
    for (const [body, why] of cases) {
      const r = await post(body);
      assert.equal(r.status, 400, `${body.slice(0, 40)}: ${r.text}`);
      assert.match(r.text, why);
      assert.equal(r.text.trim().split('\n').length, 1);
    }
    assert.equal(run.ex.mempool.size, 0, 'nothing refused entered the pool');
    const ok = await post(JSON.stringify([hex(parent), hex(child)]));
    assert.equal(ok.status, 200, ok.text);
    const res = JSON.parse(ok.text);
    assert.equal(res.package_msg, 'success');
    assert.deepEqual(Object.keys(res['tx-results']).sort(), [idOf(parent), idOf(child)].sort());
    assert.equal(res['tx-results'][idOf(child)].fees.base, 3000 / 1e8);
    await miner.waitTx(idOf(child)); // broadcast like a single posted transaction
    pkg = [parent, child];

    // The child's CPFP cluster and the pool as mempool.space's projected blocks.
    const cp = await getJson(base, `/api/v1/cpfp/${idOf(child)}`);
    assert.deepEqual(cp.ancestors, [{ txid: idOf(parent), fee: 5000, weight: encodeTx(parent).length * 4 }]);
    assert.deepEqual(cp.descendants, []);
    const cpParent = await getJson(base, `/api/v1/cpfp/${idOf(parent)}`);
    assert.deepEqual(
      cpParent.descendants.map((d: any) => d.txid),
      [idOf(child)],
    );
    assert.equal(typeof cpParent.effectiveFeePerVsize, 'number');
    const mb = await getJson(base, '/api/v1/fees/mempool-blocks');
    assert.equal(mb.length, 1);
    assert.deepEqual(Object.keys(mb[0]).sort(), ['blockSize', 'blockVSize', 'feeRange', 'medianFee', 'nTx', 'totalFees']);
    assert.equal(mb[0].nTx, 2);
    assert.equal(mb[0].totalFees, 8000);
  });

  it('serves a descriptor-style client that knows only scriptPubKeys: history and coins by scripthash, pool and chain', async () => {
    const bobSh = scripthashOf(p2pkhScript(bob.pkh));
    const carolSh = scripthashOf(p2pkhScript(carol.pkh));
    const unusedSh = scripthashOf(p2pkhScript(key(99).pkh));
    // In the pool: bob was paid by the parent and spent it in the child.
    const mem = await getJson(base, `/api/scripthash/${bobSh}`);
    assert.equal(mem.scripthash, bobSh);
    assert.deepEqual(mem.mempool_stats, {
      funded_txo_count: 1,
      funded_txo_sum: 20 * 1e8,
      spent_txo_count: 1,
      spent_txo_sum: 20 * 1e8,
      tx_count: 2,
    });
    assert.deepEqual(
      (await getJson(base, `/api/scripthash/${carolSh}/txs/mempool`)).map((t: any) => t.txid),
      [idOf(pkg[1]!)],
    );
    assert.deepEqual(await getJson(base, `/api/scripthash/${bobSh}/utxo`), [], 'bob’s pool coin is spent in the pool');

    // Mined with four more payments: seven transactions, so the merkleblock below has a real tree.
    const more = [1, 2, 3, 4].map((i) => transfer(coins[i]!, i % 2 ? bob : carol, 1000n * BigInt(i)));
    const [blk] = miner.mine(1, alice.pkh, { txs: [...pkg, ...more], tag: 'PoolA' });
    await waitHeight(run.ex, 10);
    pkgBlockHash = (await get(base, '/api/blocks/tip/hash')).text;
    assert.equal((await getJson(base, `/api/block/${pkgBlockHash}/txids`))[0], idOf(blk!.txs[0]!));
    for (const [k, sh] of [
      [bob, bobSh],
      [carol, carolSh],
    ] as const) {
      const byAddr = await getJson(base, `/api/address/${addr(k)}`);
      const bySh = await getJson(base, `/api/scripthash/${sh}`);
      assert.deepEqual([bySh.chain_stats, bySh.mempool_stats], [byAddr.chain_stats, byAddr.mempool_stats]);
      for (const tail of ['/txs', '/txs/chain', '/txs/mempool', '/utxo'])
        assert.deepEqual(await getJson(base, `/api/scripthash/${sh}${tail}`), await getJson(base, `/api/address/${addr(k)}${tail}`), tail);
    }
    const bobTxs = (await getJson(base, `/api/scripthash/${bobSh}/txs`)).map((t: any) => t.txid);
    assert.deepEqual(bobTxs.slice().sort(), [idOf(pkg[0]!), idOf(pkg[1]!), idOf(more[0]!), idOf(more[2]!)].sort());
    const bobUtxo = await getJson(base, `/api/scripthash/${bobSh}/utxo`);
    assert.deepEqual(bobUtxo.map((u: any) => u.txid).sort(), [idOf(more[0]!), idOf(more[2]!)].sort());
    assert.ok(bobUtxo.every((u: any) => u.status.confirmed && u.status.block_height === 10));
    // Paging the chain history after a txid of it; one not in it is 404.
    const first = await getJson(base, `/api/scripthash/${bobSh}/txs/chain`);
    assert.deepEqual(
      (await getJson(base, `/api/scripthash/${bobSh}/txs/chain/${first[1].txid}`)).map((t: any) => t.txid),
      first.slice(2).map((t: any) => t.txid),
    );
    assert.equal((await get(base, `/api/scripthash/${bobSh}/txs/chain/${'ab'.repeat(32)}`)).status, 404);
    // Indexes built before the names were (an older datadir): named in one pass, the same answers.
    const before = await getJson(base, `/api/scripthash/${bobSh}/txs`);
    run.ex.indexes.names.clearSync();
    run.ex.indexes.meta.removeSync('namesIndexed');
    assert.equal((await getJson(base, `/api/scripthash/${bobSh}`)).chain_stats.tx_count, 0);
    assert.equal(run.ex.indexes.nameIfUnnamed(), 3, 'alice, bob and carol (the genesis block is not indexed)');
    assert.deepEqual(await getJson(base, `/api/scripthash/${bobSh}/txs`), before);
    // A script the chain never paid: zeros and empty lists, as electrs answers.
    const none = await getJson(base, `/api/scripthash/${unusedSh}`);
    assert.equal(none.chain_stats.tx_count + none.mempool_stats.tx_count, 0);
    for (const tail of ['/txs', '/txs/chain', '/txs/mempool', '/utxo'])
      assert.deepEqual(await getJson(base, `/api/scripthash/${unusedSh}${tail}`), []);
    assert.equal((await get(base, `/api/scripthash/${unusedSh}/txs/chain/${'ab'.repeat(32)}`)).status, 404);
  });

  it('proves each transaction of a block with a BIP37 merkleblock whose partial tree gives the header’s Merkle root', async () => {
    const ids: string[] = await getJson(base, `/api/block/${pkgBlockHash}/txids`);
    assert.equal(ids.length, 7);
    for (const id of ids) {
      const r = await get(base, `/api/tx/${id}/merkleblock-proof`);
      assert.equal(r.status, 200);
      assert.match(r.type, /^text\/plain/);
      const mb = decodeMerkleBlock(fromHex(r.text));
      assert.equal(hashToHex(mb.root), hashToHex(mb.header!.merkleRoot), id);
      assert.equal(hashToHex(mb.root), (await getJson(base, `/api/block/${pkgBlockHash}`)).merkle_root);
      assert.deepEqual(mb.matched, [id]);
      assert.equal(r.text.slice(0, 160), (await get(base, `/api/block/${pkgBlockHash}/header`)).text);
    }
    // A block of its coinbase alone: the tree is one leaf, the root the coinbase's txid.
    const h1 = (await get(base, '/api/block-height/1')).text;
    const cb1: string = (await getJson(base, `/api/block/${h1}/txids`))[0];
    const single = decodeMerkleBlock(fromHex((await get(base, `/api/tx/${cb1}/merkleblock-proof`)).text));
    assert.equal(hashToHex(single.root), cb1);
    assert.deepEqual(single.matched, [cb1]);
    // Unconfirmed: 404, as electrs.
    const pending = transfer(coins[5]!, bob, 1000n);
    assert.equal((await get(base, '/api/tx', { method: 'POST', body: hex(pending) })).status, 200);
    assert.equal((await get(base, `/api/tx/${idOf(pending)}/merkleblock-proof`)).status, 404);
    assert.equal((await get(base, `/api/tx/${'ab'.repeat(32)}/merkleblock-proof`)).status, 404);
  });

  it('answers with electrs’s status codes: unknown status and outspends 200, indexes out of range 404', async () => {
    const unknown = 'ab'.repeat(32);
    const ids: string[] = await getJson(base, `/api/block/${pkgBlockHash}/txids`);
    assert.deepEqual(await getJson(base, `/api/tx/${unknown}/status`), { confirmed: false });
    assert.deepEqual(await getJson(base, `/api/tx/${ids[1]}/outspend/99`), { spent: false });
    assert.deepEqual(await getJson(base, `/api/tx/${unknown}/outspend/0`), { spent: false });
    assert.equal((await get(base, `/api/block/${pkgBlockHash}/txid/7`)).status, 404);
    assert.equal((await get(base, `/api/block/${pkgBlockHash}/txid/6`)).text, ids[6]);
    assert.equal((await get(base, `/api/block/${pkgBlockHash}/txs/25`)).status, 404);
    assert.equal((await get(base, `/api/block/${pkgBlockHash}/txs/3`)).status, 400);
    assert.equal((await get(base, `/api/tx/zz/status`)).status, 400);
  });

  it('finds addresses by prefix, bounded; refuses a prefix outside Base58', async () => {
    const a = addr(bob);
    assert.ok((await getJson(base, `/api/address-prefix/${a.slice(0, 6)}`)).includes(a));
    assert.deepEqual(await getJson(base, `/api/address-prefix/${a}`), [a]);
    const one = await getJson(base, `/api/address-prefix/${a[0]}`);
    assert.ok(one.length >= 3 && one.length <= 10, `${one.length} addresses`);
    assert.deepEqual(one, one.slice().sort());
    for (const p of ['0', 'O', 'l', 'I', '%20', 'x'.repeat(35)]) assert.equal((await get(base, `/api/address-prefix/${p}`)).status, 400, p);
  });

  it('estimates fees from what the blocks took (the package waited one block), in /fee-estimates and /api/v1/fees/recommended', async () => {
    const est = await getJson(base, '/api/fee-estimates');
    const d = await getJson(base, '/api/mvb/fee-estimates');
    assert.equal(d.samples, 2, 'the package, seen in the pool and mined a block later (the other payments were never in the pool)');
    assert.equal(d.estimates[0].basis, 'history+mempool');
    // Both were mined within one block: the lower of their fee rates is the estimate for every target (the pool's block has room).
    const lowest = Math.min(5000 / encodeTx(pkg[0]!).length, 3000 / encodeTx(pkg[1]!).length);
    assert.equal(est['1'], Math.max(lowest, run.ex.settings.minRelayFeeRate));
    assert.ok(est['1'] >= run.ex.settings.minRelayFeeRate);
    assert.equal(est['1008'], est['1']);
    const rec = await getJson(base, '/api/v1/fees/recommended');
    for (const k of ['fastestFee', 'halfHourFee', 'hourFee', 'economyFee', 'minimumFee']) assert.ok(Number.isInteger(rec[k]), k);
    assert.ok(
      rec.fastestFee >= rec.halfHourFee &&
        rec.halfHourFee >= rec.hourFee &&
        rec.hourFee >= rec.economyFee &&
        rec.economyFee >= rec.minimumFee,
    );
    assert.equal(rec.fastestFee, Math.ceil(est['1']));
  });

  it('serves mempool.space’s blocks with fee statistics and pool, the difficulty period and the pools by tag', async () => {
    const b = await getJson(base, `/api/v1/block/${pkgBlockHash}`);
    const esplora = await getJson(base, `/api/block/${pkgBlockHash}`);
    for (const [k, v] of Object.entries(esplora)) assert.deepEqual(b[k], v, k);
    assert.equal(b.stale, false);
    assert.equal(b.extras.pool.name, 'PoolA');
    assert.equal(b.extras.totalFees, 5000 + 3000 + 1000 + 2000 + 3000 + 4000);
    // The test miner claims the subsidy only (a miner may leave fees unclaimed): the reward is what the coinbase pays.
    assert.equal(b.extras.reward, b.extras.subsidy);
    assert.equal(b.extras.totalInputs, 6);
    assert.equal(b.extras.header, (await get(base, `/api/block/${pkgBlockHash}/header`)).text);
    assert.equal(b.extras.feeRange.length, 7);
    assert.equal(b.extras.coinbaseAddress, addr(alice));
    assert.equal((await get(base, `/api/v1/block/${'ab'.repeat(32)}`)).status, 404);
    assert.equal((await get(base, '/api/v1/block/zz')).status, 400);
    const list = await getJson(base, '/api/v1/blocks');
    assert.deepEqual(
      list.map((x: any) => x.height),
      [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    );
    assert.deepEqual(
      (await getJson(base, '/api/v1/blocks/2')).map((x: any) => x.height),
      [2, 1, 0],
    );
    assert.equal((await get(base, '/api/v1/blocks/-1')).status, 400);

    const da = await getJson(base, '/api/v1/difficulty-adjustment');
    const interval = run.ex.settings.params.retargetInterval;
    assert.equal(da.remainingBlocks + (10 % interval), interval);
    assert.equal(da.nextRetargetHeight % interval, 0);
    for (const k of [
      'progressPercent',
      'difficultyChange',
      'estimatedRetargetDate',
      'remainingTime',
      'previousRetarget',
      'timeAvg',
      'expectedBlocks',
    ])
      assert.equal(typeof da[k], 'number', k);

    // Six PoolA blocks, then the package's; two PoolB; one with no printable tag.
    const pools = await getJson(base, '/api/v1/mining/pools/all');
    assert.equal(pools.blockCount, 10);
    assert.deepEqual(
      pools.pools.map((p: any) => [p.name, p.blockCount, p.rank]),
      [
        ['PoolA', 7, 1],
        ['PoolB', 2, 2],
        ['Unknown', 1, 3],
      ],
    );
    assert.equal(pools.pools[0].slug, 'poola');
    assert.equal(pools.pools[0].emptyBlocks, 6);
    assert.deepEqual(await getJson(base, '/api/v1/mining/pools'), pools);
    assert.ok((await getJson(base, '/api/v1/mining/pools/24h')).blockCount <= 10);
    assert.equal((await get(base, '/api/v1/mining/pools/5y')).status, 400);
    assert.equal((await get(base, `/api/v1/cpfp/${'ab'.repeat(32)}`)).status, 404);
  });
});
