// The first 10 000 Bitcoin mainnet headers through the consensus core: proof of work, links,
// the retarget rule at 2016/4032/6048/8064, and the chain's header acceptance with mainnet's
// parameters. Source: test/vectors/headers (public chain data).
import assert from 'node:assert/strict';
import {
  Chain,
  type ChainEntry,
  type ConsensusParams,
  type Header,
  MemoryChainStore,
  ValidationError,
  bitsToTarget,
  checkProofOfWork,
  decodeBlock,
  encodeBlock,
  decodeHeader,
  encodeHeader,
  equalBytes,
  fromHex,
  hashToHex,
  hashToNumber,
  headerHash,
  makeParams,
  merkleRoot,
  solveHeader,
  toHex,
  txid,
} from '../src/shared/core/index.js';
import { loadVectorText } from './kit/vectors.js';

const GENESIS_HASH = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';

function loadHeaders(): { start: number; hex: string[] } {
  const lines = loadVectorText('headers/btc_blockheaders_mainnet_0_10000')
    .split('\n')
    .filter((l) => l.length > 0);
  return { start: Number(lines[0]), hex: lines.slice(1) };
}

const genesisHex = loadVectorText('headers/mainnet_genesis_block.hex').trim();

const mainnetConfig = {
  name: 'main',
  magic: 'f9beb4d9',
  addressVersion: 0,
  genesis: genesisHex,
  targetBlockSeconds: 600,
  retargetInterval: 2016,
  powLimitBits: 0x1d00ffff,
  subsidy: 5_000_000_000,
  halvingInterval: 210_000,
  coinbaseMaturity: 100,
  maxBlockBytes: 1_000_000,
  maxTxBytes: 60_000,
};

function rejectsWith(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

describe('core: mainnet headers 0..9999', () => {
  const { start, hex } = loadHeaders();
  const headers: Header[] = hex.map((h) => decodeHeader(fromHex(h)));
  const params: ConsensusParams = makeParams(mainnetConfig);

  it('holds heights 0..9999, 80 bytes each, and re-encodes byte for byte', () => {
    assert.equal(start, 0);
    assert.equal(headers.length, 10_000);
    for (let i = 0; i < headers.length; i++) assert.equal(toHex(encodeHeader(headers[i]!)), hex[i], `height ${i}`);
  });

  it('the genesis block file: header is line 1, its coinbase txid is the Merkle root', () => {
    const g = decodeBlock(fromHex(genesisHex));
    assert.equal(toHex(encodeHeader(g.header)), hex[0]);
    assert.equal(g.txs.length, 1);
    const id = txid(g.txs[0]!);
    assert.ok(equalBytes(id, g.header.merkleRoot));
    assert.ok(equalBytes(merkleRoot([id]), g.header.merkleRoot));
    assert.equal(hashToHex(g.header.merkleRoot), '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b');
    assert.equal(hashToHex(headerHash(g.header)), GENESIS_HASH);
    assert.equal(hashToHex(params.genesisHash), GENESIS_HASH);
  });

  it('every header links to the previous one and meets its target', () => {
    let prev = headerHash(headers[0]!);
    assert.ok(checkProofOfWork(hashToNumber(prev), headers[0]!.bits, params.powLimit));
    for (let i = 1; i < headers.length; i++) {
      const h = headers[i]!;
      assert.ok(equalBytes(h.prevHash, prev), `height ${i} links`);
      prev = headerHash(h);
      assert.ok(hashToNumber(prev) <= bitsToTarget(h.bits), `height ${i} hash <= target`);
      assert.ok(checkProofOfWork(hashToNumber(prev), h.bits, params.powLimit), `height ${i} PoW`);
    }
  });

  it('a Chain with mainnet parameters accepts every header, and retargets stay at powLimit', () => {
    const chain = new Chain(params, new MemoryChainStore());
    assert.equal(hashToHex(chain.tip.hash), GENESIS_HASH);
    const entries: ChainEntry[] = [chain.getEntry(params.genesisHash)!];
    for (let i = 1; i < headers.length; i++) {
      const h = headers[i]!;
      const e = chain.acceptHeader(h, h.time + 3600);
      assert.equal(e.height, i);
      assert.equal(e.parent, entries[i - 1]);
      entries.push(e);
    }
    assert.equal(chain.bestHeader(), entries[9999]);
    assert.equal(entries[9999]!.chainWork > entries[9998]!.chainWork, true);
    for (const height of [2016, 4032, 6048, 8064]) {
      assert.equal(height % params.retargetInterval, 0);
      assert.equal(chain.requiredBits(entries[height - 1]!), headers[height]!.bits, `retarget at ${height}`);
      assert.equal(headers[height]!.bits, params.powLimitBits);
    }
    // Known headers come back as the same entry.
    assert.equal(chain.acceptHeader(headers[5000]!, headers[5000]!.time), entries[5000]);
  });

  describe('rejections', () => {
    it("'prev-blk-not-found': a real header whose parent the chain does not have", () => {
      const chain = new Chain(params, new MemoryChainStore());
      rejectsWith(() => chain.acceptHeader(headers[2]!, headers[2]!.time + 3600), 'prev-blk-not-found');
    });

    it("'high-hash': a real header with its nonce or prevHash changed no longer meets its target", () => {
      const chain = new Chain(params, new MemoryChainStore());
      const h1 = headers[1]!;
      rejectsWith(() => chain.acceptHeader({ ...h1, nonce: (h1.nonce + 1) >>> 0 }, h1.time + 3600), 'high-hash');
      const broken = h1.prevHash.slice();
      broken[0]! ^= 1;
      rejectsWith(() => chain.acceptHeader({ ...h1, prevHash: broken }, h1.time + 3600), 'high-hash');
      // A target easier than powLimit is rejected whatever the hash.
      rejectsWith(() => chain.acceptHeader({ ...h1, bits: 0x1d01ffff }, h1.time + 3600), 'high-hash');
      // The real header is still accepted afterwards.
      assert.equal(chain.acceptHeader(h1, h1.time + 3600).height, 1);
    });

    it("'bad-diffbits': bits other than the retarget rule requires", () => {
      // On a network whose powLimit is easy, a header at height 1 that claims an easy target
      // can be solved in a few tries; its parent (mainnet genesis) requires 0x1d00ffff.
      const easy = makeParams({ ...mainnetConfig, name: 'easy', powLimitBits: 0x207fffff });
      const chain = new Chain(easy, new MemoryChainStore());
      const h1 = headers[1]!;
      const solved = solveHeader({ ...h1, bits: 0x207fffff, nonce: 0 }, 1000);
      assert.ok(solved !== undefined);
      rejectsWith(() => chain.acceptHeader(solved, h1.time + 3600), 'bad-diffbits');
      assert.equal(chain.acceptHeader(h1, h1.time + 3600).height, 1);
    });

    it("'bad-diffbits': real header 2016 on a network whose retarget demands more work", () => {
      // With 10x the block spacing, the first period (2055491 s) is under a quarter of the
      // timespan, so the rule requires a target 4x harder and the real header's 0x1d00ffff fails.
      const slow = makeParams({ ...mainnetConfig, name: 'slow', targetBlockSeconds: 6000 });
      const chain = new Chain(slow, new MemoryChainStore());
      for (let i = 1; i < 2016; i++) chain.acceptHeader(headers[i]!, headers[i]!.time + 3600);
      const parent = chain.getEntry(headerHash(headers[2015]!))!;
      assert.equal(chain.requiredBits(parent), 0x1c3fffc0);
      rejectsWith(() => chain.acceptHeader(headers[2016]!, headers[2016]!.time + 3600), 'bad-diffbits');
    });

    it("'time-too-new': more than two hours past the caller's clock", () => {
      const chain = new Chain(params, new MemoryChainStore());
      const h1 = headers[1]!;
      // Two hours is Core's MAX_FUTURE_BLOCK_TIME: one second past it is too new, and not the
      // sender's fault (our clock may be behind).
      assert.throws(
        () => chain.acceptHeader(h1, h1.time - 2 * 60 * 60 - 1),
        (e: unknown) => e instanceof ValidationError && e.code === 'time-too-new' && !e.misbehaving,
      );
      assert.equal(chain.acceptHeader(h1, h1.time - 2 * 60 * 60).height, 1);
    });

    it("'time-too-old': not after the median time of the last 11 blocks", () => {
      // Needs headers with chosen times, so a network whose genesis is mainnet's block 0 re-solved
      // at an easy target (the coinbase, and so the Merkle root, are mainnet's).
      const g = decodeBlock(fromHex(genesisHex));
      const easyGenesis = { ...g, header: solveHeader({ ...g.header, bits: 0x207fffff, nonce: 0 }, 1000)! };
      const easy = makeParams({
        ...mainnetConfig,
        name: 'easy-genesis',
        powLimitBits: 0x207fffff,
        genesis: toHex(encodeBlock(easyGenesis)),
      });
      const chain = new Chain(easy, new MemoryChainStore());
      const now = g.header.time + 100_000;
      let tip = chain.tip;
      const times = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((t) => g.header.time + t * 60);
      for (const time of times) {
        const h = solveHeader({ ...g.header, prevHash: tip.hash, time, bits: 0x207fffff, nonce: 0 }, 1000)!;
        tip = chain.acceptHeader(h, now);
      }
      const mtp = chain.medianTimePast(tip);
      // The 11 times are genesis + 0,1..10 minutes: the median is 5 minutes after genesis.
      assert.equal(mtp, g.header.time + 5 * 60);
      const at = solveHeader({ ...g.header, prevHash: tip.hash, time: mtp, bits: 0x207fffff, nonce: 0 }, 1000)!;
      rejectsWith(() => chain.acceptHeader(at, now), 'time-too-old');
      const after = solveHeader({ ...g.header, prevHash: tip.hash, time: mtp + 1, bits: 0x207fffff, nonce: 0 }, 1000)!;
      assert.equal(chain.acceptHeader(after, now).height, 11);
    });
  });
});
