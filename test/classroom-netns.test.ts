// A class on six "laptops": a teacher host and five student hosts (Linux network namespaces on one
// bridge, real subnet broadcast, each its own address), devnet rules so blocks come in seconds. The
// teacher runs `mvb classroom start`; each student runs only the printed join line and then the
// printed miner line; each gets coins from the faucet, pays a neighbour and sees it confirmed; the
// explorer, fetched from a student host, names each student on the blocks they mined (and those
// blocks pay that student); a faucet flood from one student is refused while the others are paid.
// Needs root and iproute2: as a normal user it is reported as skipped with the reason; as root a
// missing iproute2 fails it.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AddressRow } from '../src/shared/node/json-rows.js';
import { parseCoins } from '../src/shared/core/amount.js';
import { HostCommands, Lan, type LanHost, cleanupLeftovers, listNamespaces, netnsUnavailable } from './kit/netns.js';
import { track, trackDevnet, untrackDevnet } from './kit/processes.js';
import { MINER_BIN, MVB_BIN, ROOT, WALLET_BIN, removeDir, stopProcGroup, tempDir, waitForAsync } from './kit/procs.js';

const STUDENTS = 5;
const note = (msg: string) => console.log(`      · ${msg}`);
const NOT_ROOT =
  typeof process.getuid === 'function' && process.getuid() !== 0
    ? 'skipped: needs root to create network namespaces (CI runs it as root; sudo npm test here)'
    : undefined;

/** A student: their host, folders, the lines join printed. */
interface Student {
  readonly i: number;
  readonly host: LanHost;
  readonly name: string;
  readonly wallet: string;
  address: string;
  minerLine: string[];
}

/**
 * The class, on an open Wi-Fi or on one that isolates clients: then students reach only the teacher's
 * machine (as when the teacher's laptop is the hotspot: docs/CLASSROOM.md's fallback), and every
 * status, payment and block between students goes through the teacher's miner and explorer.
 */
function aClass(isolated: boolean): void {
  (NOT_ROOT ? describe.skip : describe)(
    `a class on six hosts (namespaces on a bridge, subnet broadcast${isolated ? '; students isolated from each other, the teacher reachable: the hub' : ''}): classroom start, join, faucet, names on blocks${NOT_ROOT ? ` [${NOT_ROOT}]` : ''}`,
    function () {
      this.timeout(300_000);
      let lan: Lan | undefined;
      let cmds: HostCommands | undefined;
      let dir = '';
      let url = '';
      const students: Student[] = [];
      const miners: { child: ChildProcess; exited: Promise<number | null> }[] = [];
      const env = { PATH: process.env['PATH'], NO_COLOR: '1', HOME: '/nonexistent' };

      const run = async (h: LanHost, argv: readonly string[], timeoutMs = 60_000) => {
        const r = await cmds!.run(h, [process.execPath, ...argv], { timeoutMs, env });
        assert.ok(
          !r.timedOut && r.code === 0,
          `${argv.slice(1).join(' ')} on ${h.name}: ${r.timedOut ? 'timed out' : `exit ${r.code}`}\n${r.err}\n${r.out}`,
        );
        return r;
      };
      /** GET from inside a host (the explorer is on the teacher's LAN address, out of the root namespace's reach). */
      const fetchFrom = async (h: LanHost, path: string): Promise<unknown> => {
        const js = `fetch(${JSON.stringify(url + path)},{signal:AbortSignal.timeout(5000)}).then(r=>r.text()).then(t=>process.stdout.write(t))`;
        return JSON.parse((await run(h, ['-e', js], 15_000)).out);
      };
      const wallet = (s: Student, ...args: string[]) => run(s.host, [WALLET_BIN, '--datadir', s.wallet, ...args]);
      const balance = async (s: Student): Promise<AddressRow> => {
        await wallet(s, 'sync', '--once', '--timeout', '20');
        return (JSON.parse((await wallet(s, 'list-addresses', '--json')).out) as AddressRow[])[0]!;
      };

      before(async function () {
        this.timeout(120_000);
        const why = netnsUnavailable();
        if (why) throw new Error(`cannot build the class's network: ${why} (needs Linux, root and iproute2)`);
        cleanupLeftovers();
        // On the open bridge, one more host: a newcomer who installs mvb from a copy (no network: npm's cache).
        lan = Lan.create(1 + STUDENTS + (isolated ? 0 : 1));
        if (isolated) for (const h of lan.hosts.slice(1)) lan.isolate(h);
        cmds = new HostCommands(lan);
        dir = tempDir('class-netns');
        trackDevnet(join(dir, 'class'));
        const teacher = lan.hosts[0]!;
        const r = await run(teacher, [
          MVB_BIN,
          'classroom',
          'start',
          '--network',
          'devnet',
          '--dir',
          join(dir, 'class'),
          '--host',
          teacher.ip,
        ]);
        url = /students type: {2}mvb-wallet join (http:\/\/\S+) --name <your name>/.exec(r.out)![1]!;
        note(`teacher ${teacher.ip}: ${url}; broadcast ${lan.broadcast}`);
        for (let i = 1; i <= STUDENTS; i++)
          students.push({ i, host: lan.hosts[i]!, name: `student${i}`, wallet: join(dir, `s${i}`, 'wallet'), address: '', minerLine: [] });
        // Every student (and the newcomer) asks at once: wait until the faucet can pay them all in a row.
        const needed = STUDENTS + 2;
        let ready = 0;
        await waitForAsync(
          async () => (ready = ((await fetchFrom(students[0]!.host, '/api/mvb/faucet')) as { grantsReady: number }).grantsReady) >= needed,
          90_000,
          () => `the faucet never had ${needed} grants ready (${ready})`,
          1000,
        );
      });

      after(async function () {
        this.timeout(60_000);
        await cmds?.stopAll();
        await Promise.allSettled(miners.map((m) => stopProcGroup(m)));
        if (dir && lan)
          await cmds!.run(lan.hosts[0]!, [process.execPath, MVB_BIN, 'classroom', 'stop', '--dir', join(dir, 'class')], {
            timeoutMs: 30_000,
            env,
          });
        untrackDevnet(join(dir, 'class'));
        lan?.destroy();
        if (dir) removeDir(dir);
        if (lan)
          assert.deepEqual(
            listNamespaces().filter((n) => n.startsWith(lan!.id + '-')),
            [],
          );
      });

      if (isolated)
        it('isolation holds: a student reaches the teacher but not another student', async () => {
          const probe = (ip: string) =>
            `require('net').connect({host:${JSON.stringify('IP')}.replace('IP',${JSON.stringify(ip)}),port:1,timeout:2000}).on('error',e=>process.stdout.write(e.code)).on('timeout',()=>{process.stdout.write('TIMEOUT');process.exit(0)})`;
          const toTeacher = await run(students[0]!.host, ['-e', probe(lan!.hosts[0]!.ip)]);
          const toStudent = await run(students[0]!.host, ['-e', probe(students[1]!.host.ip)]);
          note(`student1 -> teacher port 1: ${toTeacher.out}; student1 -> student2 port 1: ${toStudent.out}`);
          assert.equal(toTeacher.out, 'ECONNREFUSED', 'the teacher answers (a refusal is an answer)');
          assert.notEqual(toStudent.out, 'ECONNREFUSED', 'no answer from another student');
        });

      it('every student joins with the printed line and gets faucet coins, even while one floods the faucet', async () => {
        const join1 = async (s: Student) => {
          const t0 = Date.now();
          const r = await wallet(s, 'join', url, '--name', s.name, '--miner-datadir', join(dir, `s${s.i}`, 'miner'));
          assert.match(r.out, /the faucet sent you 10\.00000000 coins/, `${s.name}: ${r.out}`);
          s.address = /your address (\S+)/.exec(r.out)![1]!;
          s.minerLine = /mine \(your name goes on your blocks\): mvb-miner (.*)$/m.exec(r.out)![1]!.split(' ');
          return Date.now() - t0;
        };
        const [first, ...others] = students;
        await join1(first!);
        // The first student floods the faucet (200 requests, each for a new address) while the others join.
        const flood = `let n={};Promise.all(Array.from({length:200},(_,k)=>fetch(${JSON.stringify(url + '/api/mvb/faucet')},{method:'POST',body:JSON.stringify({address:'D'+k,challenge:'x',nonce:'1'})}).then(r=>{n[r.status]=(n[r.status]||0)+1}))).then(()=>process.stdout.write(JSON.stringify(n)))`;
        const [floodRun, ...times] = await Promise.all([run(first!.host, ['-e', flood]), ...others.map(join1)]);
        const statuses = JSON.parse(floodRun.out) as Record<string, number>;
        note(
          `flood from ${first!.name}: ${JSON.stringify(statuses)}; the others joined in ${times.map((t) => (t / 1000).toFixed(1)).join(', ')} s`,
        );
        assert.equal(statuses['200'] ?? 0, 0, 'the flood got no coins');
        assert.equal(
          Object.values(statuses).reduce((a, b) => a + b, 0),
          200,
        );
        for (const s of students) assert.match(s.address, /^D/);
      });

      it('each student mines under their name, pays a neighbour and sees it confirmed; the explorer names them on their blocks', async () => {
        for (const s of students) {
          const [cmd, ...args] = [...lan!.exec(s.host), process.execPath, MINER_BIN, ...s.minerLine, '--threads', '1'];
          const child = track(spawn(cmd!, args, { stdio: 'ignore', detached: true, env }), true);
          miners.push({ child, exited: new Promise((res) => child.once('exit', (c) => res(c))) });
        }
        for (const s of students)
          await waitForAsync(
            async () => {
              const row = await balance(s);
              return parseCoins(row.balance) - parseCoins(row.immature) >= parseCoins('10');
            },
            60_000,
            () => `${s.name} never saw the faucet's coins spendable`,
            500,
          );
        const ids: string[] = [];
        for (const s of students) {
          const to = students[s.i % STUDENTS]!;
          ids.push((await wallet(s, 'send', s.name.replace(/ /g, '-'), '1', to.address)).out.trim());
        }
        for (const [k, s] of students.entries())
          await waitForAsync(
            async () =>
              (JSON.parse((await wallet(s, 'status', ids[k]!, '--json')).out) as { status: string }).status === 'confirmed' ||
              (await balance(s), false),
            90_000,
            () => `${s.name}'s payment ${ids[k]} never confirmed`,
            1000,
          );
        const tree = (await fetchFrom(students[1]!.host, '/api/mvb/tree?last=500')) as {
          blocks: { minerName: string | null; miner: string | null }[];
        };
        const named = tree.blocks.filter((b) => b.minerName?.startsWith('student'));
        const byName = new Map(students.map((s) => [s.name, s.address]));
        for (const b of named) assert.equal(b.miner, byName.get(b.minerName!), `a block tagged ${b.minerName} pays ${b.minerName}`);
        const names = new Set(named.map((b) => b.minerName));
        note(`blocks named: ${named.length} by ${[...names].join(', ')}; payments ${ids.length} confirmed`);
        assert.ok(names.size >= 3, `at least 3 students named on blocks, got ${[...names].join(', ')}`);
      });

      if (!isolated)
        it('a newcomer: from a copy of mvb to faucet coins (git clone, npm ci --offline, join, sync), timed', async () => {
          const h = lan!.hosts[1 + STUDENTS]!;
          const copy = join(dir, 'newcomer', 'mvb');
          const home = { ...env, HOME: process.env['HOME'] ?? '/root' };
          const step = async (argv: string[], cwd?: string) => {
            const full = cwd ? ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', cwd, ...argv] : argv;
            const r = await cmds!.run(h, full, { timeoutMs: 180_000, env: home });
            assert.ok(
              !r.timedOut && r.code === 0,
              `${argv.join(' ')}: ${r.timedOut ? 'timed out' : `exit ${r.code}`}\n${r.err.slice(-2000)}`,
            );
          };
          const t0 = Date.now();
          await step(['git', 'clone', '-q', ROOT, copy]);
          const cloned = Date.now();
          await step(['npm', 'ci', '--offline', '--no-audit', '--no-fund'], copy);
          const installed = Date.now();
          const walletDir = join(dir, 'newcomer', 'wallet');
          const wallet = join(copy, 'dist/src/wallet/main.js');
          const r = await run(h, [
            wallet,
            '--datadir',
            walletDir,
            'join',
            url,
            '--name',
            'newcomer',
            '--miner-datadir',
            join(dir, 'newcomer', 'miner'),
          ]);
          assert.match(r.out, /the faucet sent you 10\.00000000 coins/, r.out);
          await waitForAsync(
            async () => {
              await run(h, [wallet, '--datadir', walletDir, 'sync', '--once', '--timeout', '20']);
              const rows = JSON.parse((await run(h, [wallet, '--datadir', walletDir, 'list-addresses', '--json'])).out) as AddressRow[];
              return rows[0]!.balance === '10.00000000' || rows[0]!.pending === '+10.00000000';
            },
            60_000,
            () => 'the newcomer never saw the faucet coins',
            500,
          );
          const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
          note(
            `newcomer: git clone ${sec(cloned - t0)}, npm ci --offline with its build ${sec(installed - cloned)}, join to coins seen ${sec(Date.now() - installed)}; ${sec(Date.now() - t0)} in all`,
          );
        });
    },
  );
}

aClass(false);
aClass(true);
