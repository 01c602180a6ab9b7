// The page in a real Firefox (Debian's firefox-esr, driven headless by puppeteer-core over WebDriver
// BiDi; no browser is downloaded): the live chain reaches a height, a block page shows its header
// fields and Merkle tree, a transaction page names the field under a hovered or focused byte range,
// and nothing is thrown or logged as an error. Firefox gets a fresh profile whose prefs turn off
// every background connection, and is only ever sent to the explorer on 127.0.0.1. A screenshot goes
// to a temporary directory. Every wait polls from the test side (untilPresent, untilText) and every
// read is an element handle's property (propertyOf): nothing of ours is evaluated inside the page,
// whose CSP stays as strict as users get it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import {
  HEADER_FIELDS,
  ANNOTATED_FIELDS,
  EXPECTED_CONSOLE_ERROR,
  type PageNet,
  minePayment,
  startPageNet,
  tipMerkleRootHex,
} from './kit/explorer-page.js';
import { removeDir, tempDir, waitForAsync } from './kit/procs.js';
import { skipBecause } from './kit/skip.js';

const FIREFOX = '/usr/bin/firefox-esr';

// No network but loopback: no telemetry, updates, safe-browsing lists, remote settings, captive
// portal or connectivity checks, DNS prefetch, speculative connections, or first-run pages.
const QUIET_PREFS: Record<string, unknown> = {
  'app.update.enabled': false,
  'app.update.auto': false,
  'app.normandy.enabled': false,
  'app.shield.optoutstudies.enabled': false,
  'browser.aboutHomeSnippets.updateUrl': '',
  'browser.discovery.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.system.topsites': false,
  'browser.newtabpage.activity-stream.feeds.snippets': false,
  'browser.ping-centre.telemetry': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.search.update': false,
  'browser.search.geoip.url': '',
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage': 'about:blank',
  'browser.startup.page': 0,
  'browser.topsites.contile.enabled': false,
  'captivedetect.canonicalURL': '',
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'extensions.blocklist.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'geo.enabled': false,
  'media.gmp-manager.url': '',
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.http.speculative-parallel-limit': 0,
  'network.prefetch-next': false,
  'network.trr.mode': 5,
  'services.settings.server': 'http://127.0.0.1:9/',
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.server': '',
  'toolkit.coverage.endpoint.base': '',
};

// Waits polled from the test side. The page's Content-Security-Policy forbids eval, and puppeteer's
// waitForFunction and waitForSelector build their predicate inside the page with new Function(),
// which some Firefox builds then refuse ("call to Function() blocked by CSP"). A query and a read
// of an element handle's property are the driver's own calls (no code of ours runs in the page),
// so these hold on any build.
async function untilPresent(page: Page, selector: string, timeoutMs: number): Promise<void> {
  await waitForAsync(
    async () => {
      const element = await page.$(selector);
      await element?.dispose();
      return element !== null;
    },
    timeoutMs,
    () => `${selector} never appeared`,
  );
}

/** A DOM property (textContent, title, ...) of the first element matching selector; undefined if none matches. */
async function propertyOf(page: Page, selector: string, name: string): Promise<unknown> {
  const element = await page.$(selector);
  if (element === null) return undefined;
  try {
    const property = await element.getProperty(name);
    try {
      return await property.jsonValue();
    } finally {
      await property.dispose();
    }
  } finally {
    await element.dispose();
  }
}

async function untilText(page: Page, selector: string, ok: (text: string) => boolean, timeoutMs: number): Promise<void> {
  let last: unknown;
  await waitForAsync(
    async () => {
      last = await propertyOf(page, selector, 'textContent');
      return typeof last === 'string' && ok(last);
    },
    timeoutMs,
    () => `${selector} reads ${JSON.stringify(last)}`,
    100,
  );
}

describe('explorer page in Firefox', function () {
  this.timeout(60_000);
  let net: PageNet | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let profile: string | undefined;
  let shots: string;

  before(async function () {
    if (!existsSync(FIREFOX)) {
      // .ci/run installs it; on a machine without it the test cannot run at all.
      skipBecause(this, `${FIREFOX} missing (apt-get install firefox-esr)`);
    }
    net = await startPageNet();
    profile = tempDir('firefox-profile');
    shots = tempDir('screenshots');
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profile,
      extraPrefsFirefox: QUIET_PREFS,
      defaultViewport: { width: 1280, height: 900 },
      env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
    });
    // A tab of our own: headless Firefox's first tab never has focus (document.hasFocus() is false,
    // so no focus event fires in it), a new one does, as a user's window would.
    page = await browser.newPage();
  });
  after(async () => {
    // Each step on its own, so one failure still stops the rest; close() ends the Firefox process.
    await browser?.close().catch(() => browser?.process()?.kill('SIGKILL'));
    await net?.stop();
    if (profile) removeDir(profile);
  });

  it('follows the live chain, shows a block header and Merkle tree, and annotates a transaction', async () => {
    const { run } = net!;
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !EXPECTED_CONSOLE_ERROR.test(m.text())) problems.push(`console: ${m.text()} ${m.location().url ?? ''}`);
    });
    await page.goto(run.url + '/');
    assert.ok(page.url().startsWith('http://127.0.0.1:'), page.url());
    // Live, without a reload: six blocks, then one holding a payment.
    const id = await minePayment(net!, 6);
    await untilText(page, '#tip-height', (t) => t === '7', 15_000);
    await untilText(page, '#live', (t) => t === '● live', 15_000);

    // The block page, reached by clicking the tip in the tree.
    await page.click('.block-node.tip');
    await untilPresent(page, '#header-fields tr[data-field="nonce"]', 15_000);
    for (const f of HEADER_FIELDS) assert.ok(await page.$(`#header-fields tr[data-field="${f}"]`), f);
    assert.equal(await propertyOf(page, '#merkle .mnode.root', 'title'), tipMerkleRootHex(run));
    assert.equal((await page.$$('#merkle .mnode.leaf')).length, 2);
    assert.ok(await page.$('#pow-axis'));

    // The transaction page: hover names the first field, keyboard focus the second.
    await page.click(`#block-txs a[href="#/tx/${id}"]`);
    await untilPresent(page, '#hex .field', 15_000);
    const [byHover, byFocus] = ANNOTATED_FIELDS;
    await page.hover(`#hex .field[data-name="${byHover.name}"]`);
    await untilText(page, '#field-info', (t) => t.includes(byHover.shows), 5_000);
    await page.focus(`#hex .field[data-name="${byFocus.name}"]`);
    await untilText(page, '#field-info', (t) => t.includes(byFocus.shows), 5_000);
    assert.ok(await page.$('pre.preimage'));
    const path = join(shots, 'firefox-tx.png') as `${string}.png`;
    await page.screenshot({ path, fullPage: true });
    assert.ok(existsSync(path));
    assert.deepEqual(problems, []);
    console.log(`    screenshot in ${shots}`);
  });
});
