// A damaged store: bytes overwritten in each file of a wallet's chain store (LMDB's data.mdb and
// lock.mdb) give one line naming the store and its fix and a non-zero exit, never a stack trace
// or a crash; `mvb-wallet resync` then rebuilds it from the network keeping keys and the pending
// payment, and the balance is back. `mvb verify` re-derives the UTXO set and the wallet's coin
// index and catches a value that is wrong but decodes (what LMDB cannot see). Commands that read
// a damaged store run as child processes (the native library must not take the test with it).
// Every file-system shape of the store's files (data.mdb a directory, a dangling or looping
// symbolic link, unreadable, empty, truncated; chain.mdb closed to this user; lock.mdb a
// directory) gives, in each command that
// opens a store (the miner, `mvb-wallet list-addresses`, `mvb chain`, `mvb block`, `mvb verify`),
// one line naming the store, what is wrong and its fix, and exit code 3: a table of shapes by
// commands. "Unreadable" as root (whose reads chmod does not deny) runs the command with every
// capability dropped (setpriv), so the file's mode bits apply to it as to anyone.
import assert from 'node:assert/strict';
import { chmodSync, closeSync, cpSync, mkdirSync, openSync, rmSync, statSync, symlinkSync, truncateSync, writeSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { encodeAddress } from '../src/shared/core/address.js';
import { randomBytes } from 'node:crypto';
import { open } from 'lmdb';
import { decodeAddress } from '../src/shared/core/address.js';
import { MINER_BIN, MVB_BIN, WALLET_BIN, removeDir, setArgs, tempDir } from './kit/procs.js';
import { TestMiner, settingsOf, testNetSets, wallet, walletProcess } from './kit/wallet-net.js';

function overwrite(file: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function mvb(args: string[], sets: Record<string, unknown>): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, [MVB_BIN, ...args, '--network', 'devnet', ...setArgs(sets)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'], NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out, err })));
}

const DAMAGE_LINE =
  /^error: the chain store \S+ is damaged \(.+\); run `mvb-wallet --datadir \S+ resync` to rebuild it from the network \(keys and payments are kept\)$/m;

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
    const na = async (name: string) =>
      decodeAddress((JSON.parse((await wallet(base, sets, ['new-address', name, '--json'])).out) as { address: string }).address);
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

/** A shape to give the store's files, and the reason the one line must give for it. */
interface Shape {
  readonly name: string;
  /** Changes the store in datadir/chain/chain.mdb. */
  make(env: string): void;
  readonly reason: RegExp;
  /** The line says "cannot be opened" and this fix, not "is damaged" (and the rebuild) alone. */
  readonly fix?: RegExp;
  /** Run the command with every capability dropped (root reads anything otherwise). */
  readonly dropCaps?: boolean;
}

const replace = (path: string, by: () => void) => {
  rmSync(path, { recursive: true, force: true });
  by();
};
const SHAPES: readonly Shape[] = [
  {
    name: 'data.mdb is a directory',
    make: (env) => replace(join(env, 'data.mdb'), () => mkdirSync(join(env, 'data.mdb'))),
    reason: /chain\.mdb\/data\.mdb is a directory, not a file/,
  },
  {
    name: 'data.mdb is a dangling symbolic link',
    make: (env) => replace(join(env, 'data.mdb'), () => symlinkSync(join(env, 'moved-away.mdb'), join(env, 'data.mdb'))),
    reason: /chain\.mdb\/data\.mdb is a symbolic link to \S+moved-away\.mdb, which does not exist, not a file/,
  },
  {
    name: 'data.mdb is a looping symbolic link',
    make: (env) => replace(join(env, 'data.mdb'), () => symlinkSync('data.mdb', join(env, 'data.mdb'))),
    reason: /chain\.mdb\/data\.mdb is a symbolic link that loops back on itself, not a file/,
  },
  {
    name: 'data.mdb may not be read (mode 000)',
    make: (env) => chmodSync(join(env, 'data.mdb'), 0),
    reason: /chain\.mdb\/data\.mdb: no permission to read and write it for this user/,
    fix: /give this user read and write access to \S+data\.mdb \(chown or chmod\)/,
    dropCaps: true,
  },
  {
    name: 'chain.mdb may not be entered (mode 000)',
    make: (env) => chmodSync(env, 0),
    reason: /chain\.mdb: no permission to list, enter and write it for this user/,
    fix: /give this user read, write and search access to \S+chain\.mdb \(chown or chmod\)/,
    dropCaps: true,
  },
  {
    name: 'data.mdb is empty',
    make: (env) => truncateSync(join(env, 'data.mdb'), 0),
    reason: /chain\.mdb\/data\.mdb is empty: it was cut off or never written/,
  },
  {
    name: 'data.mdb is truncated to half',
    make: (env) => truncateSync(join(env, 'data.mdb'), Math.floor(statSync(join(env, 'data.mdb')).size / 2)),
    reason: /meta page \d: last page \d+ beyond the file's \d+/,
  },
  {
    name: 'data.mdb is truncated inside its meta pages',
    make: (env) => truncateSync(join(env, 'data.mdb'), 100),
    reason: /data file shorter than its meta pages/,
  },
  {
    name: 'lock.mdb is a directory',
    make: (env) => replace(join(env, 'lock.mdb'), () => mkdirSync(join(env, 'lock.mdb'))),
    reason: /chain\.mdb\/lock\.mdb is a directory, not a file/,
    fix: /remove \S+lock\.mdb \(LMDB makes a new lock file; it holds no data\)/,
  },
];

/** The commands that open a store, each with the fix its line must name. */
interface StoreCommand {
  readonly name: string;
  readonly bin: string;
  args(datadir: string, sets: Record<string, unknown>): string[];
  readonly rebuild: (datadir: string) => RegExp;
}
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const COMMANDS: readonly StoreCommand[] = [
  {
    name: 'mvb-miner',
    bin: MINER_BIN,
    args: (d, sets) => [
      '--network',
      'devnet',
      '--datadir',
      d,
      '--no-mine',
      '--address',
      encodeAddress(new Uint8Array(20).fill(7), settingsOf(sets).params.addressVersion),
      ...setArgs(sets),
    ],
    rebuild: (d) => new RegExp(`run \`mvb-miner --datadir ${esc(d)} --resync\` to rebuild it from the network \\(keys are kept\\)$`),
  },
  {
    name: 'mvb-wallet list-addresses',
    bin: WALLET_BIN,
    args: (d, sets) => ['list-addresses', '--datadir', d, '--network', 'devnet', ...setArgs(sets)],
    rebuild: (d) =>
      new RegExp(`run \`mvb-wallet --datadir ${esc(d)} resync\` to rebuild it from the network \\(keys and payments are kept\\)$`),
  },
  ...(['chain', 'block 1', 'verify'] as const).map((c) => ({
    name: `mvb ${c}`,
    bin: MVB_BIN,
    args: (d: string, sets: Record<string, unknown>) => [
      ...(c === 'verify' ? ['verify', d] : [...c.split(' '), '--datadir', d]),
      '--network',
      'devnet',
      ...setArgs(sets),
    ],
    rebuild: () => /rebuild it with `mvb-wallet resync` or `mvb-miner --resync`$/,
  })),
];

/** Whether dropping capabilities makes a mode-000 file unreadable here (root with setpriv), or why not. */
function dropCapsWorks(): { ok: boolean; why: string } {
  if (process.getuid?.() !== 0) return { ok: true, why: 'not root: mode bits apply without help' };
  const probe = tempDir('caps-probe');
  const f = join(probe, 'f');
  closeSync(openSync(f, 'w'));
  chmodSync(f, 0);
  const r = spawnSync(
    'setpriv',
    ['--bounding-set=-all', '--inh-caps=-all', process.execPath, '-e', `require('fs').readFileSync(${JSON.stringify(f)})`],
    { encoding: 'utf8' },
  );
  removeDir(probe);
  if (r.error) return { ok: false, why: `setpriv is not available (${r.error.message})` };
  return r.status !== 0 && /EACCES/.test(r.stderr)
    ? { ok: true, why: "setpriv drops root's capabilities" }
    : { ok: false, why: `setpriv did not make a mode-000 file unreadable (exit ${r.status})` };
}

function runStoreCommand(
  c: StoreCommand,
  datadir: string,
  sets: Record<string, unknown>,
  dropCaps: boolean,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  const argv = [c.bin, ...c.args(datadir, sets)];
  const [cmd, ...args] =
    dropCaps && process.getuid?.() === 0
      ? ['setpriv', '--bounding-set=-all', '--inh-caps=-all', process.execPath, ...argv]
      : [process.execPath, ...argv];
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'], NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, out, err });
    }),
  );
}

describe('damaged store shapes x commands (child processes): one line with its fix, exit code 3', function () {
  this.timeout(300_000);
  let sets: Record<string, unknown>;
  let miner: TestMiner;
  let base: string;
  const dirs: string[] = [];
  const caps = dropCapsWorks();

  before(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    base = tempDir('shapes');
    dirs.push(base);
    const a = JSON.parse((await wallet(base, sets, ['new-address', 'alice', '--json'])).out) as { address: string };
    miner.mine(8, decodeAddress(a.address).hash160);
    assert.equal((await wallet(base, sets, ['sync', '--once'])).code, 0);
    await miner.stop();
  });
  after(() => {
    for (const d of dirs.splice(0)) {
      spawnSync('chmod', ['-R', 'u+rwX', d]);
      removeDir(d);
    }
  });

  for (const shape of SHAPES) {
    it(`${shape.name}: ${COMMANDS.map((c) => c.name).join(', ')} each print one line naming it and its fix, exit code 3`, async function () {
      if (shape.dropCaps && !caps.ok) this.skip(); // caps.why says why: printed below
      const checked: string[] = [];
      for (const c of COMMANDS) {
        const dir = tempDir('shape');
        dirs.push(dir);
        cpSync(base, dir, { recursive: true });
        shape.make(join(dir, 'chain', 'chain.mdb'));
        const r = await runStoreCommand(c, dir, sets, shape.dropCaps === true);
        const all = `${r.out}${r.err}`;
        const lines = all.split('\n').filter((l) => l.trim() !== '');
        assert.equal(r.signal, null, `${c.name}: killed by ${r.signal}`);
        assert.equal(r.code, 3, `${c.name}: exit ${r.code}:\n${all}`);
        assert.equal(lines.length, 1, `${c.name}: one line expected:\n${all}`);
        const line = lines[0]!;
        assert.match(
          line,
          new RegExp(
            `^error: the chain store ${esc(join(dir, 'chain'))} ${shape.fix ? '(?:cannot be opened|is damaged)' : 'is damaged'} \\(`,
          ),
          `${c.name}: ${line}`,
        );
        assert.match(line, shape.reason, `${c.name}: ${line}`);
        if (shape.fix) assert.match(line, shape.fix, `${c.name}: ${line}`);
        assert.match(line, c.rebuild(dir), `${c.name}: ${line}`);
        checked.push(c.name);
      }
      assert.equal(checked.length, COMMANDS.length);
    });
  }
  it('says how "may not be read" is tested here', () => {
    console.log(`      unreadable data.mdb: ${caps.ok ? 'tested' : 'skipped'}: ${caps.why}`);
  });
});
