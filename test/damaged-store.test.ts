// A damaged store: bytes overwritten in each file of a wallet's chain store (LMDB's data.mdb and
// lock.mdb) give one line naming the store and its fix and a non-zero exit, never a stack trace
// or a crash; `mvb-wallet resync` then rebuilds it from the network keeping keys and the pending
// payment, and the balance is back. `mvb verify` re-derives the UTXO set and the wallet's coin
// index and catches a value that is wrong but decodes (what LMDB cannot see). Commands that read
// a damaged store run as child processes (the native library must not take the test with it).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, cpSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { open } from 'lmdb';
import { decodeAddress } from '../src/shared/core/address.js';
import { MVB_BIN, removeDir, setArgs, tempDir } from './kit/procs.js';
import { TestMiner, testNetSets, wallet, walletProcess } from './kit/wallet-net.js';

function overwrite(file: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function mvb(args: string[], sets: Record<string, unknown>): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, [MVB_BIN, ...args, '--network', 'devnet', ...setArgs(sets)], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'], NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out, err })));
}

const DAMAGE_LINE = /^error: the chain store \S+ is damaged \(.+\); run `mvb-wallet --datadir \S+ resync` to rebuild it from the network \(keys and payments are kept\)$/m;

describe('damaged stores (child processes, in-process miner peer)', function () {
  this.timeout(120_000);
  let sets: Record<string, unknown>;
  let miner: TestMiner;
  let base: string;
  const dirs: string[] = [];
  let pending: string;

  before(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    base = tempDir('damaged');
    dirs.push(base);
    const na = async (name: string) => decodeAddress((JSON.parse((await wallet(base, sets, ['new-address', name, '--json'])).out) as { address: string }).address);
    const alice = await na('alice');
    await na('bob');
    miner.mine(20, alice.hash160);
    assert.equal((await wallet(base, sets, ['sync', '--once'])).code, 0);
    const s = await wallet(base, sets, ['send', 'alice', '7', 'bob']);
    assert.equal(s.code, 0, s.err);
    pending = s.out.trim();
  });
  after(async () => {
    await miner.stop();
    for (const d of dirs.splice(0)) removeDir(d);
  });

  const balances = async (dir: string) => {
    const r = await walletProcess(dir, sets, ['list-addresses', '--json']);
    assert.equal(r.code, 0, r.err);
    return Object.fromEntries((JSON.parse(r.out) as { name: string; balance: string; pending: string }[]).map((x) => [x.name, x]));
  };

  const cases: { file: string; offset: number; kind: 'zero' | 'random' }[] = [
    { file: 'data.mdb', offset: 0, kind: 'random' },
    { file: 'data.mdb', offset: 0, kind: 'zero' },
    { file: 'data.mdb', offset: 4096, kind: 'random' },
    { file: 'data.mdb', offset: 8192, kind: 'zero' },
    { file: 'lock.mdb', offset: 0, kind: 'random' },
  ];
  for (const c of cases) {
    it(`16 KiB of ${c.kind} bytes at ${c.offset} in ${c.file}: one line naming the store and the fix (or nothing wrong to see), then resync restores balance and payment`, async () => {
      const before = await balances(base);
      const dir = tempDir('damaged-copy');
      dirs.push(dir);
      cpSync(base, dir, { recursive: true });
      overwrite(`${dir}/chain/chain.mdb/${c.file}`, c.offset, c.kind === 'zero' ? new Uint8Array(16384) : randomBytes(16384));
      const r = await walletProcess(dir, sets, ['list-addresses']);
      assert.equal(r.child.signalCode, null, 'no crash');
      assert.doesNotMatch(r.err, /^\s+at /m, `no stack trace:\n${r.err}`);
      if (c.file === 'data.mdb') {
        assert.notEqual(r.code, 0);
        assert.match(r.err, DAMAGE_LINE);
      } else {
        // LMDB rebuilds its lock file when no process has it open: nothing was lost.
        assert.equal(r.code, 0, r.err);
      }
      const rs = await walletProcess(dir, sets, ['resync']);
      assert.equal(rs.code, 0, rs.err);
      assert.match(rs.err, /kept 1 payment\(s\) and every key/);
      const after = await balances(dir);
      assert.deepEqual(after, before);
      const st = await walletProcess(dir, sets, ['status', pending, '--json']);
      assert.equal(st.code, 0, st.err);
      assert.equal((JSON.parse(st.out) as { status: string }).status, 'pending');
    });
  }

  it('mvb verify: consistent on a sound store; a wallet coin value changed (decodes fine, LMDB cannot tell) is caught', async () => {
    const ok = await mvb(['verify', base], sets);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /chain: 20 of 20 stored block\(s\) re-validated from genesis/);
    assert.match(ok.out, /UTXO set: \d+ stored coin\(s\), \d+ from the replay: equal/);
    assert.match(ok.out, /wallet index: \d+ coin\(s\) of 2 key\(s\), \d+ from the replay: equal/);
    const dir = tempDir('damaged-value');
    dirs.push(dir);
    cpSync(base, dir, { recursive: true });
    const env = open({ path: `${dir}/chain/chain.mdb`, maxDbs: 16, noSubdir: false, compression: false });
    const coins = env.openDB<{ value: string }, string>({ name: 'wallet-coins', encoding: 'json' });
    const first = [...coins.getRange({ limit: 1 })][0]!;
    await coins.put(first.key, { ...first.value, value: (BigInt(first.value.value) - 50_000_000_000n).toString() });
    await env.close();
    const bad = await mvb(['verify', dir], sets);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /wallet index: .*: 1 differ/);
    assert.match(bad.err, /1 problem\(s\); rebuild it with `mvb-wallet resync`/);
  });
});
