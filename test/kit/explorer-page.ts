// What the browser tests of the explorer page share, whichever browser and driver: a loopback test
// network with a miner and an in-process explorer, a payment mined into a block, and the facts a
// block page and a transaction page must show.
import { hashToHex, toHex } from '../../src/shared/core/bytes.js';
import { encodeTx, txid } from '../../src/shared/core/tx.js';
import { alice, bob, coinbaseCoin, transfer } from './blockgen.js';
import { type RunningExplorer, get, startExplorer, waitHeight } from './explorer.js';
import { TestMiner, settingsOf, testNetSets } from './wallet-net.js';

/** The header fields a block page lists, one `#header-fields tr[data-field=...]` row each. */
export const HEADER_FIELDS = ['version', 'prevHash', 'merkleRoot', 'time', 'bits', 'nonce'] as const;

/** Hovering (or focusing) these byte ranges of a payment's hex shows a #field-info naming them. */
export const ANNOTATED_FIELDS = [
  { name: 'vin[0].scriptSig.sig.der.r', shows: 'der.r' },
  { name: 'vin[0].scriptSig.pubkey', shows: 'public key' },
] as const;

/** Console errors a page may log on purpose: the 400 a search naming nothing asks for. */
export const EXPECTED_CONSOLE_ERROR = /status of 400/;

export interface PageNet {
  readonly miner: TestMiner;
  readonly run: RunningExplorer;
  stop(): Promise<void>;
}

/** A miner and an explorer on a fresh loopback test network; stop() ends both (safe if half started). */
export async function startPageNet(): Promise<PageNet> {
  const sets = await testNetSets();
  const miner = await TestMiner.start(sets);
  let run: RunningExplorer;
  try {
    run = await startExplorer(settingsOf(sets));
  } catch (e) {
    await miner.stop();
    throw e;
  }
  return {
    miner,
    run,
    async stop() {
      await run.stop();
      await miner.stop();
    },
  };
}

/** The Merkle root of the explorer's tip, as the page shows it (display order, reversed bytes). */
export function tipMerkleRootHex(run: RunningExplorer): string {
  return hashToHex(run.ex.chain.tip.header.merkleRoot);
}

/**
 * Mines `blocks` blocks to alice, then a block holding a payment from the first coinbase to bob
 * (posted through /api/tx first, so it passes the explorer's mempool). Returns the payment's txid
 * once the explorer has the block.
 */
export async function minePayment(net: PageNet, blocks: number): Promise<string> {
  const { miner, run } = net;
  const base = run.ex.chain.height;
  const a = miner.mine(blocks, alice.pkh);
  await waitHeight(run.ex, base + blocks);
  const pay = transfer(coinbaseCoin(a[0]!), bob, 1000n);
  const r = await get(run.url, '/api/tx', { method: 'POST', body: toHex(encodeTx(pay)) });
  if (r.status !== 200) throw new Error(`POST /api/tx: ${r.status} ${r.text}`);
  miner.mine(1, alice.pkh, { txs: [pay] });
  await waitHeight(run.ex, base + blocks + 1);
  return hashToHex(txid(pay));
}
