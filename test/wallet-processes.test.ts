// The wallet as separate processes share one data directory: `sync` holds the lock while
// short-lived commands (list-addresses, send, status) still work beside it, concurrent sends
// never pick the same coin, a payment is stored before it is broadcast, and a killed sync loses
// nothing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { decodeAddress } from '../src/shared/core/address.js';
import { hashToHex } from '../src/shared/core/bytes.js';
import { decodeTx, txid } from '../src/shared/core/tx.js';
import { outpointKey } from '../src/shared/core/outpoint.js';
import { WalletDb } from '../src/wallet/db/index.js';
import { WALLET_BIN, removeDir, setArgs, stopProc, tempDir, waitFor } from './kit/procs.js';
import { Capture, TestMiner, testNetSets, wallet, walletProcess } from './kit/wallet-net.js';
import { track } from './kit/processes.js';

const MINER_PKH = new Uint8Array(20).fill(9);

describe('wallet processes sharing a data directory', function () {
  this.timeout(60_000);
  let sets: Record<string, unknown>;
  let miner: TestMiner;
  let dir: string;
  const w = (args: string[], env: NodeJS.ProcessEnv = {}) => wallet(dir, sets, args, { env });

  beforeEach(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    dir = tempDir('wallet-procs');
  });
  afterEach(async () => {
    await miner.stop();
    removeDir(dir);
  });

  async function newAddress(name: string): Promise<Uint8Array> {
    const r = await w(['new-address', name, '--json']);
    assert.equal(r.code, 0, r.err);
    return decodeAddress((JSON.parse(r.out) as { address: string }).address).hash160;
  }

  it('sync runs while list-addresses, send and status run as other processes; it rebroadcasts and reports the confirmation', async () => {
    const alice = await newAddress('alice');
    await newAddress('bob');
    miner.mine(3, alice);
    miner.mine(5, MINER_PKH);
    const cap = new Capture();
    const ac = new AbortController();
    const running = wallet(dir, sets, ['sync'], { capture: cap, signal: ac.signal });
    try {
      await cap.waitLine(/^block 8 /);
      const list = await walletProcess(dir, sets, ['list-addresses', '--json']);
      assert.equal(list.code, 0, list.err);
      assert.equal((JSON.parse(list.out) as { balance: string }[])[0]!.balance, '150.00000000');
      const text = await walletProcess(dir, sets, ['list-addresses']);
      assert.match(text.out, /chain: height 8 of 8 heard from 1 miner .*synced.*\(sync running, pid \d+\)/);

      const second = await walletProcess(dir, sets, ['sync', '--once']);
      assert.equal(second.code, 1);
      assert.match(second.err, /^error: .* is in use by another mvb-wallet sync \(pid \d+\)/);

      const sent = await walletProcess(dir, sets, ['send', 'alice', '12.5', 'bob']);
      assert.equal(sent.code, 0, sent.err);
      const id = sent.out.trim();
      assert.match(sent.err, /the wallet's sync \(pid \d+\) rebroadcasts it until it is mined/);
      await cap.waitLine(new RegExp(`^broadcasting pending payment ${id}$`));
      const tx = await miner.waitTx(id);
      miner.txs.splice(0);
      assert.equal(hashToHex(txid(await miner.waitTx(id))), id, 'rebroadcast by sync');

      miner.mine(1, MINER_PKH, { txs: [tx] });
      await cap.waitLine(new RegExp(`^confirmed payment ${id} in block 9 `));
      const st = await walletProcess(dir, sets, ['status', id, '--json']);
      assert.equal(st.code, 0, st.err);
      assert.equal((JSON.parse(st.out) as { status: string }).status, 'confirmed');
      const after = await walletProcess(dir, sets, ['list-addresses', '--json']);
      assert.deepEqual(
        (JSON.parse(after.out) as { name: string; pending: string }[]).map((r) => r.pending),
        ['0.00000000', '0.00000000'],
      );
    } finally {
      ac.abort();
    }
    assert.equal((await running).code, 0);
    assert.match(cap.out, /stopped at height 9$/);
  });

  it('concurrent send processes never spend the same coin, and each payment is stored before it is broadcast', async () => {
    const alice = await newAddress('alice');
    await newAddress('bob');
    miner.mine(3, alice); // three coins of 50
    miner.mine(5, MINER_PKH);
    assert.equal((await w(['sync', '--once'])).code, 0);
    const storedWhenHeard = new Map<string, string | undefined>();
    miner.node.on('tx', (raw) => {
      const id = hashToHex(txid(decodeTx(raw)));
      const db = WalletDb.openShared(join(dir, 'chain'));
      try {
        storedWhenHeard.set(id, db.payment(id)?.status);
      } finally {
        db.close();
      }
    });
    const results = await Promise.all([0, 1, 2, 3].map(() => walletProcess(dir, sets, ['send', 'alice', '40', 'bob'])));
    const ok = results.filter((r) => r.code === 0);
    const refused = results.filter((r) => r.code !== 0);
    assert.equal(ok.length, 3, results.map((r) => r.err).join('\n'));
    assert.equal(refused.length, 1);
    assert.match(
      refused[0]!.err,
      /^error: insufficient funds: alice has 0\.00000000 spendable, 150\.00000000 more held by pending payments/,
    );
    const txs = await Promise.all(ok.map((r) => miner.waitTx(r.out.trim())));
    const inputs = txs.flatMap((t) => t.inputs.map((i) => outpointKey(i.prevTxid, i.vout)));
    assert.equal(new Set(inputs).size, inputs.length, 'no coin in two payments');
    for (const r of ok) assert.equal(storedWhenHeard.get(r.out.trim()), 'pending', 'in the store when it reached the network');
    // All three are mined together: the chain accepts them, so they really are disjoint.
    miner.mine(1, MINER_PKH, { txs });
    const s = await w(['sync', '--once', '--json']);
    assert.equal((JSON.parse(s.out) as { confirmed: string[] }).confirmed.length, 3);
  });

  it('a sync killed with SIGKILL keeps everything; the next one takes over its lock and resumes', async () => {
    const alice = await newAddress('alice');
    await newAddress('bob');
    miner.mine(3, alice);
    miner.mine(5, MINER_PKH);
    assert.equal((await w(['sync', '--once'])).code, 0);
    const id = (await w(['send', 'alice', '1', 'bob'])).out.trim();
    const tx = await miner.waitTx(id);
    miner.mine(1, MINER_PKH, { txs: [tx] });
    miner.mine(4, MINER_PKH);
    const child = track(
      spawn(process.execPath, [WALLET_BIN, 'sync', '--datadir', dir, '--network', 'devnet', ...setArgs(sets)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env['PATH'], NO_COLOR: '1' },
      }),
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(
      () => /confirmed payment/.test(out) && /block 13 /.test(out),
      20_000,
      () => out,
      exited,
    );
    await stopProc({ child, exited }, 'SIGKILL');
    const st = JSON.parse((await w(['status', id, '--json'])).out) as { status: string; height: number };
    assert.deepEqual([st.status, st.height], ['confirmed', 9]);
    miner.mine(1, MINER_PKH);
    const again = await w(['sync', '--once', '--json']);
    assert.equal(again.code, 0, again.err);
    assert.equal((JSON.parse(again.out) as { height: number }).height, 14);
    const rows = JSON.parse((await w(['list-addresses', '--json'])).out) as { name: string; balance: string }[];
    assert.equal(rows.find((r) => r.name === 'bob')!.balance, '1.00000000');
  });
});
