// Hostile requests against every API path: bad hex, wrong lengths, huge and negative numbers,
// wrong-network and bad-checksum addresses, traversal attempts, oversized bodies and URLs, and
// 1 000 concurrent requests. Each bad request gets 400/404/405/413/414 with one line of text,
// never a 500, and the explorer keeps answering afterwards.
import assert from 'node:assert/strict';
import net from 'node:net';
import { encodeAddress } from '../src/shared/core/address.js';
import { hashToHex } from '../src/shared/core/bytes.js';
import { alice } from './kit/blockgen.js';
import { type RunningExplorer, get, getJson, startExplorer, waitHeight } from './kit/explorer.js';
import { TestMiner, settingsOf, testNetSets } from './kit/wallet-net.js';
import { waitFor } from './kit/procs.js';
import { MAX_CLIENTS_PER_ADDRESS } from '../src/explorer/events.js';
import { HEARTBEAT_MS } from '../src/explorer/events.js';
import { Api } from '../src/explorer/api.js';
import { ExplorerHttp, IDLE_SOCKET_TIMEOUT_MS, POSTS_PER_SECOND, POST_BURST } from '../src/explorer/http.js';

const BAD_HASHES = [
  '',
  'zz',
  '00',
  'g'.repeat(64),
  '0'.repeat(63),
  '0'.repeat(65),
  '0'.repeat(10_000).slice(0, 1500),
  '%00' + '0'.repeat(61),
  '..',
  '..%2f..%2fetc%2fpasswd',
];
const BAD_NUMBERS = ['-1', '1e3', '0x10', '99999999999', '18446744073709551616', '1.5', ' 1', '01', 'NaN', 'Infinity', '%31'];

/** One raw HTTP exchange, so paths reach the server exactly as written (fetch would normalise ../). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error('no answer')));
  });
}

describe('explorer API under hostile input', function () {
  this.timeout(60_000);
  let miner: TestMiner;
  let run: RunningExplorer;
  let base: string;
  let tipHash: string;
  let txid: string;

  before(async () => {
    const sets = await testNetSets();
    miner = await TestMiner.start(sets);
    run = await startExplorer(settingsOf(sets));
    base = run.url;
    miner.mine(3, alice.pkh);
    await waitHeight(run.ex, 3);
    tipHash = hashToHex(run.ex.chain.tip.hash);
    txid = (await getJson<string[]>(base, `/api/block/${tipHash}/txids`))[0]!;
  });
  after(async () => {
    await run?.stop();
    await miner?.stop();
  });

  const expectBad = async (path: string, init?: RequestInit, statuses = [400, 404]) => {
    const r = await get(base, path, init);
    assert.ok(statuses.includes(r.status), `${path}: status ${r.status} ${r.text}`);
    assert.equal(r.text.trim().split('\n').length, 1, `${path}: one line`);
    assert.ok(r.text.length < 300, `${path}: short answer`);
    return r;
  };

  it('refuses malformed hashes, txids and indexes on every path with one line', async () => {
    const hashPaths = [
      '/api/block/:h',
      '/api/block/:h/header',
      '/api/block/:h/status',
      '/api/block/:h/txids',
      '/api/block/:h/txs',
      '/api/block/:h/txs/0',
      '/api/block/:h/raw',
      '/api/block/:h/txid/0',
      '/api/tx/:h',
      '/api/tx/:h/hex',
      '/api/tx/:h/raw',
      '/api/tx/:h/merkle-proof',
      '/api/tx/:h/outspends',
      '/api/tx/:h/merkleblock-proof',
      '/api/mvb/block/:h',
      '/api/mvb/tx/:h',
      '/api/v1/block/:h',
      '/api/v1/cpfp/:h',
    ];
    // Answered for any well-formed hash, as electrs: a scripthash never paid has empty history, an unknown txid is unconfirmed and unspent.
    const anyHashPaths = [
      '/api/tx/:h/status',
      '/api/tx/:h/outspend/0',
      '/api/scripthash/:h',
      '/api/scripthash/:h/txs',
      '/api/scripthash/:h/txs/chain',
      '/api/scripthash/:h/txs/mempool',
      '/api/scripthash/:h/utxo',
    ];
    for (const p of [...hashPaths, ...anyHashPaths]) for (const h of BAD_HASHES) await expectBad(p.replace(':h', h), undefined, [400, 404]);
    for (const h of BAD_HASHES) await expectBad(`/api/scripthash/${'ab'.repeat(32)}/txs/chain/${h}`, undefined, [400, 404]);
    // Well-formed but unknown: 404, or 200 where electrs answers anyway.
    for (const p of hashPaths) assert.equal((await get(base, p.replace(':h', 'ab'.repeat(32)))).status, 404, p);
    for (const p of anyHashPaths) assert.equal((await get(base, p.replace(':h', 'ab'.repeat(32)))).status, 200, p);
    const r = await get(base, `/api/block/${'zz'.repeat(32)}`);
    assert.equal(r.status, 400);
    assert.equal(r.text.trim(), 'invalid block hash: expected 64 hex digits');
  });

  it('refuses bad and huge numbers: heights, start heights, indexes, outputs, query values', async () => {
    const numPaths = [
      '/api/block-height/:n',
      '/api/blocks/:n',
      `/api/block/${tipHash}/txs/:n`,
      `/api/block/${tipHash}/txid/:n`,
      `/api/tx/${txid}/outspend/:n`,
      '/api/v1/blocks/:n',
      '/api/mvb/tree?last=:n',
      '/api/mvb/reorgs?limit=:n',
    ];
    // In a query string %31 is "1" (URL decoding is the query's own syntax); in a path it is refused.
    for (const p of numPaths)
      for (const n of BAD_NUMBERS) if (!(p.includes('?') && n === '%31')) await expectBad(p.replace(':n', n), undefined, [400]);
    await expectBad('/api/block-height/2147483648', undefined, [400]);
    await expectBad('/api/block-height/2147483647', undefined, [404]);
    await expectBad('/api/mvb/tree?last=501', undefined, [400]);
    assert.deepEqual(await getJson(base, `/api/tx/${txid}/outspend/4294967295`), { spent: false });
    await expectBad(`/api/tx/${txid}/outspend/4294967296`, undefined, [400]);
    await expectBad(`/api/block/${tipHash}/txs/25`, undefined, [404]);
    await expectBad(`/api/block/${tipHash}/txid/1`, undefined, [404]);
    for (const i of ['1w2', '', '24H', '..', 'all/x']) await expectBad(`/api/v1/mining/pools/${i}`, undefined, [400, 404]);
    assert.equal((await getJson(base, '/api/blocks/2147483647')).length, 4); // clamped to the tip, like Esplora
  });

  it('refuses bad addresses: alphabet, checksum, length, another network', async () => {
    const version = run.ex.settings.params.addressVersion;
    const good = encodeAddress(alice.pkh, version);
    const bads = [
      '0OIl' + good.slice(4),
      good.slice(0, -1) + (good.endsWith('1') ? '2' : '1'),
      good.slice(0, 20),
      good + good,
      encodeAddress(alice.pkh, (version + 1) & 0xff),
      '../../etc/passwd',
      '%2e%2e',
    ];
    for (const a of bads)
      for (const p of [
        '/api/address/:a',
        '/api/address/:a/txs',
        '/api/address/:a/txs/chain',
        '/api/address/:a/txs/mempool',
        '/api/address/:a/utxo',
        '/api/address/:a/txs/chain/' + 'ab'.repeat(32),
        '/api/mvb/search/:a',
      ])
        await expectBad(p.replace(':a', a), undefined, [400, 404]);
    const wrong = await get(base, `/api/address/${encodeAddress(alice.pkh, (version + 1) & 0xff)}`);
    assert.match(wrong.text, /another network/);
    await expectBad(`/api/address/${good}/txs/chain/${'ab'.repeat(32)}`, undefined, [404]);
    assert.equal((await getJson(base, `/api/address/${good}`)).chain_stats.tx_count, 3);
  });

  it('refuses bad transactions on POST /api/tx: not hex, odd, empty, undecodable, too large, invalid', async () => {
    for (const body of ['', 'zz', 'abc', '00', '01000000', 'ff'.repeat(1000)]) await expectBad('/api/tx', { method: 'POST', body }, [400]);
    const huge = await get(base, '/api/tx', { method: 'POST', body: 'ab'.repeat(200_000) }).catch((e: Error) => ({
      status: 413,
      text: e.message,
      type: '',
    }));
    assert.equal(huge.status, 413);
    // A well-formed transaction spending nothing that exists: Core's reason code.
    const tx =
      '01000000' +
      '01' +
      'ab'.repeat(32) +
      '00000000' +
      '00' +
      'ffffffff' +
      '01' +
      '0000000000000000' +
      '19' +
      '76a914' +
      '00'.repeat(20) +
      '88ac' +
      '00000000';
    const r = await expectBad('/api/tx', { method: 'POST', body: tx }, [400]);
    assert.match(r.text, /bad-txns-inputs-missingorspent/);
    // A package: each bad shape one line, 400 (or 413 over the body bound).
    for (const body of ['', '[', '"ab"', '[1]', '[null]', `[${'"00",'.repeat(25)}"00"]`, '["zz"]', `["${tx}","${tx}"]`, `["${tx}"]`])
      await expectBad('/api/txs/package', { method: 'POST', body }, [400]);
    await expectBad('/api/txs/package', { method: 'GET' }, [405]);
    await expectBad('/api/blocks/tip/height', { method: 'POST', body: '' }, [405]);
    await expectBad('/api/tx', { method: 'PUT', body: '' }, [405]);
  });

  it('serves no file outside its three page files, whatever the path', async () => {
    const port = Number(new URL(base).port);
    for (const p of [
      '/../../../../etc/passwd',
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/app.js/../../package.json',
      '/page/app.js',
      '/src/explorer/page/app.js',
      '//etc/passwd',
      '/api/../package.json',
      '/index.html%00.js',
      '/style.css?../../x',
    ]) {
      const res = await rawRequest(port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const status = Number(res.split(' ')[1]);
      if (p === '/style.css?../../x') assert.equal(status, 200);
      else assert.ok(status === 404 || status === 400, `${p}: ${res.split('\r\n')[0]}`);
      assert.ok(!/root:|"name": "mvb"/.test(res), `${p} leaked a file`);
    }
    const long = await rawRequest(port, `GET /api/block/${'a'.repeat(5000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(long, /^HTTP\/1.1 414/);
    const page = await get(base, '/');
    assert.equal(page.status, 200);
    assert.match(page.text, /<title>mvb explorer<\/title>/);
  });

  it('keeps at most 8 event streams per address, and streams events to them', async () => {
    const acs = Array.from({ length: 12 }, () => new AbortController());
    const streams = await Promise.all(acs.map((ac) => fetch(`${base}/api/mvb/events`, { signal: ac.signal })));
    try {
      assert.ok(streams.every((r) => r.status === 200 && r.headers.get('content-type')?.startsWith('text/event-stream')));
      await waitFor(
        () => run.ex.events.size === MAX_CLIENTS_PER_ADDRESS || undefined,
        5000,
        () => `${run.ex.events.size} streams`,
      );
      const last = streams[streams.length - 1]!.body!.getReader();
      miner.mine(1, alice.pkh);
      let text = '';
      while (!/event: block/.test(text)) text += new TextDecoder().decode((await last.read()).value);
      assert.match(text, /event: block\ndata: \{"height":4,/);
      await waitHeight(run.ex, 4);
    } finally {
      for (const ac of acs) ac.abort();
    }
  });

  it('sends a reconnecting stream what it missed (Last-Event-ID), or a refetch when that is gone', async () => {
    const hub = run.ex.events;
    hub.publish('mempool', { count: 1, bytes: 1 });
    const seen = hub.lastId;
    hub.publish('mempool', { count: 2, bytes: 2 });
    hub.publish('mempool', { count: 3, bytes: 3 });
    const readUntil = async (lastEventId: string, re: RegExp): Promise<string> => {
      const ac = new AbortController();
      try {
        const r = await fetch(`${base}/api/mvb/events`, { signal: ac.signal, headers: { 'last-event-id': lastEventId } });
        const reader = r.body!.getReader();
        let text = '';
        while (!re.test(text)) text += new TextDecoder().decode((await reader.read()).value);
        return text;
      } finally {
        ac.abort();
      }
    };
    const missed = await readUntil(String(seen), new RegExp(`id: ${seen + 2}\n`));
    assert.match(missed, new RegExp(`id: ${seen + 1}\nevent: mempool\ndata: \\{"count":2,"bytes":2\\}\n\nid: ${seen + 2}\n`));
    assert.doesNotMatch(missed, new RegExp(`id: ${seen}\n`));
    // An id this run never sent (another run's, or older than the ring): the page is told to refetch.
    assert.match(await readUntil('999999999', /event: refetch\n/), new RegExp(`id: ${hub.lastId}\nevent: refetch\n`));
  });

  it('answers 1 000 concurrent requests, then still works', async () => {
    const paths = [
      '/api/blocks/tip/height',
      `/api/block/${tipHash}`,
      `/api/tx/${txid}`,
      '/api/mempool',
      '/api/mvb/tree',
      '/api/block/zz',
      '/api/mvb/summary',
      '/api/blocks',
    ];
    const results = await Promise.all(Array.from({ length: 1000 }, (_x, i) => get(base, paths[i % paths.length]!).then((r) => r.status)));
    const counts: Record<number, number> = {};
    for (const s of results) counts[s] = (counts[s] ?? 0) + 1;
    assert.deepEqual(counts, { 200: 875, 400: 125 });
    assert.equal(run.http.stats.errors5xx, 0);
    assert.equal((await get(base, '/api/blocks/tip/height')).text, '4');
  });

  it('limits how fast one address may post transactions (each costs signature checks)', async () => {
    // The bucket's property, whatever the load: no more get through than its burst plus its rate
    // over the time the posts took (a loaded machine spreads them out and the bucket refills).
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: POST_BURST + 200 }, () => get(base, '/api/tx', { method: 'POST', body: '00' }).then((r) => r.status)),
    );
    const seconds = (Date.now() - started) / 1000;
    const through = statuses.filter((x) => x !== 429).length;
    console.log(
      `      ${through} of ${statuses.length} posts got through in ${seconds.toFixed(2)} s (burst ${POST_BURST}, ${POSTS_PER_SECOND}/s)`,
    );
    assert.ok(through <= POST_BURST + Math.ceil(seconds * POSTS_PER_SECOND) + 1, `${through} through in ${seconds} s`);
    assert.ok(
      statuses.some((x) => x === 429),
      'some were refused',
    );
    assert.ok(statuses.every((x) => x === 400 || x === 429));
    assert.equal((await get(base, '/api/blocks/tip/height')).status, 200, 'reads are not limited');
  });

  it('closes a connection that never sends a byte; answers HEAD on the stream and a declared oversize body at once', async () => {
    assert.ok(IDLE_SOCKET_TIMEOUT_MS > 2 * HEARTBEAT_MS, 'a reading event stream outlives the idle timeout');
    // A second server on the same explorer, with a short idle timeout so the test need not wait 40 s.
    const http = new ExplorerHttp(new Api(run.ex), () => {}, 300);
    const { port } = await http.listen('127.0.0.1', 0);
    try {
      const closed = await new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('close', () => resolve('closed'));
        s.on('error', () => {});
        setTimeout(() => (s.destroy(), resolve('still open')), 10_000);
      });
      assert.equal(closed, 'closed', 'a silent connection is closed by the server');
      const head = await rawRequest(port, 'HEAD /api/mvb/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(head, /^HTTP\/1.1 200/);
      assert.match(head, /text\/event-stream/);
      const big = await rawRequest(port, 'POST /api/tx HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n00');
      assert.match(big, /^HTTP\/1.1 413/);
      assert.match(big, /request body larger than \d+ bytes\n$/);
    } finally {
      await http.close();
    }
  });
});
