// The page in a real browser (Debian's chromium, driven by playwright-core): the live chain reaches
// a height and shows a fork, a payment appears in the mempool view and then in a block, a block
// page shows its header fields and Merkle tree, a transaction page annotates its bytes on hover,
// and the keyboard reaches the search. Screenshots go to a temporary directory (and, with
// MVB_README_SCREENSHOT=path, the home view to that file for the README).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { hashToHex, toHex } from '../src/shared/core/bytes.js';
import { encodeTx, txid } from '../src/shared/core/tx.js';
import { alice, bob, carol, coinbaseCoin, transfer } from './kit/blockgen.js';
import { type RunningExplorer, get, waitHeight } from './kit/explorer.js';
import {
  ANNOTATED_FIELDS,
  EXPECTED_CONSOLE_ERROR,
  HEADER_FIELDS,
  type PageNet,
  startPageNet,
  tipMerkleRootHex,
} from './kit/explorer-page.js';
import { removeDir, tempDir, waitForAsync } from './kit/procs.js';
import type { TestMiner } from './kit/wallet-net.js';
import { skipBecause } from './kit/skip.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('explorer page in Chromium', function () {
  this.timeout(90_000);
  let net: PageNet | undefined;
  let miner: TestMiner;
  let run: RunningExplorer;
  let ctx: BrowserContext;
  let page: Page;
  let profile: string;
  let shots: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      // .ci/run installs it; on a machine without it the test cannot run at all.
      skipBecause(this, `${CHROMIUM} missing (apt-get install chromium)`);
    }
    net = await startPageNet();
    ({ miner, run } = net);
    profile = tempDir('chromium-profile');
    shots = tempDir('screenshots');
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
  });
  after(async () => {
    await ctx?.close();
    await net?.stop();
    if (profile) removeDir(profile);
  });

  const shot = async (name: string) => {
    const path = join(shots, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  };

  it('shows the live chain with a fork, a payment in the mempool then in a block, a block page and annotated bytes', async () => {
    const a = miner.mine(6, alice.pkh);
    await waitHeight(run.ex, 6);
    // Anything the page throws, and every console error but the one 400 the bad search below asks for.
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !EXPECTED_CONSOLE_ERROR.test(m.text())) problems.push(`console: ${m.text()} ${m.location().url}`);
    });
    await page.goto(run.url + '/');
    await page.waitForSelector('#tip-height:text-is("6")', { timeout: 15_000 });
    await page.waitForSelector('#live:text-is("● live")', { timeout: 15_000 });
    // Live, without a reload: two blocks, then a fork from 5 that overtakes them.
    miner.mine(2, alice.pkh);
    await page.waitForSelector('#tip-height:text-is("8")', { timeout: 15_000 });
    miner.mine(4, carol.pkh, { parent: miner.chain.atHeight(5)!, name: 'carol' });
    await page.waitForSelector('#tip-height:text-is("9")', { timeout: 15_000 });
    // Carol's blocks carry her name (the coinbase tag): on the tree and in the leaderboard.
    await page.waitForSelector('.block-node[data-miner="carol"] text.miner-name:text-is("carol")', { timeout: 15_000 });
    assert.equal(await page.locator('.block-node[data-miner="carol"]').count(), 4);
    assert.match((await page.textContent('#leaderboard')) ?? '', /carol\s*4\s*44\.4 %\s*0/);
    await waitForAsync(
      async () => (await page.locator('.block-node.stale').count()) === 3,
      15_000,
      () => 'the tree never showed 3 stale blocks',
    );
    assert.equal(await page.textContent('#stale-count'), '3');
    assert.match(
      (await page.textContent('#banner')) ?? '',
      /Reorganisation at height 5: 3 block\(s\) left the best chain: 8 \(\w+…\), 7 .*; 4 came in: 6 /,
    );

    // A payment: in the mempool view, then in a block.
    const pay = transfer(coinbaseCoin(a[0]!), bob, 1000n);
    const id = hashToHex(txid(pay));
    assert.equal((await get(run.url, '/api/tx', { method: 'POST', body: toHex(encodeTx(pay)) })).status, 200);
    await page.waitForSelector(`#mempool .mempool-tx[data-txid="${id}"]`, { timeout: 15_000 });
    await shot('1-mempool');
    miner.mine(1, alice.pkh, { txs: [pay] });
    await page.waitForSelector('#tip-height:text-is("10")', { timeout: 15_000 });
    await page.waitForSelector(`#mempool .mempool-tx[data-txid="${id}"]`, { state: 'detached', timeout: 15_000 });
    const home = await shot('2-home');
    if (process.env['MVB_README_SCREENSHOT']) await page.screenshot({ path: process.env['MVB_README_SCREENSHOT'], fullPage: false });

    // The block page, reached by clicking the tip in the tree.
    await page.click('.block-node.tip');
    await page.waitForSelector('#header-fields tr[data-field="nonce"]', { timeout: 15_000 });
    for (const f of HEADER_FIELDS) assert.ok(await page.$(`#header-fields tr[data-field="${f}"]`), f);
    const root = await page.getAttribute('#merkle .mnode.root', 'title');
    assert.equal(root, tipMerkleRootHex(run));
    assert.equal(await page.locator('#merkle .mnode.leaf').count(), 2);
    assert.ok(await page.$(`#block-txs a[href="#/tx/${id}"]`));
    assert.ok(await page.$('#pow-axis'));
    await shot('3-block');

    // The transaction page: hovering a byte range names the field.
    await page.click(`#block-txs a[href="#/tx/${id}"]`);
    await page.waitForSelector('#hex .field', { timeout: 15_000 });
    for (const f of ANNOTATED_FIELDS) {
      await page.hover(`#hex .field[data-name="${f.name}"]`);
      await page.waitForSelector(`#field-info:has-text("${f.shows}")`, { timeout: 5_000 });
    }
    assert.ok(await page.$('pre.preimage'));
    await shot('4-tx');

    // Keyboard: / focuses the search, a height and Enter open that block.
    await page.keyboard.press('Escape');
    await page.click('h1');
    await page.keyboard.press('/');
    assert.equal(await page.locator('#search:focus').count(), 1);
    await page.keyboard.type('3');
    await page.keyboard.press('Enter');
    await page.waitForSelector('h1:has-text("Block 3")', { timeout: 15_000 });
    await page.keyboard.press('l');
    assert.equal(await page.locator('body.large').count(), 1);
    await page.keyboard.press('h');
    await page.waitForSelector('#tip-height', { timeout: 15_000 });
    await shot('5-large-home');
    // A search that names nothing: the reason stays in the banner (a live redraw of the view would
    // wipe it), and / selects the old text so the next search replaces it.
    await page.keyboard.press('/');
    await page.keyboard.type('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#banner:has-text("another network")', { timeout: 15_000 });
    assert.equal(await page.inputValue('#search'), '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa');
    assert.deepEqual(problems, []);
    assert.ok(existsSync(home));
    mkdirSync(shots, { recursive: true });
    console.log(`    screenshots in ${shots}`);
  });

  it('on a projector: a page opens with its title below the header, a stale block’s transactions open, the odds read "1 in N"', async () => {
    await page.goto(run.url + '/');
    await page.waitForSelector('#tip-height:text-is("10")', { timeout: 15_000 });
    await page.mouse.wheel(0, 3000);
    // A stale block (the fork left 3 of them), then its coinbase, which no other chain holds.
    await page.click('.block-node.stale');
    await page.waitForSelector('h1:has-text("stale")', { timeout: 15_000 });
    const title = (await page.locator('#view h1').boundingBox())!;
    const header = (await page.locator('header').boundingBox())!;
    assert.ok(title.y >= header.y + header.height - 1, `title at ${title.y}, header ends at ${header.y + header.height}`);
    const odds = (await page.textContent('#pow-odds')) ?? '';
    const blockHash = /#\/block\/([0-9a-f]{64})/.exec(page.url())![1]!;
    const bits = (JSON.parse((await get(run.url, `/api/block/${blockHash}`)).text) as { bits: number }).bits;
    const target = BigInt(bits & 0x7fffff) << BigInt(8 * ((bits >>> 24) - 3));
    assert.match(odds, new RegExp(`One try in ${((1n << 256n) / (target + 1n)).toLocaleString('en-US')} gives`));
    await page.click('#block-txs tr:nth-child(2) a');
    await page.waitForSelector('h1:has-text("in stale block")', { timeout: 15_000 });
    assert.ok(await page.$('#hex .field'));
    await shot('6-stale-coinbase');
    // A block carol mined names her, with her coinbase tag.
    await page.goto(run.url + '/');
    await page.click('.block-node[data-miner="carol"]');
    await page.waitForSelector('#block-miner-name:text-is("carol")', { timeout: 15_000 });
    assert.match((await page.textContent('#view')) ?? '', /Coinbase tag: \/carol\/\./);
  });

  it('the tamper lesson: an edited value changes txid, Merkle root and hash; the checks say what breaks; mining by hand and the node agree', async () => {
    const e = run.ex.chain.atHeight(3)!;
    const hash = hashToHex(e.hash);
    await page.goto(`${run.url}/#/tamper/${hash}`);
    await page.waitForSelector('#t-hash', { timeout: 15_000 });
    const before = {
      txid: await page.textContent('#t-txids'),
      root: await page.textContent('#t-root'),
      hash: await page.textContent('#t-hash'),
    };
    assert.equal(before.hash, hash, 'unedited, the page computes the block’s own hash');
    const checks = async () => page.$$eval('#t-checks li', (ls) => ls.map((l) => l.getAttribute('data-ok')));
    assert.deepEqual(await checks(), ['true', 'true', 'true']);
    // The coinbase pays itself 60 instead of 50.
    await page.fill('input.value[data-at]', '60');
    await page.press('input.value[data-at]', 'Enter');
    await waitForAsync(
      async () => (await page.textContent('#t-hash')) !== before.hash,
      10_000,
      () => 'the hash never changed',
    );
    const after = {
      txid: await page.textContent('#t-txids'),
      root: await page.textContent('#t-root'),
      hash: (await page.textContent('#t-hash'))!,
    };
    assert.notEqual(after.txid, before.txid);
    assert.notEqual(after.root, before.root);
    const target = BigInt(e.header.bits & 0x7fffff) << BigInt(8 * ((e.header.bits >>> 24) - 3));
    const [rootOk, powOk, linkOk] = await checks();
    assert.equal(rootOk, 'true', 'the new root is in the header');
    assert.equal(powOk, String(BigInt('0x' + after.hash) <= target), 'proof of work marked as the hash says');
    assert.equal(linkOk, 'false', 'block 4 no longer points here');
    await page.click('#t-mine');
    await page.waitForSelector('#t-checks li:nth-child(2)[data-ok="true"]', { timeout: 30_000 });
    console.log(`      mining by hand: ${await page.textContent('#t-rate')}`);
    await page.click('#t-ask');
    await page.waitForSelector('#t-node', { timeout: 15_000 });
    assert.equal(await page.textContent('#t-node'), 'the node: bad-cb-amount');
    // The old root kept in the header: the Merkle check fails, and so does the node's.
    await page.reload();
    await page.waitForSelector('#t-hash', { timeout: 15_000 });
    await page.click('#fix-root');
    await page.fill('input.value[data-at]', '60');
    await page.press('input.value[data-at]', 'Enter');
    await page.waitForSelector('#t-checks li:nth-child(1)[data-ok="false"]', { timeout: 10_000 });
    await page.click('#t-ask');
    await page.waitForSelector('#t-node', { timeout: 15_000 });
    assert.equal(await page.textContent('#t-node'), 'the node: bad-txnmrklroot');
    await shot('7-tamper');
  });
});
