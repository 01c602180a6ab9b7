// `mvb verify <datadir>`: re-derives what a data directory's chain store keeps from its stored
// blocks alone, and compares. Every block of the stored active chain is validated again from
// genesis (proof of work, Merkle root, every signature) into a fresh in-memory chain; the UTXO
// set that replay produces must equal the stored one coin for coin, and a wallet's coin index
// (wallet-coins, for the keys in wallet-meta's keyset) must equal the replay's coins of those
// keys. This catches what LMDB cannot: bytes changed inside values that still decode.
// Read-only: the store is opened shared, without its lock, so it may run beside a node.
import { join } from 'node:path';
import { hashToHex, toHex } from '../../shared/core/bytes.js';
import { Chain, MemoryChainStore } from '../../shared/core/chain.js';
import { p2pkhHash } from '../../shared/core/script.js';
import type { Coin } from '../../shared/core/validation.js';
import { outpointKey } from '../../shared/core/outpoint.js';
import { CliError, command } from '../../shared/node/cli/command.js';
import { checkStoreNetwork } from '../../shared/node/cli/runner.js';
import { LmdbChainStore, chainStoreExists } from '../../shared/node/store/lmdb-store.js';
import { opensslVerifier } from '../../shared/node/verify/verifier.js';
import { openAppDb } from '../../shared/node/store/schema.js';

/** Mismatches listed at most (the count is always complete). */
const MAX_LISTED = 5;

const sameCoin = (a: Coin, b: Coin): boolean =>
  a.value === b.value && a.height === b.height && a.coinbase === b.coinbase && toHex(a.scriptPubKey) === toHex(b.scriptPubKey);

interface Report {
  readonly lines: string[];
  problems: number;
}

/** Replays the stored active chain into memory; the first block that fails is a problem. */
function replay(store: LmdbChainStore, r: Report, params: ConstructorParameters<typeof Chain>[0]): MemoryChainStore {
  const stored = new Chain(params, store, { verifier: opensslVerifier });
  const mem = new MemoryChainStore();
  const fresh = new Chain(params, mem, { verifier: opensslVerifier });
  const now = Math.floor(Date.now() / 1000);
  for (let h = 1; h <= stored.height; h++) {
    const e = stored.atHeight(h)!;
    const block = store.getBlock(e.hash);
    const res = block ? fresh.processBlock(block, now) : undefined;
    if (!block || res?.status !== 'accepted' || fresh.height !== h || res.invalid.length) {
      r.problems++;
      r.lines.push(
        `block ${h} ${hashToHex(e.hash).slice(0, 16)}…: ${!block ? 'missing from the store' : res?.status === 'accepted' && res.invalid.length ? res.invalid[0]!.error.message : `not accepted (${res?.status})`}`,
      );
      break;
    }
  }
  r.lines.push(
    `chain: ${fresh.height} of ${stored.height} stored block(s) re-validated from genesis, tip ${hashToHex(stored.tip.hash).slice(0, 16)}…`,
  );
  return mem;
}

function compareCoins(store: LmdbChainStore, mem: MemoryChainStore, r: Report): void {
  const seen = new Set<string>();
  const bad: string[] = [];
  let stored = 0;
  for (const { txid, vout, coin } of store.allCoins()) {
    stored++;
    const k = outpointKey(txid, vout);
    seen.add(k);
    const want = mem.coins.get(k);
    if (!want) bad.push(`${hashToHex(txid)}:${vout} stored but not in the replay`);
    else if (!sameCoin(want, coin)) bad.push(`${hashToHex(txid)}:${vout} differs (stored ${coin.value}, replay ${want.value})`);
  }
  for (const k of mem.coins.keys()) if (!seen.has(k)) bad.push(`${k} missing from the store`);
  r.problems += bad.length;
  r.lines.push(`UTXO set: ${stored} stored coin(s), ${mem.coins.size} from the replay: ${bad.length ? `${bad.length} differ` : 'equal'}`);
  for (const b of bad.slice(0, MAX_LISTED)) r.lines.push(`  ${b}`);
}

/** The wallet's coin index (schema.ts: wallet-coins outpoint -> WalletCoin) against the replay. */
function compareWalletIndex(store: LmdbChainStore, mem: MemoryChainStore, r: Report): void {
  const keyset = openAppDb(store, 'wallet-meta').get('keyset');
  if (!Array.isArray(keyset)) return;
  const keys = new Set(keyset.filter((k): k is string => typeof k === 'string'));
  const want = new Map<string, Coin>();
  for (const [k, c] of mem.coins) {
    const pkh = p2pkhHash(c.scriptPubKey);
    if (pkh && keys.has(toHex(pkh))) want.set(k, c);
  }
  const bad: string[] = [];
  const have = new Set<string>();
  for (const { key, value } of openAppDb(store, 'wallet-coins').getRange()) {
    const k = String(key);
    have.add(k);
    const w = want.get(k);
    if (!w) bad.push(`${k} indexed but not ours in the replay`);
    else if (value?.value !== w.value.toString()) bad.push(`${k} indexed with ${value?.value}, replay ${w.value}`);
  }
  for (const k of want.keys()) if (!have.has(k)) bad.push(`${k} missing from the wallet index`);
  r.problems += bad.length;
  r.lines.push(
    `wallet index: ${have.size} coin(s) of ${keys.size} key(s), ${want.size} from the replay: ${bad.length ? `${bad.length} differ` : 'equal'}`,
  );
  for (const b of bad.slice(0, MAX_LISTED)) r.lines.push(`  ${b}`);
}

export const verifyCommand = command({
  name: 'verify',
  describe: 're-derive the UTXO set and indexes of a data directory from its stored blocks and compare',
  args: ['<datadir>'],
  datadirArg: 0,
  async handler(args, _opts, ctx) {
    const dir = join(args[0]!, 'chain');
    // Read-only: a missing or empty store is reported, never created (nor given a genesis).
    if (!chainStoreExists(dir)) throw new CliError(`no chain store in ${dir} (a misspelt data directory?)`);
    const store = new LmdbChainStore(dir, 'mvb verify', { lock: false });
    const r: Report = { lines: [], problems: 0 };
    try {
      if (store.getTip() === undefined) {
        ctx.io.out(`${dir}: no blocks stored yet, nothing to verify`);
        return 0;
      }
      checkStoreNetwork(store, ctx.settings);
      const mem = replay(store, r, ctx.settings.params);
      compareCoins(store, mem, r);
      compareWalletIndex(store, mem, r);
    } finally {
      store.close();
    }
    for (const l of r.lines) ctx.io.out(l);
    if (r.problems)
      throw new CliError(
        `${dir}: ${r.problems} problem(s); rebuild it with \`mvb-wallet resync\` (a wallet) or \`mvb-miner --resync\` (a miner)`,
      );
    ctx.io.out(`${dir}: consistent`);
    return 0;
  },
});
