// Wrong command lines get one clear line on stderr and a non-zero exit, never a stack trace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chain, NetworkMismatchError } from '../src/shared/core/chain.js';
import { type CliCommand, CliError, runCli } from '../src/shared/node/cli/runner.js';
import { command } from '../src/shared/node/cli/command.js';
import { ConfigError, loadSettings } from '../src/shared/node/cli/config.js';
import { InputError } from '../src/shared/node/check/input-error.js';
import { EventLogError } from '../src/shared/node/events.js';
import { KeyError } from '../src/shared/node/store/keystore.js';
import { LmdbChainStore } from '../src/shared/node/store/lmdb-store.js';
import { LockError } from '../src/shared/node/store/lock.js';
import { MINER_BIN, MVB_BIN, WALLET_BIN, removeDir, runNode, tempDir } from './kit/procs.js';

const run = (bin: string, args: string[]) => runNode([bin, ...args], 30_000);

describe('clear errors for wrong command lines', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = tempDir('cli');
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    writeFileSync(join(dir, 'afile'), 'x');
  });
  after(() => removeDir(dir));

  const cases: [string, string, (d: string) => string[], RegExp][] = [
    ['miner --threads 0', MINER_BIN, (d) => ['--datadir', join(d, 'm'), '--threads', '0'], /--threads must be a whole number/],
    [
      'miner --threads 0x4 (digits only)',
      MINER_BIN,
      (d) => ['--datadir', join(d, 'm'), '--threads', '0x4'],
      /--threads must be a whole number from 1 to 1024/,
    ],
    [
      'mvb devnet --miners 99',
      MVB_BIN,
      (d) => ['devnet', 'start', '--miners', '99', '--dir', join(d, 'dn')],
      /--miners must be a whole number from 1 to 16/,
    ],
    ['miner unknown network', MINER_BIN, (d) => ['--datadir', join(d, 'm'), '--network', 'moon'], /unknown network "moon"/],
    [
      'miner bad --set value',
      MINER_BIN,
      (d) => ['--datadir', join(d, 'm'), '--set', 'statusPort=-1'],
      /--set: statusPort: expected a whole number from 1 to 65535, got -1/,
    ],
    [
      'miner unknown --set key',
      MINER_BIN,
      (d) => ['--datadir', join(d, 'm'), '--set', 'nosuchkey=1'],
      /--set: nosuchkey: unknown key \(known: network, /,
    ],
    ['miner config not JSON', MINER_BIN, (d) => ['--datadir', join(d, 'm'), '--config', join(d, 'bad.json')], /bad\.json: not JSON/],
    ['miner bad reward address', MINER_BIN, (d) => ['--datadir', join(d, 'm'), '--address', 'notanaddress'], /--address/],
    ['wallet unknown command', WALLET_BIN, (d) => ['--datadir', join(d, 'w'), 'frobnicate'], /unknown command/],
    ['wallet send missing args', WALLET_BIN, (d) => ['--datadir', join(d, 'w'), 'send', 'alice'], /missing required argument/],
    [
      'wallet invalid key name',
      WALLET_BIN,
      (d) => ['--datadir', join(d, 'w'), '--network', 'devnet', 'new-address', '../x'],
      /invalid name/,
    ],
    ['mvb simulate missing file', MVB_BIN, (d) => ['simulate', join(d, 'nope.json'), '--dir', d], /nope\.json: cannot read: no such file/],
    ['mvb simulate not JSON', MVB_BIN, (d) => ['simulate', join(d, 'bad.json'), '--dir', d], /bad\.json: not JSON/],
    ['mvb devnet status without a devnet', MVB_BIN, (d) => ['devnet', 'status', '--dir', join(d, 'none')], /no devnet in/],
    ['mvb devnet unknown action', MVB_BIN, (d) => ['devnet', 'explode', '--dir', d], /unknown command 'explode'/],
    [
      'mvb devnet start on lan',
      MVB_BIN,
      (d) => ['devnet', 'start', '--network', 'lan', '--dir', join(d, 'dn')],
      /a devnet runs devnet or classroom, not lan/,
    ],
    ['mvb devnet fund without a devnet', MVB_BIN, (d) => ['devnet', 'fund', 'wallet-1', '5', '--dir', join(d, 'none')], /no devnet in/],
    [
      'wallet sync --timeout without --once',
      WALLET_BIN,
      (d) => ['--datadir', d, 'sync', '--timeout', '3'],
      /--timeout applies to --once only/,
    ],
    ['mvb bench unknown', MVB_BIN, () => ['bench', 'nothing'], /unknown command 'nothing'/],
    ['mvb bench bad --threads', MVB_BIN, () => ['bench', 'mine', '--threads', '0'], /--threads must be a whole number from 1 to 256/],
    [
      'mvb bench mine --seconds 0',
      MVB_BIN,
      () => ['bench', 'mine', '--seconds', '0'],
      /--seconds must be a number above 0 and at most 600/,
    ],
    ['mvb bench mempool --txs 5000', MVB_BIN, () => ['bench', 'mempool', '--txs', '5000'], /--txs must be a whole number from 100 to 4300/],
    ['mvb lab run on an endless file', MVB_BIN, () => ['lab', 'run', '/dev/zero'], /\/dev\/zero: is over 1000000 bytes/],
    [
      'miner --events in a folder that does not exist',
      MINER_BIN,
      (d) => ['--datadir', join(d, 'm'), '--set', 'broadcastAddress=127.255.255.255', '--events', join(d, 'no', 'such', 'e.log')],
      /^error: --events .*e\.log: ENOENT$/m,
    ],
  ];
  for (const [name, bin, args, why] of cases) {
    it(name, () => {
      const r = run(bin, args(dir));
      assert.notEqual(r.code, 0, r.stderr);
      assert.match(r.stderr, why);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

describe('a reader that closes early (mvb chain | head)', function () {
  this.timeout(30_000);
  it('ends the output quietly: exit 0, no EPIPE stack trace', async () => {
    const c = spawn(process.execPath, [MVB_BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.destroy(); // the reader is gone before the first write
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => c.on('exit', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});

describe('the CLI runner maps error classes to one line and an exit code', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = tempDir('cli-table');
  });
  after(() => removeDir(dir));

  async function runThrowing(e: unknown): Promise<{ code: number; err: string[] }> {
    const err: string[] = [];
    const cmd: CliCommand = command({ name: 'fail', describe: 'throws', handler: () => Promise.reject(e) });
    const code = await runCli('t', [cmd], ['fail', '--datadir', dir, '--network', 'devnet'], {
      app: 'tool',
      io: { out: () => {}, err: (l) => err.push(l) },
    });
    return { code, err };
  }

  it('by class, never by name or message', async () => {
    assert.deepEqual(await runThrowing(new CliError('bad', 3)), { code: 3, err: ['error: bad'] });
    assert.deepEqual(await runThrowing(new ConfigError('cfg')), { code: 2, err: ['error: cfg'] });
    assert.deepEqual(await runThrowing(new InputError('x.json', ['nodes', 3, 'hashrate'], 'expected a number ≥ 1, got 0')), {
      code: 2,
      err: ['error: x.json: nodes[3].hashrate: expected a number ≥ 1, got 0'],
    });
    assert.deepEqual(await runThrowing(new LockError('locked')), { code: 1, err: ['error: locked'] });
    assert.deepEqual(await runThrowing(new KeyError('no key')), { code: 1, err: ['error: no key'] });
    assert.deepEqual(await runThrowing(new EventLogError('--events x: EISDIR')), { code: 2, err: ['error: --events x: EISDIR'] });
    // An error that only borrows a known name is not mistaken for it: it is a bug, with its stack.
    const impostor = Object.assign(new Error('is in use'), { name: 'LockError' });
    const r = await runThrowing(impostor);
    assert.equal(r.code, 1);
    assert.match(r.err.join('\n'), /\n\s+at /);
  });

  it('a store of another network: its own class, with advice', async () => {
    const chainDir = join(dir, 'lan-chain');
    const store = new LmdbChainStore(chainDir, 'test');
    try {
      new Chain(loadSettings({ network: 'lan' }).params, store);
      assert.throws(() => new Chain(loadSettings({ network: 'devnet' }).params, store), NetworkMismatchError);
    } finally {
      store.close();
    }
    const r = await runThrowing(new NetworkMismatchError('devnet'));
    assert.equal(r.code, 1);
    assert.deepEqual(r.err, [
      `error: the store holds another network's chain, not devnet's; use another --datadir than ${dir} for network devnet`,
    ]);
  });

  it("a wallet opened on another network's chain says so in one line", () => {
    const w = join(dir, 'w');
    const store = new LmdbChainStore(join(w, 'chain'), 'test');
    try {
      new Chain(loadSettings({ network: 'lan' }).params, store);
    } finally {
      store.close();
    }
    const r = run(WALLET_BIN, ['--datadir', w, '--network', 'devnet', 'list-addresses']);
    assert.equal(r.code, 1, r.stderr);
    // One line that names the flag to use (issue 12: the datadir remembers its network).
    assert.match(
      r.stderr,
      /^error: the store holds another network's chain \(genesis [0-9a-f]{64}\), not devnet's; .* belongs to network lan: use --network lan \(or leave --network out\), or another --datadir for network devnet\n$/,
    );
  });
});
