// Signature checks for blocks, ahead of connecting them: a block's checks that the signature
// cache does not already hold (the mempool put its transactions' there) run in worker threads,
// and the ones that verify go into the cache; connecting the block through the cache's verifier
// then finds them all. A check that fails or times out is simply not cached: the core verifies
// it again while connecting and reports the failure with Core's reason, so this step can only
// save time, never change a verdict. The core stays synchronous and pure.
import type { Block } from '../../core/block.js';
import { type CoinView, type SignatureCheck, signatureChecks } from '../../core/validation.js';
import { SignatureCache } from './sigcache.js';
import { VerifyPool } from './pool.js';
import type { PackedCheck as CheckToCache } from './protocol.js';

/** Below this many uncached checks, verifying on the caller's thread is cheaper than a round trip. */
const MIN_PARALLEL_CHECKS = 16;

export class BlockSignatureVerifier {
  readonly stats = { blocks: 0, checks: 0, cached: 0, parallel: 0 };

  constructor(
    readonly cache: SignatureCache,
    readonly pool: VerifyPool | undefined,
  ) {}

  /** A cache of the default size and, with threads > 0, a pool of that many checking threads. */
  static create(threads: number): BlockSignatureVerifier {
    return new BlockSignatureVerifier(new SignatureCache(), threads > 0 ? new VerifyPool(threads) : undefined);
  }

  /**
   * Verifies the blocks' signatures in parallel into the cache. view: the coins before the first
   * block (outputs created by earlier blocks of the list are found in those blocks); created: the
   * outputs of blocks handed over before in the same batch (see signatureChecks).
   */
  async preverify(blocks: readonly Block[], view: CoinView, created?: Map<string, Uint8Array>): Promise<void> {
    this.stats.blocks += blocks.length;
    await this.preverifyChecks(
      signatureChecks(
        blocks.flatMap((b) => b.txs),
        view,
        created,
      ),
    );
  }

  /**
   * Verifies in worker threads, into the cache, the checks it does not hold yet; with fewer than
   * minParallel of those, does nothing (verifying them on the caller's thread when they are needed
   * costs less than the round trip). The mempool hands a transaction's checks here before its own.
   */
  async preverifyChecks(checks: readonly SignatureCheck[], minParallel = MIN_PARALLEL_CHECKS): Promise<void> {
    const all: CheckToCache[] = [];
    for (const c of checks) if (c.firstHash) all.push({ der: c.der, pubkey: c.pubkey, firstHash: c.firstHash });
    const todo = all.filter((c) => !this.cache.has(c));
    this.stats.checks += all.length;
    this.stats.cached += all.length - todo.length;
    if (!this.pool || todo.length < Math.max(1, minParallel)) return;
    this.stats.parallel += todo.length;
    const ok = await this.pool.verify(todo);
    todo.forEach((c, i) => ok[i] && this.cache.add(c));
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
