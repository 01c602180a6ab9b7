// Issue 12: the first hour of a newcomer. Each case is one surprise a teacher met, run in-process
// (no network unless said), asserting what the user now sees instead.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { decodeAddress, encodeAddress } from '../src/shared/core/address.js';
import { Chain } from '../src/shared/core/chain.js';
import { COIN } from '../src/shared/core/params.js';
import { CliError, runCli } from '../src/shared/node/cli/runner.js';
import { InputError } from '../src/shared/node/check/input-error.js';
import { loadSettings } from '../src/shared/node/cli/config.js';
import { LmdbChainStore } from '../src/shared/node/store/lmdb-store.js';
import { mvbCommands } from '../src/tools/commands.js';
import { parseScenario, simulate } from '../src/tools/cmds/simulate.js';
import { walletCommands } from '../src/wallet/commands.js';
import { checkFeeCap } from '../src/wallet/cmds/send.js';
import { ROOT, removeDir, startMiner, stopProc, tempDir, waitFor } from './kit/procs.js';
import { Capture, TestMiner, testNetSets, wallet } from './kit/wallet-net.js';

/** Address version bytes as config.json gives them (written out, not imported). */
const LAN_VERSION = 50;
const DEVNET_VERSION = 30;

async function walletCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const cap = new Capture();
  const code = await runCli('mvb-wallet', walletCommands, argv, { app: 'wallet', io: cap.io, env: {} });
  return { code, out: cap.out, err: cap.err };
}

describe('newcomer: a datadir remembers its network', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = tempDir('newcomer')));
  afterEach(() => removeDir(dir));

  it('a misspelt --datadir is refused, named, with how to create one, and not created', async () => {
    const missing = join(dir, 'walet-1');
    for (const cmd of ['list-addresses', 'history', 'sync']) {
      // sync: bounded and on loopback even if the refusal failed.
      const extra =
        cmd === 'sync'
          ? ['--once', '--timeout', '1', '--set', 'broadcastAddress=127.255.255.255', '--set', 'statusPort=1', '--set', 'transactionPort=1']
          : [];
      const r = await walletCli([cmd, '--datadir', missing, ...extra]);
      assert.equal(r.code, 1, `${cmd}: ${r.err}`);
      assert.match(r.err, new RegExp(`no data directory ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
      assert.match(r.err, /create one with: mvb-wallet --datadir \S+ new-address NAME/);
      assert.ok(!existsSync(missing), `${cmd} created the misspelt folder`);
    }
  });

  it('new-address remembers the network: later commands need no --network, a contradiction names the flag', async () => {
    const w = join(dir, 'w');
    const made = await walletCli(['new-address', 'alice', '--datadir', w, '--network', 'devnet', '--json']);
    assert.equal(made.code, 0, made.err);
    assert.equal(JSON.parse(readFileSync(join(w, 'settings.json'), 'utf8')).network, 'devnet');
    const listed = await walletCli(['list-addresses', '--datadir', w, '--json']);
    assert.equal(listed.code, 0, listed.err);
    const rows = JSON.parse(listed.out) as { address: string }[];
    assert.equal(decodeAddress(rows[0]!.address).version, DEVNET_VERSION, 'the devnet address, not a lan one');
    const wrong = await walletCli(['list-addresses', '--datadir', w, '--network', 'lan']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /belongs to network devnet, not lan: use --network devnet \(or leave --network out\)/);
  });

  it('a datadir without settings.json holding a devnet chain: the advice names --network devnet', async () => {
    const w = join(dir, 'old');
    mkdirSync(w);
    const store = new LmdbChainStore(join(w, 'chain'), 'test');
    new Chain(loadSettings({ network: 'devnet' }).params, store);
    store.close();
    const r = await walletCli(['list-addresses', '--datadir', w]);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.err,
      /another network's chain.*; \S+ belongs to network devnet: use --network devnet \(or leave --network out\), or another --datadir for network lan$/,
    );
    assert.doesNotMatch(r.err, /\n\s+at /);
  });
});

describe('newcomer: small surprises', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = tempDir('newcomer')));
  afterEach(() => removeDir(dir));

  it('--version prints the package version on every binary', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const [name, cmds] of [
      ['mvb-wallet', walletCommands],
      ['mvb', mvbCommands],
    ] as const) {
      const cap = new Capture();
      const code = await runCli(name, cmds, ['--version'], { app: name === 'mvb' ? 'tool' : 'wallet', io: cap.io, env: {} });
      assert.equal(code, 0);
      assert.equal(cap.out.trim(), version);
    }
  });

  it('send refuses a fee above maxFee of the amount unless --force; the default fee rate always passes', () => {
    const s = { maxFee: 0.1, defaultFeeRate: 2 };
    assert.throws(
      () => checkFeeCap(49n * COIN, 40n * COIN, 226, s),
      (e: Error) => e instanceof CliError && /above the cap.*--force/.test(e.message),
    );
    checkFeeCap(4n * COIN, 40n * COIN, 226, s); // 10%: at the cap
    assert.throws(() => checkFeeCap(4n * COIN + 1n, 40n * COIN, 226, s), CliError);
    checkFeeCap(452n, 1000n, 226, s); // a tiny payment at the default rate: 45% but the wallet's own fee
  });

  it('new-address x.pem and import-key of a public key get one clear line', async () => {
    const w = join(dir, 'w');
    const pem = await walletCli(['new-address', 'x.pem', '--datadir', w, '--network', 'devnet']);
    assert.equal(pem.code, 1);
    assert.match(pem.err, /without "\.pem"/);
    assert.ok(!existsSync(join(w, 'keys', 'x.pem.pem')));
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    writeFileSync(join(dir, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const r = await walletCli(['import-key', 'bob', join(dir, 'pub.pem'), '--datadir', w, '--network', 'devnet']);
    assert.equal(r.code, 1);
    assert.match(r.err, /this is a public key/);
    assert.doesNotMatch(r.err, /error:1E08010C/);
  });

  it('simulate refuses a misspelt "to" further down before sending anything', async () => {
    const w1 = join(dir, 'wallet-1');
    mkdirSync(join(w1, 'keys'), { recursive: true });
    writeFileSync(
      join(dir, 'devnet.json'),
      JSON.stringify({
        network: 'devnet',
        broadcastAddress: '127.255.255.255',
        statusPort: 1,
        transactionPort: 1,
        startedAt: '',
        nodes: [
          {
            name: 'wallet-1',
            kind: 'wallet',
            datadir: w1,
            log: join(dir, 'w.log'),
            address: encodeAddress(new Uint8Array(20), DEVNET_VERSION),
          },
        ],
      }),
    );
    const sc = parseScenario({
      payments: [
        { from: 'wallet-1', to: 'wallet-1', amount: '1' },
        { from: 'wallet-1', to: 'walet-2', amount: '1' },
      ],
    });
    await assert.rejects(
      simulate(sc, { devnetDir: dir, source: 's.json' }),
      (e: Error) => e instanceof InputError && /^s\.json: payments\[1\]\.to: "walet-2"/.test(e.message),
    );
    assert.ok(!existsSync(join(w1, 'chain')), 'no send ran');
    unlinkSync(join(dir, 'devnet.json'));
  });

  it('".5" is half a coin', async () => {
    const { parseCoins } = await import('../src/shared/core/amount.js');
    assert.equal(parseCoins('.5'), COIN / 2n);
  });

  it('list-addresses without --network on a lan datadir shows lan addresses', async () => {
    const w = join(dir, 'lan');
    assert.equal((await walletCli(['new-address', 'a', '--datadir', w])).code, 0);
    const r = await walletCli(['list-addresses', '--datadir', w, '--json']);
    assert.equal(decodeAddress((JSON.parse(r.out) as { address: string }[])[0]!.address).version, LAN_VERSION);
  });
});

describe('newcomer: sync says when it hears no miner', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = tempDir('newcomer-sync')));
  afterEach(() => removeDir(dir));

  it('the loop warns within a few status intervals, again while it lasts, and says when a miner is heard again', async () => {
    const sets = await testNetSets(); // status every 0.1 s: warnings after 0.3 s, repeats every 1.2 s
    const cap = new Capture();
    const ac = new AbortController();
    const running = wallet(dir, sets, ['sync'], { capture: cap, signal: ac.signal });
    let miner: TestMiner | undefined;
    try {
      await cap.waitLine(
        /^warning: no miner heard for [\d.]+ s on UDP port \d+: is a miner of network devnet running and reachable \(broadcastAddress 127\.255\.255\.255, peers none\)\? In a class, join with mvb-wallet join URL .* a Wi-Fi that isolates clients drops all traffic between laptops \(peers cannot help\): use a hotspot or travel router/,
      );
      await cap.waitLine(/^warning: still no miner heard for/);
      miner = await TestMiner.start(sets);
      await cap.waitLine(/^hearing 1 miner again$/);
    } finally {
      ac.abort();
      assert.equal((await running).code, 0, cap.err);
      await miner?.stop();
    }
  });

  it('--once gives the same hint; --timeout without --once is refused, saying what the loop does', async () => {
    const sets = await testNetSets();
    const once = await wallet(dir, sets, ['sync', '--once', '--timeout', '0.3']);
    assert.equal(once.code, 1);
    assert.match(
      once.err,
      /no miner heard on UDP port \d+ within 0\.3 s: is a miner of network devnet running .* a Wi-Fi that isolates clients drops all traffic between laptops/,
    );
    const loop = await wallet(dir, sets, ['sync', '--timeout', '5']);
    assert.equal(loop.code, 2);
    assert.match(loop.err, /--timeout applies to --once only: without --once, sync runs until Ctrl-C and warns while it hears no miner/);
  });
});

describe('newcomer: a late-joining miner catches up before it mines', function () {
  this.timeout(90_000);
  let dir: string;
  beforeEach(() => (dir = tempDir('newcomer-catchup')));
  afterEach(() => removeDir(dir));

  it('fetches a long chain with a line per thousand blocks at most, then mines on the best tip', async () => {
    const sets = await testNetSets();
    const peer = await TestMiner.start(sets);
    let proc: Awaited<ReturnType<typeof startMiner>> | undefined;
    try {
      const LENGTH = 1100;
      peer.mine(LENGTH, new Uint8Array(20).fill(9));
      const { statusPort, transactionPort, blockServerPort: _unused, ...rules } = sets as Record<string, unknown>;
      // One hash a second at trivial difficulty: about a block every two seconds once it may mine.
      proc = await startMiner({
        ports: { statusPort: statusPort as number, transactionPort: transactionPort as number },
        datadir: join(dir, 'late'),
        sets: { ...rules, maxHashrate: 1 },
      });
      const p = proc;
      await waitFor(
        () => /caught up at height \d+/.test(p.output()),
        60_000,
        () => `never caught up:\n${p.output()}`,
      );
      await waitFor(
        () => /mined block/.test(p.output().slice(p.output().indexOf('caught up'))),
        30_000,
        () => `did not mine after catching up:\n${p.output()}`,
      );
      const out = p.output();
      const during = out.slice(out.indexOf('catching up'), out.indexOf('caught up'));
      assert.match(out, /catching up: height \d+ of \d+; mining waits until caught up/);
      assert.doesNotMatch(during, /mined block/, 'no mining while far behind');
      const progressLines = during.split('\n').filter((l) => /catching up: height/.test(l)).length;
      assert.ok(progressLines <= 1 + Math.ceil(LENGTH / 1000), `${progressLines} progress lines`);
      assert.ok(out.split('\n').filter((l) => /new tip/.test(l)).length <= 3, `no line per block:\n${out}`);
      assert.ok(Number(/caught up at height (\d+)/.exec(out)![1]) >= LENGTH);
    } finally {
      if (proc) await stopProc(proc);
      await peer.stop();
    }
  });
});

describe('newcomer: history groups mined rewards', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = tempDir('newcomer-history')));
  afterEach(() => removeDir(dir));

  it('one row per 100 blocks of rewards; --limit N and --all', async () => {
    const sets = await testNetSets();
    const peer = await TestMiner.start(sets);
    try {
      const made = await wallet(dir, sets, ['new-address', 'alice', '--json']);
      const pkh = decodeAddress((JSON.parse(made.out) as { address: string }).address).hash160;
      peer.mine(230, pkh);
      assert.equal((await wallet(dir, sets, ['sync', '--once'])).code, 0);
      const grouped = await wallet(dir, sets, ['history']);
      assert.equal(grouped.code, 0, grouped.err);
      const groups = grouped.out.split('\n').filter((l) => /mined rewards/.test(l) && !/not shown/.test(l));
      assert.deepEqual(
        groups.map((l) => /\s(\d+)-(\d+)\s/.exec(l)?.slice(1).join('-') ?? l),
        ['200-230', '100-199', '1-99'],
      );
      assert.match(groups[0]!, /31 mined rewards/);
      const all = await wallet(dir, sets, ['history', '--all']);
      assert.equal(all.out.split('\n').filter((l) => /coinbase/.test(l)).length, 230);
      const two = await wallet(dir, sets, ['history', '--all', '--limit', '2']);
      assert.equal(two.out.split('\n').filter((l) => /coinbase/.test(l)).length, 230, '--all wins over --limit');
      const limited = await wallet(dir, sets, ['history', '--limit', '2']);
      assert.equal(limited.out.split('\n').filter((l) => /mined rewards/.test(l) && !/not shown/.test(l)).length, 2);
      assert.match(limited.out, /1 older row not shown: --limit N for more, --all for every row/);
      const json = JSON.parse((await wallet(dir, sets, ['history', '--json'])).out) as unknown[];
      assert.equal(json.length, 230, 'JSON keeps every row');
    } finally {
      await peer.stop();
    }
  });
});
