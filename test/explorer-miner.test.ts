// A transaction posted to the explorer's /api/tx reaches a real miner process (loopback, broadcast
// 127.255.255.255) over the transaction port, enters its mempool and is mined; the explorer then
// reports it confirmed in the block the miner announced.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { encodeAddress } from '../src/shared/core/address.js';
import { fromHex, toHex } from '../src/shared/core/bytes.js';
import { difficulty, formatDifficulty } from '../src/shared/core/pow.js';
import { decodeTx, encodeTx } from '../src/shared/core/tx.js';
import { alice, bob, coinOf, transfer } from './kit/blockgen.js';
import { type RunningExplorer, get, getJson, startExplorer, waitHeight } from './kit/explorer.js';
import { type MinerProc, netPorts, removeDir, startMiner, stopProc, tempDir, testSettings, waitFor, waitForAsync } from './kit/procs.js';

describe('explorer with a real miner: POST /api/tx is broadcast, mined and shown confirmed', function () {
  this.timeout(90_000);
  let miner: MinerProc | undefined;
  let run: RunningExplorer | undefined;
  let dir: string;

  after(async () => {
    await run?.stop();
    if (miner) assert.equal(await stopProc(miner), 0);
    removeDir(dir);
  });

  it('a payment posted to the explorer is in the miner’s mempool, then in a block', async () => {
    const ports = await netPorts();
    const settings = testSettings(ports);
    dir = tempDir('explorer-miner');
    const aliceAddr = encodeAddress(alice.pkh, settings.params.addressVersion);
    run = await startExplorer(settings);
    miner = await startMiner({ ports, datadir: join(dir, 'miner'), args: ['--address', aliceAddr] });
    const maturity = settings.params.coinbaseMaturity;
    await waitHeight(run.ex, maturity + 1, 60_000);
    const base = run.url;
    const cbHash = (await get(base, '/api/block-height/1')).text;
    const cbTxid = (await getJson<string[]>(base, `/api/block/${cbHash}/txids`))[0]!;
    const cb = decodeTx(fromHex((await get(base, `/api/tx/${cbTxid}/hex`)).text));
    const pay = transfer(coinOf(cb, 0, alice), bob, 2000n);
    const r = await get(base, '/api/tx', { method: 'POST', body: toHex(encodeTx(pay)) });
    assert.equal(r.status, 200, r.text);
    const id = r.text;
    await waitFor(
      () => miner!.output().includes(`mempool +${id.slice(0, 16)}`) || undefined,
      20_000,
      () => `miner never took ${id}:\n${miner!.output()}`,
    );
    const st = await waitForAsync(
      async () => {
        const s = await getJson(base, `/api/tx/${id}/status`);
        return s.confirmed ? s : undefined;
      },
      60_000,
      () => `${id} not confirmed`,
    );
    assert.equal(st.confirmed, true);
    const block = await getJson(base, `/api/block/${st.block_hash}/txids`);
    assert.ok(block.includes(id));
    const bobStats = await getJson(base, `/api/address/${encodeAddress(bob.pkh, settings.params.addressVersion)}`);
    assert.equal(bobStats.chain_stats.funded_txo_sum, Number(cb.outputs[0]!.value) - 2000);
  });

  it('the miner’s status line and the explorer show the same difficulty for the same block', async () => {
    // A status line: "height N tip <16 hex>… difficulty D ..." (miner/miner.ts statusLine).
    const line = await waitFor(
      () => /height (\d+) tip ([0-9a-f]{16})… difficulty (\S+)/.exec(miner!.output()) ?? undefined,
      30_000,
      () => `no status line:\n${miner!.output()}`,
    );
    const [, height, tipPrefix, shown] = line;
    await waitHeight(run!.ex, Number(height), 30_000);
    const hash = (await get(run!.url, `/api/block-height/${height}`)).text;
    assert.ok(hash.startsWith(tipPrefix!), `block ${height}: explorer ${hash}, miner ${tipPrefix}`);
    const block = await getJson<{ difficulty: number; bits: number }>(run!.url, `/api/block/${hash}`);
    assert.equal(block.difficulty, difficulty(block.bits, testSettings(await netPorts()).params.powLimit));
    assert.equal(formatDifficulty(block.difficulty), shown);
  });

  it('names the real miner’s pool by its coinbase tag (its own push, before the extra nonce)', async () => {
    const pools = await getJson(run!.url, '/api/v1/mining/pools/all');
    assert.deepEqual(
      pools.pools.map((p: any) => [p.name, p.blockCount]),
      [['mvb', pools.blockCount]],
    );
    const tip = (await get(run!.url, '/api/blocks/tip/hash')).text;
    assert.equal((await getJson(run!.url, `/api/v1/block/${tip}`)).extras.pool.name, 'mvb');
  });
});
