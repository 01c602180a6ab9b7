// Wrong command lines get one clear line on stderr and a non-zero exit, never a stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MINER_BIN, MVB_BIN, WALLET_BIN, removeDir, tempDir } from './helpers/procs.js';

function run(bin: string, args: string[]): { code: number; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 });
  return { code: r.status ?? -1, stderr: r.stderr };
}

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
    ['miner unknown network', MINER_BIN, (d) => ['--datadir', join(d, 'm'), '--network', 'moon'], /unknown network "moon"/],
    ['miner bad --set value', MINER_BIN, (d) => ['--datadir', join(d, 'm'), '--set', 'statusPort=-1'], /statusPort must be a number/],
    ['miner unknown --set key', MINER_BIN, (d) => ['--datadir', join(d, 'm'), '--set', 'nosuchkey=1'], /unknown config key "nosuchkey"/],
    ['miner config not JSON', MINER_BIN, (d) => ['--datadir', join(d, 'm'), '--config', join(d, 'bad.json')], /cannot read config/],
    ['miner bad reward address', MINER_BIN, (d) => ['--datadir', join(d, 'm'), '--address', 'notanaddress'], /--address/],
    ['wallet unknown command', WALLET_BIN, (d) => ['--datadir', join(d, 'w'), 'frobnicate'], /unknown command/],
    ['wallet send missing args', WALLET_BIN, (d) => ['--datadir', join(d, 'w'), 'send', 'alice'], /missing required argument/],
    ['wallet invalid key name', WALLET_BIN, (d) => ['--datadir', join(d, 'w'), '--network', 'devnet', 'new-address', '../x'], /invalid name/],
    ['mvb simulate missing file', MVB_BIN, (d) => ['simulate', join(d, 'nope.json'), '--dir', d], /cannot read scenario/],
    ['mvb simulate not JSON', MVB_BIN, (d) => ['simulate', join(d, 'bad.json'), '--dir', d], /cannot read scenario/],
    ['mvb devnet status without a devnet', MVB_BIN, (d) => ['devnet', 'status', '--dir', join(d, 'none')], /no devnet in/],
    ['mvb devnet unknown action', MVB_BIN, (d) => ['devnet', 'explode', '--dir', d], /unknown devnet action/],
    ['mvb bench unknown', MVB_BIN, () => ['bench', 'nothing'], /unknown benchmark/],
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
