// End to end with a real miner process on the shipped devnet rules: the miner pays its rewards to
// a wallet address, the wallet follows the chain, pays another address once the reward matures,
// and sees the payment mined by the miner.
import assert from 'node:assert/strict';
import { LOOPBACK_BROADCAST, type MinerProc, netPorts, removeDir, startMiner, stopProc, tempDir } from './kit/procs.js';
import { Capture, wallet } from './kit/wallet-net.js';

describe('wallet with a real miner process (devnet rules)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  let miner: MinerProc | undefined;
  after(async () => {
    if (miner) await stopProc(miner);
    for (const d of dirs) removeDir(d);
  });

  it('mined rewards arrive, mature, and pay another address; the miner mines the payment', async () => {
    const ports = await netPorts();
    const sets = { broadcastAddress: LOOPBACK_BROADCAST, statusPort: ports.statusPort, transactionPort: ports.transactionPort };
    const dir = tempDir('wallet-e2e');
    const minerDir = tempDir('wallet-e2e-miner');
    dirs.push(dir, minerDir);
    const w = (args: string[], o: { capture?: Capture; signal?: AbortSignal } = {}) => wallet(dir, sets, args, o);
    const alice = JSON.parse((await w(['new-address', 'alice', '--json'])).out) as { address: string };
    const bob = JSON.parse((await w(['new-address', 'bob', '--json'])).out) as { address: string };
    miner = await startMiner({ ports, datadir: minerDir, args: ['--address', alice.address] });

    const cap = new Capture();
    const ac = new AbortController();
    const sync = w(['sync'], { capture: cap, signal: ac.signal });
    try {
      // The reward of block 1 can be spent in block 6 (devnet coinbaseMaturity 5).
      await cap.waitLine(/^block (\d{2,}|[6-9]) /, 90_000);
      const sent = await w(['send', 'alice', '1.25', bob.address]);
      assert.equal(sent.code, 0, sent.err);
      const id = sent.out.trim();
      await cap.waitLine(new RegExp(`^confirmed payment ${id} in block \\d+`), 60_000);
      const rows = JSON.parse((await w(['list-addresses', '--json'])).out) as { name: string; balance: string; pending: string }[];
      const b = rows.find((r) => r.name === 'bob')!;
      assert.deepEqual([b.balance, b.pending], ['1.25000000', '0.00000000']);
      assert.equal(rows.find((r) => r.name === 'alice')!.pending, '0.00000000');
      const st = JSON.parse((await w(['status', id, '--json'])).out) as { status: string; confirmations: number };
      assert.equal(st.status, 'confirmed');
      assert.ok(st.confirmations >= 1);
    } finally {
      ac.abort();
    }
    assert.equal((await sync).code, 0);
    assert.match(cap.out, /received 50\.00000000 on alice in block 1 \(mined reward\)/);
  });
});
