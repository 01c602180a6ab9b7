// The block server's sharing rules, piece by piece (issue 18): the scheduler gives each address
// group the same bytes per round however many connections it has or however large the answers
// it asks for; eviction closes the connection that keeps the server waiting, never a protected
// one while others are left; and a BlockServer in this process over a generated chain, with
// clients on their own loopback addresses (127.0.0.2 and up), admits every newcomer when full,
// closes clients that do not read or that pipeline without end, and answers honest requests.
// The attack at scale, with real processes, is test/blockserver-attack.test.ts.
import assert from 'node:assert/strict';
import net from 'node:net';
import { type Block, Chain, MemoryChainStore, encodeBlock, headerHash } from '../src/shared/core/index.js';
import { BlockClient } from '../src/shared/node/net/blockclient.js';
import { BlockServer } from '../src/shared/node/net/blockserver.js';
import { FRAME_COST_BYTES, FairScheduler, QUANTUM_BYTES, USAGE_HALF_LIFE_MS } from '../src/shared/node/net/fair-scheduler.js';
import { type EvictionCandidate, SlotUse, selectVictim } from '../src/shared/node/net/inbound-eviction.js';
import { MsgType, encodeFrame, encodeGetHeaders, encodeHashes } from '../src/shared/node/net/protocol.js';
import { BlockGen, NOW, alice, makeTestParams, pay } from './kit/blockgen.js';
import { SeededGen } from './kit/prng.js';
import { makeCoinbase } from '../src/shared/core/builder.js';
import { waitFor } from './kit/procs.js';

/** Serves `frames` frames from s, each of the size its item says; the bytes each group got. */
function drain<T extends { group: string; size: number; left: number }>(s: FairScheduler<T>, frames: number): Map<string, number> {
  const got = new Map<string, number>();
  for (let i = 0; i < frames; i++) {
    const item = s.next();
    if (!item) break;
    s.charge(item.size);
    got.set(item.group, (got.get(item.group) ?? 0) + item.size);
    if (--item.left > 0) s.add(item.group, item);
  }
  return got;
}

describe('block server fairness: scheduler', () => {
  it('an address with 50 connections gets the bytes of an address with 1, and each of its 50 an equal part', () => {
    const s = new FairScheduler<{ group: string; size: number; left: number }>();
    const many = Array.from({ length: 50 }, () => ({ group: 'A', size: 1000, left: 1e9 }));
    for (const x of many) s.add('A', x);
    s.add('B', { group: 'B', size: 1000, left: 1e9 });
    const got = drain(s, 20_000);
    const ratio = got.get('A')! / got.get('B')!;
    assert.ok(ratio > 0.95 && ratio < 1.05, `A/B bytes ${ratio}`);
    const each = many.map((x) => 1e9 - x.left);
    assert.ok(Math.max(...each) - Math.min(...each) <= 1, `frames per connection of A: ${Math.min(...each)}..${Math.max(...each)}`);
  });

  it('an address asking for 100 kB answers gets the bytes of one asking for 300-byte answers, not the frames', () => {
    const s = new FairScheduler<{ group: string; size: number; left: number }>();
    s.add('big', { group: 'big', size: 100_000, left: 1e9 });
    s.add('small', { group: 'small', size: 300, left: 1e9 });
    const got = drain(s, 50_000);
    // Each frame is also charged FRAME_COST_BYTES, which small frames feel more.
    const small = got.get('small')! * (1 + FRAME_COST_BYTES / 300);
    const big = got.get('big')! * (1 + FRAME_COST_BYTES / 100_000);
    const ratio = big / small;
    assert.ok(ratio > 0.8 && ratio < 1.25, `big/small charged bytes ${ratio}`);
  });

  it('a group asking now and then is served within two turns, not after a round of 100 groups that keep the server busy', () => {
    const s = new FairScheduler<{ group: string; size: number; left: number }>();
    for (let g = 0; g < 100; g++) s.add(`busy${g}`, { group: `busy${g}`, size: 1000, left: 1e9 });
    drain(s, 5_000); // every busy group has had turns and keeps having work
    const waits: number[] = [];
    for (let k = 0; k < 20; k++) {
      const sparse = { group: 'sparse', size: 300, left: 1 };
      s.add('sparse', sparse);
      let turns = 0;
      for (let item = s.next(); item !== sparse; item = s.next()) {
        s.charge(item!.size);
        s.add(item!.group, item!);
        turns++;
      }
      s.charge(sparse.size);
      waits.push(turns);
      drain(s, 777); // the busy groups go on meanwhile
    }
    // Frames of other groups before it: what is left of the current busy turn, then at most one busy turn.
    assert.ok(
      Math.max(...waits) <= 2 * Math.ceil(QUANTUM_BYTES / (1000 + FRAME_COST_BYTES)),
      `frames served before the sparse group: ${waits.join(' ')}`,
    );
  });

  it('what a group was sent is forgotten with time: half after USAGE_HALF_LIFE_MS; a hog quiet for 10 half-lives is served like any other', () => {
    let t = 0;
    const s = new FairScheduler<{ group: string; size: number; left: number }>(() => t);
    const hog = { group: 'hog', size: 100_000, left: 20 };
    s.add('hog', hog);
    drain(s, 20); // 2 MB, then nothing queued
    const sent = s.usageOf('hog');
    assert.ok(Math.abs(sent - 20 * (100_000 + FRAME_COST_BYTES)) < 1, `usage ${sent}`);
    t += USAGE_HALF_LIFE_MS;
    assert.ok(Math.abs(s.usageOf('hog') - sent / 2) < 1, `after one half-life: ${s.usageOf('hog')}`);
    t += 9 * USAGE_HALF_LIFE_MS; // 2 MB / 1 024: about one frame's worth
    const other = { group: 'other', size: 1000, left: 1e9 };
    s.add('other', other);
    drain(s, 3); // the other has had 3 frames
    hog.left = 1e9;
    s.add('hog', hog);
    // Within the other's turn in progress and one more, the hog has a turn again (2 MB unforgotten would be 1 600 frames of the other first).
    const next = Array.from({ length: 2 * Math.ceil(QUANTUM_BYTES / 1256) + 1 }, () => {
      const item = s.next()!;
      s.charge(item.size);
      s.add(item.group, item);
      return item.group;
    });
    assert.ok(next.includes('hog'), next.join(' '));
  });

  it('a group that overspent sits its turns out, also after going quiet and coming back', () => {
    const s = new FairScheduler<{ group: string; size: number; left: number }>();
    const hog = { group: 'hog', size: 1_000_000, left: 1 };
    s.add('hog', hog);
    assert.equal(s.next(), hog);
    s.charge(hog.size); // one 1 MB frame, then nothing queued: the debt is kept
    const other = { group: 'other', size: QUANTUM_BYTES - FRAME_COST_BYTES, left: 1e9 };
    s.add('other', other);
    hog.left = 1e9;
    s.add('hog', hog);
    let othersBefore = 0;
    for (let item = s.next(); item && item !== hog; item = s.next()) {
      s.charge(item.size);
      s.add(item.group, item);
      othersBefore++;
    }
    // 1 MB of debt is repaid at QUANTUM_BYTES a turn; the other group is served a quantum a turn meanwhile.
    const turns = Math.floor((1_000_000 + FRAME_COST_BYTES) / QUANTUM_BYTES);
    assert.ok(othersBefore >= turns - 1 && othersBefore <= turns + 1, `${othersBefore} frames of the other group first, ${turns} expected`);
  });
});

describe('block server fairness: eviction choice', () => {
  const c = (name: string, use: SlotUse, waitingMs: number, prot = false) => ({ name, use, waitingMs, protected: prot });
  const { Slow, Idle, Busy } = SlotUse;
  const cases: { what: string; sample: (EvictionCandidate & { name: string })[]; victim: string }[] = [
    {
      what: 'a slow one (never asked, or not reading) before an idle or busy one',
      sample: [c('busy', Busy, 0), c('idle', Idle, 5000), c('fresh-silent', Slow, 0)],
      victim: 'fresh-silent',
    },
    { what: 'among slow ones, the one waiting longest', sample: [c('s1', Slow, 20), c('s2', Slow, 900), c('s3', Slow, 31)], victim: 's2' },
    {
      what: 'an idle one before a busy one, also a protected idle one',
      sample: [c('busy', Busy, 0), c('idle', Idle, 1200, true)],
      victim: 'idle',
    },
    { what: 'among busy ones, an unprotected one', sample: [c('fetcher', Busy, 0, true), c('busy', Busy, 0)], victim: 'busy' },
    { what: 'one of the protected when all are', sample: [c('p1', Slow, 10, true), c('p2', Slow, 900, true)], victim: 'p2' },
  ];
  for (const k of cases) {
    it(`closes ${k.what}`, () => {
      const g = new SeededGen(7);
      for (let i = 0; i < 20; i++) assert.equal(selectVictim(g.shuffled(k.sample), () => g.u32() / 2 ** 32)?.name, k.victim);
    });
  }
  it('among equal busy ones, any: each of 4 chosen about a quarter of 4 000 times', () => {
    const g = new SeededGen(8);
    const sample = ['a', 'b', 'c', 'd'].map((n) => c(n, Busy, 0));
    const times = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const v = selectVictim(sample, () => g.u32() / 2 ** 32)!.name;
      times.set(v, (times.get(v) ?? 0) + 1);
    }
    for (const n of ['a', 'b', 'c', 'd']) assert.ok(Math.abs((times.get(n) ?? 0) - 1000) < 120, `${n}: ${times.get(n)}`);
  });
});

/** A chain of n blocks whose coinbases have about `pad` bytes of outputs (large blocks without transactions to sign). */
function chainOf(n: number, pad: number): { chain: Chain; blocks: Block[] } {
  const params = makeTestParams();
  const gen = new BlockGen(params);
  const chain = new Chain(params, new MemoryChainStore());
  const blocks = gen.chain(params.genesis, n, (i) => ({
    coinbase: makeCoinbase(
      i + 1,
      Array.from({ length: Math.ceil(pad / 34) }, () => pay(alice, 1n)),
      new TextEncoder().encode(`pad ${i}`),
    ),
  }));
  const r = chain.processBlocks(blocks, NOW);
  assert.equal(r.rejected, undefined, String(r.rejected));
  assert.equal(chain.height, n);
  return { chain, blocks };
}

/** A raw connection from a loopback address of its own. */
function rawConn(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('block server fairness: a server in this process, clients on loopback addresses', function () {
  this.timeout(60_000);
  const { chain, blocks } = chainOf(40, 40_000);
  const params = chain.params;
  let server: BlockServer | undefined;
  const socks: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  afterEach(async () => {
    timers.splice(0).forEach((t) => clearInterval(t));
    socks.splice(0).forEach((s) => s.destroy());
    await server?.close();
    server = undefined;
  });
  const start = async (maxConnections: number, timeoutMs = 10_000, vouched?: (a: string) => boolean) => {
    server = new BlockServer(params, chain, { port: 0, host: '127.0.0.1', maxConnections, timeoutMs, ...(vouched ? { vouched } : {}) });
    return server.listen();
  };
  const honestFetch = async (port: number): Promise<boolean> => {
    const c = new BlockClient(params, '127.0.0.1', port, 2000);
    try {
      await c.connect();
      return (await c.getHeaders([params.genesisHash], 10)).length === 10;
    } catch {
      return false;
    } finally {
      c.close();
    }
  };
  const getHeaders = encodeFrame(params, MsgType.GetHeaders, encodeGetHeaders([params.genesisHash], 2000));

  it('full of busy connections from 8 addresses: every honest newcomer is let in (one of theirs closed) and answered', async () => {
    const port = await start(16);
    for (let i = 0; i < 16; i++) {
      const s = await rawConn(port, `127.0.0.${2 + (i % 8)}`);
      s.on('error', () => {});
      s.resume(); // reads and discards
      timers.push(setInterval(() => !s.destroyed && s.write(getHeaders), 20));
      socks.push(s);
    }
    await waitFor(
      () => server!.stats.headersServed >= 16 * 40,
      10_000,
      () => 'attackers not served',
    );
    let answered = 0;
    for (let i = 0; i < 20; i++) if (await honestFetch(port)) answered++;
    assert.equal(answered, 20);
    // (A fetch may wait a moment for the slot of the one before it, which the server has not yet seen close.)
    assert.ok(server!.stats.evicted >= 1, 'the server was full');
  });

  it('connections that never ask hold no slot: 1 100 idle ones (some from the honest address) overflow probation and are pushed out, nothing is evicted, honest fetches are answered', async () => {
    const port = await start(16); // 16 slots, and 1 024 places on probation
    for (let batch = 0; batch < 11; batch++) {
      const opened = await Promise.all(
        Array.from({ length: 100 }, (_, i) => rawConn(port, i % 4 === 0 ? '127.0.0.1' : `127.0.0.${2 + (i % 5)}`)),
      );
      for (const s of opened) socks.push(s.on('error', () => {}).on('data', () => {}));
    }
    await waitFor(
      () => server!.stats.pushedOut >= 1100 - 1024,
      10_000,
      () => `pushed out ${server!.stats.pushedOut}`,
    );
    let answered = 0;
    for (let i = 0; i < 10; i++) if (await honestFetch(port)) answered++;
    assert.equal(answered, 10);
    assert.equal(server!.stats.evicted, 0);
    assert.equal(server!.stats.waited, 0);
  });

  it('when full, idle connections that fetched real blocks lately or come from an address that served us are kept, the other idle ones closed first', async () => {
    const port = await start(8, 10_000, (a) => a === '127.0.0.9');
    const getBlock = encodeFrame(params, MsgType.GetBlocks, encodeHashes([headerHash(blocks[0]!.header)]));
    const ask = async (address: string, frame: Uint8Array) => {
      const s = (await rawConn(port, address)).on('error', () => {});
      let got = 0;
      const answered = new Promise<void>((r) => s.on('data', (d: Buffer) => (got += d.length) > 0 && r()));
      s.write(frame);
      await answered;
      socks.push(s);
      return s;
    };
    const plain = await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'].map((a) => ask(a, getHeaders)));
    const fetchers = await Promise.all(['127.0.0.8', '127.0.0.8'].map((a) => ask(a, getBlock)));
    const vouched = await Promise.all(['127.0.0.9', '127.0.0.9'].map((a) => ask(a, getHeaders)));
    // All eight answered and then silent: past the moment a client may think, each counts as idle.
    await new Promise((r) => setTimeout(r, 1200));
    for (let i = 0; i < 4; i++) await ask(`127.0.0.${20 + i}`, getHeaders); // newcomers, each needing a slot
    await waitFor(
      () => plain.every((s) => s.closed),
      5000,
      () => `plain idle ones still open: ${plain.filter((s) => !s.closed).length}`,
    );
    assert.equal(server!.stats.evicted, 4);
    assert.ok(
      [...fetchers, ...vouched].every((s) => !s.closed),
      'a protected connection was closed',
    );
  });

  it('a full server: a newcomer from an address at its fair share that finds only busy connections waits unserved, and is answered when a slot frees', async () => {
    const port = await start(4);
    const busy: net.Socket[] = [];
    for (const a of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
      const s = (await rawConn(port, a)).on('error', () => {}).on('data', () => {});
      s.write(getHeaders);
      timers.push(setInterval(() => !s.destroyed && s.write(getHeaders), 20));
      busy.push(s);
      socks.push(s);
    }
    await waitFor(
      () => server!.stats.headersServed >= 4 * 40,
      5000,
      () => 'the four not served',
    );
    // 127.0.0.2 holds a slot already, its fair share of 4 slots over 4 addresses: its second connection waits.
    const late = (await rawConn(port, '127.0.0.2')).on('error', () => {});
    socks.push(late);
    let answered = false;
    late.on('data', () => (answered = true));
    late.write(getHeaders);
    await waitFor(
      () => server!.stats.waited === 1,
      5000,
      () => 'it did not wait',
    );
    assert.equal(answered, false);
    assert.equal(server!.stats.evicted, 0, 'no busy connection was closed for it');
    busy[1]!.destroy(); // 127.0.0.3 leaves: a slot frees
    await waitFor(
      () => answered,
      5000,
      () => 'the waiting connection was not answered once a slot freed',
    );
  });

  it('a client that asks for blocks and never reads is closed at the per-request deadline; others are answered meanwhile', async () => {
    const port = await start(64, 1000);
    const ask = encodeFrame(params, MsgType.GetBlocks, encodeHashes(blocks.map((b) => headerHash(b.header))));
    const s = await rawConn(port, '127.0.0.3');
    s.on('error', () => {});
    s.pause();
    for (let i = 0; i < 40; i++) s.write(ask); // 40 × 1.6 MB asked, not read
    assert.ok(await honestFetch(port));
    // (A paused client sees the close only when it reads again: the server's count says it.)
    await waitFor(
      () => server!.stats.slowReaders === 1,
      10_000,
      () => `not closed: ${JSON.stringify(server!.stats)}`,
    );
    assert.equal(server!.connections, 0);
    assert.ok(await honestFetch(port));
  });

  it('more than 64 requests pipelined at once close the connection (flood), counted', async () => {
    const port = await start(64);
    const s = await rawConn(port, '127.0.0.4');
    s.on('error', () => {});
    const frames = Buffer.concat(Array.from({ length: 100 }, () => getHeaders));
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.resume();
    s.write(frames);
    await closed;
    assert.equal(server!.stats.floods, 1);
  });

  it('20 connections fetching the same 40 large blocks at once each get all of them, in order', async () => {
    const port = await start(128); // a quarter from one address: 32
    const clients = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const c = new BlockClient(params, '127.0.0.1', port, 10_000);
        await c.connect();
        return c;
      }),
    );
    try {
      const got = await Promise.all(clients.map((c) => c.getBlocks(blocks.map((b) => headerHash(b.header)))));
      for (const g of got) assert.deepEqual(g.map(encodeBlock), blocks.map(encodeBlock));
      assert.equal(server!.stats.blocksServed, 20 * 40);
    } finally {
      clients.forEach((c) => c.close());
    }
  });
});
