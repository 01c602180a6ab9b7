// The explorer's Electrum server (protocol 1.4) driven by a real client library from npm,
// @mempool/electrum-client, against `mvb explorer --electrum` on a loopback test network (every
// node broadcasts to 127.255.255.255): version negotiation, a headers and a scripthash
// subscription, a wallet's payment seen as a notification (pool, then block), its Merkle proof
// checked here against the block header with the core's hash functions, a header checkpoint
// proof (cp_height) checked against the core's Merkle root of the header hashes, a transaction
// broadcast; no request fails. Then hostile input: an oversize line, garbage JSON, batches past
// the bound, too many subscriptions and too many connections from one address: each is answered
// or closed and counted, and an honest client on another address is still served.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { type Socket, connect } from 'node:net';
import { join } from 'node:path';
import { decodeAddress } from '../src/shared/core/address.js';
import { fromHex, hashToHex, hexToHash, toHex } from '../src/shared/core/bytes.js';
import { sha256, sha256d } from '../src/shared/core/hash.js';
import { decodeHeader, headerHash } from '../src/shared/core/header.js';
import { merkleRoot } from '../src/shared/core/merkle.js';
import { p2pkhScript } from '../src/shared/core/script.js';
import { decodeTx, encodeTx, txid } from '../src/shared/core/tx.js';
import { explorerCommands } from '../src/explorer/cmds/run.js';
import { ElectrumServer, MAX_CONNECTIONS_PER_ADDRESS } from '../src/explorer/electrum/server.js';
import { MAX_SUBSCRIPTIONS_PER_SESSION } from '../src/explorer/electrum/subscriptions.js';
import { MAX_BATCH } from '../src/explorer/electrum/session.js';
import { Lookups } from '../src/explorer/lookups.js';
import { parseElectrum } from '../src/explorer/electrum/option.js';
import { CliError } from '../src/shared/node/cli/command.js';
import { runCli } from '../src/shared/node/cli/runner.js';
import { bob, carol, coinOf, transfer } from './kit/blockgen.js';
import { type RunningExplorer, startExplorer, waitHeight } from './kit/explorer.js';
import { removeDir, setArgs, tempDir, waitFor } from './kit/procs.js';
import { Capture, TestMiner, settingsOf, testNetSets, wallet } from './kit/wallet-net.js';

const require = createRequire(import.meta.url);
const ElectrumClient = require('@mempool/electrum-client') as new (...a: unknown[]) => any;

const COIN = 100_000_000;
const MINER_PKH = new Uint8Array(20).fill(5);
const scripthashOf = (spk: Uint8Array) => hashToHex(sha256(spk));
/** The protocol's status: SHA-256 of "tx_hash:height:" for each history item, in order. */
const statusOf = (h: { tx_hash: string; height: number }[]) =>
  h.length ? toHex(sha256(new TextEncoder().encode(h.map((i) => `${i.tx_hash}:${i.height}:`).join('')))) : null;

/** Folds a Merkle branch (display hex, as Electrum sends it) from a leaf at pos up to the root. */
function foldBranch(leaf: Uint8Array, branch: readonly string[], pos: number): Uint8Array {
  let h = leaf;
  for (const [i, sib] of branch.entries()) {
    const s = hexToHash(sib);
    const both = new Uint8Array(64);
    const right = (pos >> i) & 1;
    both.set(right ? s : h, 0);
    both.set(right ? h : s, 32);
    h = sha256d(both);
  }
  return h;
}

/**
 * The library resolves a falsy result (null, false, '') with the whole response message: this
 * takes the result out of it.
 */
const result = (x: any): any => (x && typeof x === 'object' && x.jsonrpc === '2.0' && 'result' in x ? x.result : x);

/** A client with no reconnecting and no console logging; every error it reports is collected. */
async function client(port: number, errors: unknown[], localAddress?: string): Promise<any> {
  const c = new ElectrumClient(port, '127.0.0.1', 'tcp', localAddress ? { localAddress } : undefined, {
    onLog: () => {},
    onError: (e: unknown) => errors.push(e),
  });
  await c.initElectrum(
    { client: 'mvb-test', version: ['1.4', '1.4.2'] },
    { maxRetry: 0, retryPeriod: 1000, pingPeriod: 120_000, callback: null },
  );
  return c;
}

/** Resolves with the next notification of `method` whose params satisfy `ok`. */
function nextNotification(c: any, method: string, ok: (p: any[]) => boolean, timeoutMs = 20_000): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${method} notification within ${timeoutMs} ms`)), timeoutMs);
    const on = (p: any[]) => {
      if (!ok(p)) return;
      clearTimeout(t);
      c.subscribe.off(method, on);
      resolve(p);
    };
    c.subscribe.on(method, on);
  });
}

describe('explorer: the Electrum server with a real Electrum client', function () {
  this.timeout(90_000);
  let sets: Record<string, unknown>;
  let miner: TestMiner;
  let dir: string;
  let ac: AbortController;
  let done: Promise<number>;
  let port: number;
  let c: any;
  const errors: unknown[] = [];

  before(async () => {
    sets = await testNetSets();
    miner = await TestMiner.start(sets);
    dir = tempDir('explorer-electrum');
    ac = new AbortController();
    const cap = new Capture();
    const argv = [
      '--datadir',
      join(dir, 'explorer'),
      '--network',
      'devnet',
      ...setArgs(sets),
      '--http',
      '127.0.0.1:0',
      '--electrum',
      '0',
      '--json',
    ];
    done = runCli('mvb-explorer', explorerCommands, argv, { app: 'tool', io: cap.io, env: {}, signal: ac.signal });
    const line = await cap.waitLine(/"electrum"/, 20_000);
    const at = JSON.parse(line).electrum as string;
    assert.match(at, /^127\.0\.0\.1:\d+$/, 'a port alone is served on loopback');
    port = Number(at.split(':')[1]);
    c = await client(port, errors);
  });
  after(async () => {
    c?.close();
    ac?.abort();
    assert.equal(await done, 0);
    await miner?.stop();
    removeDir(dir);
  });

  it('negotiates 1.4.x and describes itself', async () => {
    assert.match(c.versionInfo[0], /^mvb /);
    assert.equal(c.versionInfo[1], '1.4.2');
    const f = await c.server_features();
    assert.equal(f.genesis_hash, hashToHex(settingsOf(sets).params.genesisHash));
    assert.equal(f.hash_function, 'sha256');
    assert.equal(f.protocol_min, '1.4');
    assert.equal(f.protocol_max, '1.4.2');
    assert.equal(f.pruning, null);
    assert.deepEqual(f.hosts, { '127.0.0.1': { tcp_port: port, ssl_port: null } });
    assert.match(await c.server_banner(), /Electrum protocol 1\.4/);
    assert.deepEqual(await c.serverPeers_subscribe(), []);
    assert.equal(result(await c.serverDonation_address()), '');
    assert.equal(await c.blockchain_relayfee(), (settingsOf(sets).minRelayFeeRate * 1000) / COIN);
    assert.equal(await c.blockchainEstimatefee(2), -1, 'no data yet: -1, as ElectrumX says');
    // A second server.version is refused, and the connection still answers.
    await assert.rejects(c.server_version('again', '1.4'), (e: any) => /already sent/.test(e.message));
    assert.equal(result(await c.server_ping()), null);
  });

  it('notifies a wallet’s payment in the pool and in its block; the Merkle proof checks against the header', async () => {
    const aliceDir = join(dir, 'alice');
    const r = await wallet(aliceDir, sets, ['new-address', 'alice', '--json']);
    assert.equal(r.code, 0, r.err);
    const alice = decodeAddress(JSON.parse(r.out).address).hash160;
    miner.mine(7, alice);
    miner.mine(5, MINER_PKH);
    const tip0 = await c.blockchainHeaders_subscribe();
    const fresh = tip0.height === 12 ? tip0 : (await nextNotification(c, 'blockchain.headers.subscribe', (p) => p[0].height === 12))[0];
    assert.equal(hashToHex(headerHash(decodeHeader(fromHex(fresh.hex)))), hashToHex(miner.tip.hash));
    assert.equal((await wallet(aliceDir, sets, ['sync', '--once'])).code, 0);

    const bobSh = scripthashOf(p2pkhScript(bob.pkh));
    assert.equal(result(await c.blockchainScripthash_subscribe(bobSh)), null, 'no history: status null');
    const inPool = nextNotification(c, 'blockchain.scripthash.subscribe', (p) => p[0] === bobSh);
    const bobAddr = (await import('../src/shared/core/address.js')).encodeAddress(bob.pkh, settingsOf(sets).params.addressVersion);
    const sent = await wallet(aliceDir, sets, ['send', 'alice', '2.5', bobAddr]);
    assert.equal(sent.code, 0, sent.err);
    const [, poolStatus] = await inPool;
    const mem = await c.blockchainScripthash_getMempool(bobSh);
    assert.equal(mem.length, 1);
    assert.equal(mem[0].height, 0);
    assert.ok(mem[0].fee > 0);
    const id = mem[0].tx_hash as string;
    assert.equal(poolStatus, statusOf(await c.blockchainScripthash_getHistory(bobSh)));
    assert.deepEqual(await c.blockchainScripthash_getBalance(bobSh), { confirmed: 0, unconfirmed: 2.5 * COIN });

    // The miner mines what it heard; both subscriptions hear of the block.
    await waitFor(
      () => miner.txs.some((t) => hashToHex(txid(t)) === id) || undefined,
      20_000,
      () => `the miner never heard ${id}`,
    );
    const payment = miner.txs.find((t) => hashToHex(txid(t)) === id)!;
    const header = nextNotification(c, 'blockchain.headers.subscribe', (p) => p[0].height === 13);
    const mined = nextNotification(c, 'blockchain.scripthash.subscribe', (p) => p[0] === bobSh && p[1] !== poolStatus);
    const minedAt = performance.now();
    miner.mine(1, MINER_PKH, { txs: [payment] });
    const [tip] = await header;
    const [, minedStatus] = await mined;
    console.log(`      block announced → scripthash notified in ${(performance.now() - minedAt).toFixed(0)} ms`);
    const hist = await c.blockchainScripthash_getHistory(bobSh);
    assert.deepEqual(hist, [{ tx_hash: id, height: 13 }]);
    assert.equal(minedStatus, statusOf(hist));

    // The proof: the branch from the txid must give the header's Merkle root.
    const proof = await c.blockchainTransaction_getMerkle(id, 13);
    assert.equal(proof.block_height, 13);
    const root = decodeHeader(fromHex(tip.hex)).merkleRoot;
    assert.equal(toHex(foldBranch(hexToHash(id), proof.merkle, proof.pos)), toHex(root));
    const ids = [
      await c.request('blockchain.transaction.id_from_pos', [13, 0]),
      await c.request('blockchain.transaction.id_from_pos', [13, 1]),
    ];
    assert.equal(ids[proof.pos], id);
    assert.equal(toHex(merkleRoot(ids.map(hexToHash))), toHex(root), 'the core’s Merkle root of the block’s txids');
    const withMerkle = await c.request('blockchain.transaction.id_from_pos', [13, proof.pos, true]);
    assert.deepEqual(withMerkle, { tx_hash: id, merkle: proof.merkle });
    assert.deepEqual(await c.blockchainScripthash_getBalance(bobSh), { confirmed: 2.5 * COIN, unconfirmed: 0 });
    const utxo = await c.blockchainScripthash_listunspent(bobSh);
    assert.equal(utxo.length, 1);
    assert.equal(utxo[0].height, 13);
    assert.equal(utxo[0].value, 2.5 * COIN);
    const v = await c.blockchainTransaction_get(id, true);
    assert.equal(v.txid, id);
    assert.equal(v.confirmations, 1);
    assert.equal(v.hex, toHex(encodeTx(payment)));
    assert.equal(v.vout[utxo[0].tx_pos].scriptPubKey.address, bobAddr);
    assert.equal(v.vout[utxo[0].tx_pos].value, 2.5);
  });

  it('serves headers with checkpoint proofs (cp_height) that check against the core’s Merkle root of header hashes', async () => {
    const h = await c.request('blockchain.block.headers', [0, 3000]);
    assert.equal(h.count, 14);
    assert.equal(h.max, 2016);
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < h.count; i++) hashes.push(headerHash(decodeHeader(fromHex(h.hex.slice(160 * i, 160 * (i + 1))))));
    const root = toHex(merkleRoot(hashes.slice(0, 13 + 1)));
    for (const height of [0, 5, 12, 13]) {
      const p = await c.request('blockchain.block.header', [height, 13]);
      assert.equal(hashToHex(headerHash(decodeHeader(fromHex(p.header)))), hashToHex(hashes[height]!));
      assert.equal(p.root, hashToHex(fromHex(root)));
      assert.equal(toHex(foldBranch(hashes[height]!, p.branch, height)), root, `branch of header ${height}`);
    }
    const ranged = await c.request('blockchain.block.headers', [10, 3, 13]);
    assert.equal(ranged.count, 3);
    assert.equal(toHex(foldBranch(hashes[12]!, ranged.branch, 12)), root);
    assert.deepEqual(await c.request('blockchain.block.headers', [14, 10]), { count: 0, hex: '', max: 2016 }, 'past the tip: none');
    await assert.rejects(c.request('blockchain.block.header', [5, 99]), (e: any) => e.code === 1 && /cp_height/.test(e.message));
    await assert.rejects(c.request('blockchain.block.header', [99]), (e: any) => e.code === 1 && /past the tip/.test(e.message));
  });

  it('broadcasts a transaction, notifies its spend, and refuses a bad one with Core’s reason', async () => {
    const bobSh = scripthashOf(p2pkhScript(bob.pkh));
    const utxo = (await c.blockchainScripthash_listunspent(bobSh))[0];
    const paid = decodeTx(fromHex(await c.blockchainTransaction_get(utxo.tx_hash)));
    const spend = transfer(coinOf(paid, utxo.tx_pos, bob), carol, 5000n);
    const note = nextNotification(c, 'blockchain.scripthash.subscribe', (p) => p[0] === bobSh);
    const sentAt = performance.now();
    assert.equal(await c.blockchainTransaction_broadcast(toHex(encodeTx(spend))), hashToHex(txid(spend)));
    const [, st] = await note;
    console.log(`      broadcast sent → its scripthash notified in ${(performance.now() - sentAt).toFixed(0)} ms`);
    const hist = await c.blockchainScripthash_getHistory(bobSh);
    assert.equal(hist.length, 2);
    assert.deepEqual(hist[1], { tx_hash: hashToHex(txid(spend)), height: 0, fee: 5000 });
    assert.equal(st, statusOf(hist));
    assert.deepEqual(await c.blockchainScripthash_getBalance(bobSh), { confirmed: 2.5 * COIN, unconfirmed: -2.5 * COIN });
    await assert.rejects(c.blockchainTransaction_broadcast(toHex(encodeTx(spend)).slice(0, 40)), (e: any) =>
      /TX decode failed/.test(e.message),
    );
    const doubleSpend = transfer(coinOf(paid, utxo.tx_pos, bob), bob, 9000n);
    await assert.rejects(
      c.blockchainTransaction_broadcast(toHex(encodeTx(doubleSpend))),
      (e: any) => e.code === 1 && /rejected by network rules: .*mempool/.test(e.message),
    );
    const hist2 = await c.mempool_getFeeHistogram();
    assert.ok(Array.isArray(hist2) && hist2.length >= 1 && hist2[0][1] > 0);
    assert.equal(await c.request('blockchain.scripthash.unsubscribe', [bobSh]), true);
    assert.equal(result(await c.request('blockchain.scripthash.unsubscribe', [bobSh])), false);
    assert.deepEqual(errors, [], 'the client saw no error');
  });
});

/** A raw TCP connection from localAddress: the lines it was sent, and whether it was closed. */
interface RawConn {
  readonly socket: Socket;
  readonly lines: string[];
  readonly closed: Promise<void>;
  isClosed: boolean;
}

function raw(port: number, localAddress = '127.0.0.1'): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let buf = '';
    const conn: RawConn = {
      socket,
      lines: [],
      isClosed: false,
      closed: new Promise((r) => socket.once('close', () => ((conn.isClosed = true), r()))),
    };
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        conn.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    socket.on('error', () => {});
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

/** Waits until conn has been sent n lines; returns them parsed. */
async function linesOf(conn: RawConn, n: number): Promise<any[]> {
  await waitFor(
    () => conn.lines.length >= n || undefined,
    10_000,
    () => `${conn.lines.length} of ${n} lines: ${conn.lines.join('\n')}`,
  );
  return conn.lines.slice(0, n).map((l) => JSON.parse(l));
}

function bounded(p: Promise<void>, what: string): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<void>((_r, rej) => (t = setTimeout(() => rej(new Error(`${what} not closed within 10 s`)), 10_000)));
  return Promise.race([p, late]).finally(() => clearTimeout(t));
}

/** The txid of the coinbase at an active height of the explorer's chain. */
const coinbaseAt = (run: RunningExplorer, h: number) => hashToHex(txid(run.ex.store.getBlock(run.ex.chain.atHeight(h)!.hash)!.txs[0]!));

describe('explorer: the Electrum server under hostile input', function () {
  this.timeout(60_000);
  let miner: TestMiner;
  let run: RunningExplorer;
  let server: ElectrumServer;
  let port: number;
  const opened: RawConn[] = [];

  before(async () => {
    const sets = await testNetSets();
    miner = await TestMiner.start(sets);
    run = await startExplorer(settingsOf(sets));
    miner.mine(2, MINER_PKH);
    await waitHeight(run.ex, 2);
    // Small connection caps (the defaults' rules, at a size a test can fill), short first-line and idle deadlines.
    server = new ElectrumServer(new Lookups(run.ex), { host: '127.0.0.1', maxConnections: 40, firstLineMs: 1500, idleMs: 4000 });
    port = (await server.listen('127.0.0.1', 0)).port;
  });
  after(async () => {
    for (const c of opened) c.socket.destroy();
    await server?.close();
    await run?.stop();
    await miner?.stop();
  });
  const open = async (from?: string) => {
    const c = await raw(port, from);
    opened.push(c);
    return c;
  };

  it('negotiates the highest version both speak, and closes when none is shared', async () => {
    const ask = async (v: unknown) => {
      const c = await open();
      c.socket.write(JSON.stringify({ id: 1, method: 'server.version', params: ['t', v] }) + '\n');
      return { c, r: (await linesOf(c, 1))[0] };
    };
    assert.deepEqual((await ask(['1.2', '1.4.1'])).r.result[1], '1.4.1');
    assert.deepEqual((await ask('1.4')).r.result[1], '1.4');
    assert.deepEqual((await ask(['1.4', '2.0'])).r.result[1], '1.4.2');
    const old = await ask('1.2');
    assert.match(old.r.error.message, /unsupported protocol version/);
    await bounded(old.c.closed, 'a client with no common version');
    assert.equal((await ask(['x', '1.4'])).r.error.code, -32602);
    for (const c of opened.splice(0)) c.socket.destroy();
  });

  it('reads --electrum as [HOST:]PORT, loopback when only a port is given', () => {
    assert.deepEqual(parseElectrum('50001'), { host: '127.0.0.1', port: 50001 });
    assert.deepEqual(parseElectrum('0.0.0.0:50001'), { host: '0.0.0.0', port: 50001 });
    assert.deepEqual(parseElectrum('[::1]:0'), { host: '::1', port: 0 });
    for (const bad of ['', 'host:1', '127.0.0.1:70000', '127.0.0.1:', ':50001'])
      assert.throws(
        () => parseElectrum(bad),
        (e: unknown) => e instanceof CliError && e.code === 2 && /invalid --electrum/.test(e.message),
        bad,
      );
  });

  it('answers malformed JSON-RPC with its error code, then closes a connection that keeps sending it', async () => {
    const c = await open();
    c.socket.write(
      [
        'not json',
        '{"id":1}',
        '[]',
        JSON.stringify(Array(MAX_BATCH + 1).fill({ id: 2, method: 'server.ping' })),
        '{"id":3,"method":"no.such.method"}',
        '{"id":4,"method":"blockchain.block.header","params":["x"]}',
        '{"id":5,"method":"blockchain.scripthash.get_history","params":["zz"]}',
        '{"id":6,"method":"server.ping","params":[1,2,3]}',
        '[{"id":7,"method":"server.ping"},{"id":8,"method":"blockchain.headers.subscribe"}]',
      ].join('\n') + '\n',
    );
    const r = await linesOf(c, 9);
    assert.deepEqual(
      r.slice(0, 8).map((x) => [x.id, x.error?.code]),
      [
        [null, -32700],
        [1, -32600],
        [null, -32600],
        [null, -32600],
        [3, -32601],
        [4, -32602],
        [5, -32602],
        [6, -32602],
      ],
    );
    assert.match(r[3].error.message, /batch too large/);
    assert.deepEqual(
      r[8].map((x: any) => x.id),
      [7, 8],
      'a good batch on the same connection is answered',
    );
    assert.equal(r[8][1].result.height, 2);
    assert.ok(server.stats.badJson >= 4);
    c.socket.write('garbage\n'.repeat(20));
    await bounded(c.closed, 'a connection sending garbage');
  });

  it('closes a connection whose line passes the bound, after saying why', async () => {
    const c = await open();
    const before = server.stats.oversize;
    c.socket.write('{"id":1,"method":"server.ping","params":["' + 'x'.repeat(2 * run.ex.settings.params.maxTxBytes + 8192));
    await bounded(c.closed, 'an oversize line');
    assert.match(JSON.parse(c.lines[0]!).error.message, /line too long/);
    assert.equal(server.stats.oversize, before + 1);
  });

  it('refuses subscriptions past the per-connection bound, and keeps answering', async () => {
    const c = await open();
    const batches = Math.ceil((MAX_SUBSCRIPTIONS_PER_SESSION + 5) / MAX_BATCH);
    for (let b = 0; b < batches; b++) {
      const reqs = Array.from({ length: MAX_BATCH }, (_x, i) => {
        const n = b * MAX_BATCH + i;
        return { id: n, method: 'blockchain.scripthash.subscribe', params: [toHex(sha256(Uint8Array.of(n >> 8, n & 255)))] };
      });
      c.socket.write(JSON.stringify(reqs) + '\n');
    }
    const answers = (await linesOf(c, batches)).flat();
    assert.equal(answers.length, batches * MAX_BATCH);
    const ok = answers.filter((a) => 'result' in a).length;
    const refused = answers.filter((a) => a.error?.code === -32000 && /too many subscriptions/.test(a.error.message)).length;
    assert.equal(ok, MAX_SUBSCRIPTIONS_PER_SESSION);
    assert.equal(refused, batches * MAX_BATCH - MAX_SUBSCRIPTIONS_PER_SESSION);
    assert.equal(server.subs.size, MAX_SUBSCRIPTIONS_PER_SESSION);
    c.socket.write('{"id":"p","method":"server.ping"}\n');
    assert.deepEqual((await linesOf(c, batches + 1))[batches], { jsonrpc: '2.0', id: 'p', result: null });
    c.socket.destroy();
    await c.closed;
    await waitFor(
      () => server.subs.size === 0 || undefined,
      5000,
      () => `${server.subs.size} subscriptions left`,
    );
  });

  it('answers an honest client while three addresses flood it with requests (figures printed)', async () => {
    const floods: RawConn[] = [];
    const heavy = JSON.stringify(
      Array.from({ length: 50 }, (_x, i) => ({
        id: i,
        method: 'blockchain.scripthash.get_history',
        params: [scripthashOf(p2pkhScript(MINER_PKH))],
      })),
    );
    for (const a of ['127.0.0.7', '127.0.0.8', '127.0.0.9'])
      for (let i = 0; i < 4; i++) {
        const f = await open(a);
        f.socket.write((heavy + '\n').repeat(20));
        floods.push(f);
      }
    const errors: unknown[] = [];
    const honest = await client(port, errors, '127.0.0.10');
    const ms: number[] = [];
    try {
      for (let i = 0; i < 50; i++) {
        const t = performance.now();
        assert.equal((await honest.blockchainScripthash_getHistory(scripthashOf(p2pkhScript(MINER_PKH)))).length, 2);
        ms.push(performance.now() - t);
      }
    } finally {
      honest.close();
    }
    assert.equal(ms.length, 50);
    assert.deepEqual(errors, []);
    ms.sort((a, b) => a - b);
    const answered = floods.reduce((n, f) => n + f.lines.length, 0);
    console.log(
      `      honest get_history under a flood of 12 connections × 1 000 requests: p50 ${ms[25]!.toFixed(1)} ms, max ${ms[49]!.toFixed(1)} ms; ` +
        `flood batches answered meanwhile ${answered} of 240, rate-delayed by their addresses' allowance`,
    );
    for (const f of floods) f.socket.destroy();
  });

  it('keeps at most its per-address cap from one address, shares the rest, and still serves an honest client', async () => {
    const attackers = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
    const theirs: RawConn[] = [];
    const silent = await open('127.0.0.5');
    const trickler = await open('127.0.0.6');
    trickler.socket.write('{"id":1,"meth');
    // Each sends its first line (so the first-line deadline does not close it), then nothing more.
    for (const a of attackers)
      for (let i = 0; i < MAX_CONNECTIONS_PER_ADDRESS + 4; i++) {
        const c = await open(a);
        c.socket.write('{"id":1,"method":"server.ping"}\n');
        theirs.push(c);
      }
    // The oldest of each address past its cap, and past the total (40, the silent one's and the trickler's counted) of the address holding most, are closed.
    await waitFor(
      () => theirs.filter((c) => !c.isClosed).length <= 40 - 2 || undefined,
      10_000,
      () => `${theirs.filter((c) => !c.isClosed).length} attacker connections open`,
    );
    for (const a of attackers) {
      const mine = theirs.filter((c) => c.socket.localAddress === a && !c.isClosed).length;
      assert.ok(mine <= MAX_CONNECTIONS_PER_ADDRESS, `${a} holds ${mine}`);
    }
    const errors: unknown[] = [];
    const honest = await client(port, errors);
    try {
      const tip = await honest.blockchainHeaders_subscribe();
      assert.equal(tip.height, 2);
      assert.deepEqual(await honest.blockchainScripthash_getHistory(scripthashOf(p2pkhScript(MINER_PKH))), [
        { tx_hash: coinbaseAt(run, 1), height: 1 },
        { tx_hash: coinbaseAt(run, 2), height: 2 },
      ]);
      assert.ok(server.stats.replaced >= theirs.length - 40, `${server.stats.replaced} replaced`);
      // A connection that never sends a line is closed at its first-line deadline.
      await bounded(silent.closed, 'a silent connection');
      await bounded(trickler.closed, 'a connection that never finishes its first line');
      assert.ok(server.stats.firstLineDeadlines >= 2);
      assert.deepEqual(errors, []);
      assert.equal(server.stats.internalErrors, 0);
    } finally {
      honest.close();
    }
  });

  it('closes a connection silent both ways past the idle deadline', async () => {
    const c = await open('127.0.0.11');
    const before = server.stats.idleClosed;
    c.socket.write('{"id":1,"method":"server.ping"}\n');
    assert.deepEqual(await linesOf(c, 1), [{ jsonrpc: '2.0', id: 1, result: null }]);
    await bounded(c.closed, 'an idle connection');
    assert.ok(server.stats.idleClosed > before, 'counted as idle');
  });
});

describe('explorer: Electrum notifications across a reorganisation', function () {
  this.timeout(60_000);
  let miner: TestMiner;
  let run: RunningExplorer;
  let server: ElectrumServer;
  let c: any;
  const errors: unknown[] = [];

  before(async () => {
    const sets = await testNetSets();
    miner = await TestMiner.start(sets);
    run = await startExplorer(settingsOf(sets));
    miner.mine(2, MINER_PKH);
    await waitHeight(run.ex, 2);
    server = new ElectrumServer(new Lookups(run.ex), { host: '127.0.0.1' });
    c = await client((await server.listen('127.0.0.1', 0)).port, errors);
  });
  after(async () => {
    c?.close();
    await server?.close();
    await run?.stop();
    await miner?.stop();
  });

  it('sends the new tip and the new status when the block paying a scripthash leaves the best chain', async () => {
    const sh = scripthashOf(p2pkhScript(carol.pkh));
    assert.equal(result(await c.blockchainScripthash_subscribe(sh)), null);
    assert.equal((await c.blockchainHeaders_subscribe()).height, 2);
    const fork = miner.tip;
    const paid = nextNotification(c, 'blockchain.scripthash.subscribe', (p) => p[0] === sh && p[1] !== null);
    const [b3] = miner.mine(1, carol.pkh);
    const [, st] = await paid;
    assert.equal(st, statusOf([{ tx_hash: hashToHex(txid(b3!.txs[0]!)), height: 3 }]));
    // A longer branch from height 2 that pays someone else: carol's coinbase is gone, her status is null again.
    const tip = nextNotification(c, 'blockchain.headers.subscribe', (p) => p[0].height === 4);
    const gone = nextNotification(c, 'blockchain.scripthash.subscribe', (p) => p[0] === sh && p[1] === null);
    const branch = miner.mine(2, MINER_PKH, { parent: fork });
    const [t] = await tip;
    assert.equal(hashToHex(headerHash(decodeHeader(fromHex(t.hex)))), hashToHex(headerHash(branch[1]!.header)));
    await gone;
    assert.deepEqual(await c.blockchainScripthash_getHistory(sh), []);
    assert.equal(server.stats.internalErrors, 0);
    assert.deepEqual(errors, []);
  });
});
