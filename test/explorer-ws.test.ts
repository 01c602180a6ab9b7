// mempool.space's websocket (/api/v1/ws) with a real websocket client (`ws`'s WebSocket) against an
// explorer following a loopback network: the state of each subscription on `want`, `init` and
// `ping`; a new block pushed within 1 s of its connection to the explorer's chain (issue 20's
// done-when, the figure printed), its fields those of GET /api/v1/block/:hash; a tracked address
// told of a payment in the pool and in its block, a tracked transaction of its confirmation; and
// hostile clients (an oversize message, garbage, a flood, too many sockets from one address, a
// reader that never reads, a silent one) each bounded while an honest client is served.
import assert from 'node:assert/strict';
import net from 'node:net';
import { encodeAddress } from '../src/shared/core/address.js';
import { hashToHex, toHex } from '../src/shared/core/bytes.js';
import { headerHash } from '../src/shared/core/header.js';
import { type Tx, encodeTx, txid } from '../src/shared/core/tx.js';
import { Api } from '../src/explorer/api.js';
import { ExplorerHttp } from '../src/explorer/http.js';
import { WS_LIMITS } from '../src/explorer/ws.js';
import { type Spendable, alice, bob, carol, coinbaseCoin, transfer } from './kit/blockgen.js';
import { type RunningExplorer, get, getJson, startExplorer, waitHeight } from './kit/explorer.js';
import { waitFor } from './kit/procs.js';
import { TestMiner, settingsOf, testNetSets } from './kit/wallet-net.js';
import { WebSocket } from 'ws';

/** A websocket client that keeps every message it is sent (with its arrival time), and waits for one matching a test. */
class Probe {
  readonly got: any[] = [];
  closed?: { code: number; reason: string };

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.got.push({ at: performance.now(), msg: JSON.parse(d.toString()) });
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
    ws.on('error', () => {});
  }

  static open(url: string, opts: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<Probe> {
    const ws = new WebSocket(url.replace('http:', 'ws:') + '/api/v1/ws', opts);
    const p = new Probe(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(p));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first message from index `from` on for which pick returns something. */
  next<T>(pick: (m: any) => T | undefined, what: string, from = 0, timeoutMs = 10_000): Promise<{ value: T; at: number; index: number }> {
    return waitFor(
      () => {
        for (let i = from; i < this.got.length; i++) {
          const v = pick(this.got[i].msg);
          if (v !== undefined) return { value: v, at: this.got[i].at as number, index: i };
        }
        return undefined;
      },
      timeoutMs,
      () => `no ${what} within ${timeoutMs} ms (got ${this.got.map((g) => Object.keys(g.msg).join('+')).join(', ')})`,
    );
  }

  whenClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return waitFor(
      () => this.closed,
      timeoutMs,
      () => `socket not closed within ${timeoutMs} ms`,
    );
  }

  close(): void {
    this.ws.terminate();
  }
}

/** One raw exchange: what the server answers to text, until it closes. */
function rawExchange(port: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('no answer')));
  });
}

describe('explorer websocket /api/v1/ws (mempool.space’s)', function () {
  this.timeout(60_000);
  let miner: TestMiner;
  let run: RunningExplorer;
  let base: string;
  const coins: Spendable[] = [];
  const probes: Probe[] = [];
  const open = async (url: string, opts?: ConstructorParameters<typeof WebSocket>[2]) => {
    const p = await Probe.open(url, opts);
    probes.push(p);
    return p;
  };
  const addr = (pkh: Uint8Array) => encodeAddress(pkh, run.ex.settings.params.addressVersion);

  before(async () => {
    const sets = await testNetSets();
    miner = await TestMiner.start(sets);
    run = await startExplorer(settingsOf(sets));
    base = run.url;
    for (const b of miner.mine(10, alice.pkh, { name: 'PoolA' })) coins.push(coinbaseCoin(b));
    await waitHeight(run.ex, 10);
  });
  after(async () => {
    for (const p of probes) p.close();
    await run?.stop();
    await miner?.stop();
  });

  it('sends each new subscription’s state on want, every part on init, and answers ping', async () => {
    const p = await open(base);
    p.send({ action: 'want', data: ['blocks', 'mempool-blocks', 'stats'] });
    const first = (await p.next((m) => (m.blocks ? m : undefined), 'initial state')).value;
    assert.deepEqual(Object.keys(first).sort(), [
      'blocks',
      'da',
      'fees',
      'mempool-blocks',
      'mempoolInfo',
      'transactions',
      'vBytesPerSecond',
    ]);
    assert.equal(first.blocks.length, 8, "mempool.space's INITIAL_BLOCKS_AMOUNT");
    assert.deepEqual(
      first.blocks.map((b: any) => b.height),
      [3, 4, 5, 6, 7, 8, 9, 10],
      'oldest first',
    );
    const tip = hashToHex(run.ex.chain.tip.hash);
    assert.deepEqual(first.blocks[7], await getJson(base, `/api/v1/block/${tip}`));
    assert.deepEqual(first.fees, await getJson(base, '/api/v1/fees/recommended'));
    assert.deepEqual(first['mempool-blocks'], await getJson(base, '/api/v1/fees/mempool-blocks'));
    const da = await getJson(base, '/api/v1/difficulty-adjustment');
    assert.equal(first.da.nextRetargetHeight, da.nextRetargetHeight);
    assert.equal(first.da.remainingBlocks, da.remainingBlocks);
    assert.equal(first.mempoolInfo.size, 0);
    assert.equal(first.mempoolInfo.loaded, true);
    assert.equal(typeof first.vBytesPerSecond, 'number');

    // The same want again: nothing new to send. Then ping, and init.
    const n = p.got.length;
    p.send({ action: 'want', data: ['blocks', 'mempool-blocks', 'stats'] });
    p.send({ action: 'ping' });
    const pong = await p.next((m) => (m.pong !== undefined ? m : undefined), 'pong', n);
    assert.deepEqual(pong.value, { pong: true });
    assert.equal(pong.index, n, 'the repeated want sent nothing');
    p.send({ action: 'init' });
    const init = (await p.next((m) => (m.blocks && m.fees ? m : undefined), 'init', n + 1)).value;
    assert.deepEqual(Object.keys(init).sort(), [
      'blocks',
      'da',
      'fees',
      'mempool-blocks',
      'mempoolInfo',
      'transactions',
      'vBytesPerSecond',
    ]);
  });

  it('pushes each new block within 1 s of its connection to the explorer’s chain, with the fields of /api/v1/block/:hash', async () => {
    const p = await open(base);
    p.send({ action: 'want', data: ['blocks', 'mempool-blocks'] });
    await p.next((m) => m.blocks, 'initial blocks');
    const connectedAt = new Map<string, number>();
    const onUpdate = (u: { connected: { entry: { hash: Uint8Array } }[] }) => {
      for (const c of u.connected) connectedAt.set(hashToHex(c.entry.hash), performance.now());
    };
    // Before the websocket's own listener, so the figure includes building and sending the message.
    run.ex.node.prependListener('update', onUpdate);
    const figures: { afterConnect: number; afterMined: number }[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const from = p.got.length;
        const minedAt = performance.now();
        const [b] = miner.mine(1, carol.pkh, { name: 'PoolB' });
        const hash = hashToHex(headerHash(b!.header));
        const got = await p.next((m) => (m.block?.id === hash ? m : undefined), `block ${hash}`, from);
        assert.ok(Array.isArray(got.value['mempool-blocks']), 'mempool-blocks with the block');
        assert.deepEqual(got.value.block, await getJson(base, `/api/v1/block/${hash}`));
        const at = connectedAt.get(hash);
        assert.ok(at !== undefined, 'the explorer connected the block');
        figures.push({ afterConnect: got.at - at, afterMined: got.at - minedAt });
      }
    } finally {
      run.ex.node.off('update', onUpdate);
    }
    assert.equal(figures.length, 5);
    const worst = Math.max(...figures.map((f) => f.afterConnect));
    console.log(
      `      websocket block arrival after the explorer connected it: ${figures.map((f) => f.afterConnect.toFixed(1)).join(', ')} ms` +
        ` (after the miner announced it: ${figures.map((f) => f.afterMined.toFixed(0)).join(', ')} ms)`,
    );
    assert.ok(worst < 1000, `a block took ${worst.toFixed(0)} ms after its connection (issue 20: within 1 s)`);
  });

  it('sends `blocks` afresh on a reorganisation, then each block of the new branch', async () => {
    const p = await open(base);
    p.send({ action: 'want', data: ['blocks'] });
    await p.next((m) => m.blocks, 'initial blocks');
    const from = p.got.length;
    const fork = run.ex.chain.tip.parent!;
    const branch = miner.mine(2, alice.pkh, { parent: miner.chain.getEntry(fork.hash)!, name: 'PoolC' });
    const newTip = hashToHex(headerHash(branch[1]!.header));
    const fresh = await p.next((m) => m.blocks, 'blocks after the reorganisation', from);
    // The last blocks of the chain as it now is (the branch's two on top), then a block message for each.
    assert.deepEqual(
      fresh.value.slice(-2).map((b: any) => b.id),
      branch.map((b) => hashToHex(headerHash(b.header))),
    );
    assert.equal(fresh.value.length, 8);
    const last = await p.next((m) => (m.block?.id === newTip ? m : undefined), 'the new tip', fresh.index);
    assert.equal(last.value.block.height, fork.height + 2);
    assert.deepEqual(
      p.got.slice(fresh.index + 1, last.index + 1).map((g) => g.msg.block.height),
      [fork.height + 1, fork.height + 2],
    );
  });

  it('tells a tracked address of a payment in the pool and in its block, and a tracked transaction of its confirmation', async () => {
    const p = await open(base);
    const tx = transfer(coins[0]!, bob, 10_000n);
    const id = hashToHex(txid(tx));
    p.send({ 'track-address': addr(bob.pkh), 'track-tx': id });
    p.send({ 'track-addresses': [addr(bob.pkh), addr(carol.pkh), 'not an address'] });
    p.send({ action: 'ping' });
    await p.next((m) => m.pong, 'pong');
    const posted = await get(base, '/api/tx', { method: 'POST', body: toHex(encodeTx(tx)) });
    assert.equal(posted.status, 200, posted.text);
    const pooled = await p.next((m) => m['address-transactions'], 'address-transactions');
    assert.deepEqual(
      pooled.value.map((t: any) => t.txid),
      [id],
    );
    assert.equal(pooled.value[0].status.confirmed, false);
    assert.equal(pooled.value[0].vout[0].scriptpubkey_address, addr(bob.pkh));
    assert.deepEqual(pooled.value[0], await getJson(base, `/api/tx/${id}`));
    // Alone in the pool: the middle of the first projected block's first transaction.
    const pos = await p.next((m) => m.txPosition, 'txPosition');
    assert.deepEqual(pos.value, { txid: id, position: { block: 0, vsize: encodeTx(tx).length / 2 } });
    const multi = await p.next((m) => m['multi-address-transactions'], 'multi-address-transactions');
    assert.deepEqual(Object.keys(multi.value), [addr(bob.pkh)]);
    assert.deepEqual(
      multi.value[addr(bob.pkh)].mempool.map((t: any) => t.txid),
      [id],
    );

    await miner.waitTx(id);
    const from = p.got.length;
    miner.mine(1, carol.pkh, { txs: [tx as Tx] });
    const mined = await p.next((m) => (m['block-transactions'] ? m : undefined), 'block-transactions', from);
    assert.equal(mined.value.txConfirmed, id);
    assert.deepEqual(
      mined.value['block-transactions'].map((t: any) => t.txid),
      [id],
    );
    const st = mined.value['block-transactions'][0].status;
    assert.equal(st.confirmed, true);
    assert.equal(st.block_height, run.ex.chain.height);
    assert.deepEqual(mined.value['block-transactions'][0], await getJson(base, `/api/tx/${id}`));
    // The multi-address form lists it as confirmed for bob, and nothing for carol's coinbase-free side.
    assert.deepEqual(
      mined.value['multi-address-transactions'][addr(bob.pkh)].confirmed.map((t: any) => t.txid),
      [id],
    );
  });

  it('tells a tracked pool transaction, and its address, that a block spent its coin in another: txReplaced, address-removed-transactions', async () => {
    const p = await open(base);
    const pooled = transfer(coins[1]!, bob, 10_000n);
    const rival = transfer(coins[1]!, carol, 20_000n);
    const id = hashToHex(txid(pooled));
    // Tracked before it exists: its inputs are learnt when it enters the pool.
    p.send({ 'track-tx': id, 'track-address': addr(bob.pkh) });
    p.send({ action: 'ping' });
    await p.next((m) => m.pong, 'pong');
    const posted = await get(base, '/api/tx', { method: 'POST', body: toHex(encodeTx(pooled)) });
    assert.equal(posted.status, 200, posted.text);
    const told = await p.next((m) => m['address-transactions'], 'address-transactions');
    assert.deepEqual(
      told.value.map((t: any) => t.txid),
      [id],
    );
    const from = p.got.length;
    miner.mine(1, carol.pkh, { txs: [rival] });
    const replaced = await p.next((m) => m.txReplaced, 'txReplaced', from);
    assert.deepEqual(replaced.value, { txid: hashToHex(txid(rival)) });
    assert.equal(run.ex.mempool.get(txid(pooled)), undefined, 'the pool let it go');
    const gone = await p.next((m) => m['address-removed-transactions'], 'address-removed-transactions', from);
    assert.deepEqual(
      gone.value.map((t: any) => t.txid),
      [id],
    );
    assert.equal(gone.value[0].status.confirmed, false);
  });

  it('answers garbage and unknown messages with an error object, closes oversize ones and floods, and keeps serving', async () => {
    const ws = run.http.ws;
    const p = await open(base);
    const before = { ...ws.stats };
    for (const bad of ['not json', '[1,2]', '"a string"', '{"action":"nope"}', '{"track-tx":"zz"}']) p.send(bad);
    p.ws.send(Buffer.from([0xde, 0xad]), { binary: true });
    p.send({ 'track-addresses': Array(WS_LIMITS.maxTrackedAddresses + 1).fill(addr(bob.pkh)) });
    const errors = await waitFor(
      () => (p.got.filter((g) => g.msg.error).length >= 6 ? p.got.filter((g) => g.msg.error) : undefined),
      10_000,
      () => `errors: ${JSON.stringify(p.got.map((g) => g.msg))}`,
    );
    assert.equal(errors.length, 6);
    assert.match(errors[4]!.msg.error, /unknown message/);
    const tooMany = await p.next((m) => m['track-addresses-error'], 'track-addresses-error');
    assert.match(tooMany.value, /maximum of 50 addresses/);
    assert.equal(ws.stats.badJson - before.badJson, 4, 'not json, an array, a string, a binary frame');
    assert.equal(ws.stats.unknown - before.unknown, 2, 'an unknown action, a txid that is not one');

    // A message over maxPayload: `ws` closes the socket with 1009 (message too big).
    const big = await open(base);
    big.send({ 'track-address': 'x'.repeat(WS_LIMITS.maxPayloadBytes) });
    assert.equal((await big.whenClosed()).code, 1009);

    // A flood: past the burst, messages are dropped and counted; one that keeps on is closed 1008.
    const flood = await open(base);
    for (let i = 0; i < 300; i++) flood.send({ action: 'ping' });
    assert.equal((await flood.whenClosed()).code, 1008);
    const pongs = flood.got.filter((g) => g.msg.pong).length;
    assert.ok(pongs >= WS_LIMITS.messageBurst && pongs < 300, `the flood got ${pongs} answers, about its burst`);
    assert.ok(ws.stats.overRate >= 100 && ws.stats.rateClosed >= 1);

    // A handshake without Sec-WebSocket-Key: `ws` answers 400 and closes.
    const raw = await rawExchange(
      new URL(base).port,
      'GET /api/v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    assert.match(raw, /^HTTP\/1\.1 400 /);

    // The first client is still served.
    p.send({ action: 'ping' });
    await p.next((m) => m.pong, 'pong after the hostile clients', p.got.length - 1);
  });

  it('holds at most maxPerAddress sockets from one address, refusing none of another’s', async () => {
    const ws = run.http.ws;
    const crowd: Probe[] = [];
    for (let i = 0; i < 20; i++) crowd.push(await open(base, { localAddress: '127.0.0.7' }));
    const open7 = () => crowd.filter((c) => !c.closed).length;
    await waitFor(
      () => open7() === WS_LIMITS.maxPerAddress || undefined,
      10_000,
      () => `${open7()} of 127.0.0.7's sockets open`,
    );
    assert.ok(crowd.filter((c) => c.closed).every((c) => c.closed!.code === 1013));
    assert.ok(
      crowd.slice(-WS_LIMITS.maxPerAddress).every((c) => !c.closed),
      'the newest kept, the oldest closed',
    );
    const honest = await open(base, { localAddress: '127.0.0.8' });
    honest.send({ action: 'want', data: ['blocks'] });
    await honest.next((m) => m.blocks, 'blocks for the honest client');
    assert.ok(ws.clients.size >= WS_LIMITS.maxPerAddress + 1);
  });

  it('keeps an honest client’s one socket while 30 addresses open 8 each against a cap of 64', async () => {
    const small = new ExplorerHttp(new Api(run.ex), undefined, undefined, { maxClients: 64 });
    const a = await small.listen('127.0.0.1', 0);
    const url = `http://127.0.0.1:${a.port}`;
    try {
      const honest = await open(url, { localAddress: '127.0.0.9' });
      honest.send({ action: 'want', data: ['blocks'] });
      await honest.next((m) => m.blocks, 'blocks for the honest client');
      const attackers: Probe[] = [];
      for (let k = 0; k < 8; k++) for (let i = 0; i < 30; i++) attackers.push(await open(url, { localAddress: `127.0.1.${10 + i}` }));
      const held = () => attackers.filter((c) => !c.closed).length;
      await waitFor(
        () => held() === 63 || undefined,
        10_000,
        () => `${held()} attacker sockets open, ${small.ws.clients.size} in the table`,
      );
      assert.equal(attackers.length, 240);
      assert.equal(small.ws.clients.size, 64);
      assert.equal(honest.closed, undefined, 'the honest socket was kept');
      const from = honest.got.length;
      const [b] = miner.mine(1, carol.pkh);
      const hash = hashToHex(headerHash(b!.header));
      await honest.next((m) => (m.block?.id === hash ? m : undefined), 'the next block for the honest client', from);
      for (const c of attackers) c.close();
    } finally {
      await small.close();
    }
  });

  it('drops a client that does not read and cuts a silent one, with the limits made small', async () => {
    // A second server on the same explorer with small limits, so the test is quick.
    const small = new ExplorerHttp(new Api(run.ex), undefined, undefined, {
      maxBufferedBytes: 64 * 1024,
      messagesPerSecond: 1000,
      messageBurst: 1000,
      pingIntervalMs: 300,
    });
    const a = await small.listen('127.0.0.1', 0);
    const url = `http://127.0.0.1:${a.port}`;
    try {
      const slow = await open(url);
      // It stops reading, then asks for the whole state over and over: the unsent bytes grow until it is dropped.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      let asked = 0;
      for (; asked < 990 && small.ws.clients.stats.slowDropped === 0; asked++) {
        slow.send({ action: 'init' });
        if (asked % 50 === 49) await new Promise((r) => setTimeout(r, 10));
      }
      await waitFor(
        () => small.ws.clients.stats.slowDropped === 1 || undefined,
        20_000,
        () => 'the slow reader was not dropped',
      );
      const initBytes = await new Promise<number>((resolve) => {
        const probe = new WebSocket(url.replace('http:', 'ws:') + '/api/v1/ws');
        probe.once('open', () => probe.send(JSON.stringify({ action: 'init' })));
        probe.once('message', (d) => {
          resolve((d as Buffer).length);
          probe.terminate();
        });
      });
      console.log(`      slow reader dropped after asking ${asked} times for the state (${initBytes} bytes each)`);
      // A client that never answers pings is cut within two intervals; one that does is kept.
      const silent = await open(url, { autoPong: false });
      const lively = await open(url);
      await silent.whenClosed(5000);
      assert.ok(small.ws.stats.timedOut >= 1);
      assert.equal(lively.closed, undefined);
      lively.send({ action: 'ping' });
      await lively.next((m) => m.pong, 'pong from the lively client');
    } finally {
      await small.close();
    }
  });

  it('leaves the page, the HTTP API and the event stream as they were, and refuses upgrades elsewhere', async () => {
    const page = await get(base, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.equal((await get(base, '/api/blocks/tip/height')).text, String(run.ex.chain.height));
    const other = new WebSocket(base.replace('http:', 'ws:') + '/api/mvb/events');
    const status = await new Promise<number>((resolve) => {
      other.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      other.once('error', () => resolve(-1));
    });
    assert.equal(status, 404);
    const ac = new AbortController();
    const r = await fetch(base + '/api/mvb/events', { signal: ac.signal });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
    ac.abort();
  });
});
