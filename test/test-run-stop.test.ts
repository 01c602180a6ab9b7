// Stopping a test run (Ctrl-C, SIGINT or SIGTERM to mocha) stops every process the tests started:
// a mocha running the fixture is interrupted, and every PID it held must be gone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../src/shared/node/store/lock.js';
import { ROOT, removeDir, tempDir, waitFor } from './kit/procs.js';
import { track } from './kit/processes.js';

describe('stopping a test run stops what it started', function () {
  this.timeout(60_000);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} to mocha ends its miner, its child and its detached child`, async () => {
      const dir = tempDir('run-stop');
      const pidFile = join(dir, 'pids.json');
      try {
        const mocha = track(
          spawn(
            process.execPath,
            [
              join(ROOT, 'node_modules/mocha/bin/mocha.js'),
              '--no-config',
              '--require',
              'dist/test/kit/root-hooks.js',
              '--timeout',
              '120000',
              'dist/test/fixtures/hold-processes.fixture.js',
            ],
            {
              cwd: ROOT,
              stdio: ['ignore', 'pipe', 'pipe'],
              env: { ...process.env, NO_COLOR: '1', MVB_FIXTURE_PIDS: pidFile },
            },
          ),
        );
        let out = '';
        mocha.stdout!.on('data', (d) => (out += d));
        mocha.stderr!.on('data', (d) => (out += d));
        const exited = new Promise<number | null>((r) => mocha.on('exit', (c) => r(c)));
        const pids = await waitFor(
          () => existsSync(pidFile) && (JSON.parse(readFileSync(pidFile, 'utf8')) as number[]),
          30_000,
          () => `fixture did not start:\n${out}`,
          exited,
        );
        assert.ok(
          pids.every((p) => processAlive(p)),
          'all running before the signal',
        );
        mocha.kill(signal);
        assert.equal(await exited, signal === 'SIGINT' ? 130 : 143, out);
        await waitFor(
          () => pids.every((p) => !processAlive(p)),
          15_000,
          () => `still running: ${pids.filter((p) => processAlive(p)).join(', ')}`,
        );
      } finally {
        removeDir(dir);
      }
    });
  }
});
