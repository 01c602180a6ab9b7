// mvb mempool: the unconfirmed transactions a datadir knows (an explorer's mempool view, a wallet's
// pending and incoming payments), highest fee rate first.
import { encodeAddress } from '../../../shared/core/address.js';
import { p2pkhHash } from '../../../shared/core/script.js';
import { command } from '../../../shared/node/cli/command.js';
import { formatCoins as coins } from '../../../shared/core/amount.js';
import { openDatadir } from './datadir.js';
import { pooledTxs } from './pool.js';

export const mempoolCommand = command({
  name: 'mempool',
  describe: "show the unconfirmed transactions a datadir knows: an explorer's mempool view, a wallet's pending payments",
  async handler(_args, _opts, ctx) {
    const d = openDatadir(ctx);
    try {
      const version = ctx.settings.params.addressVersion;
      const txs = pooledTxs(d)
        .map((p) => ({
          txid: p.txid,
          fee: p.fee.toString(),
          size: p.size,
          feeRate: Number(p.fee) / p.size,
          seenAt: p.seenAt,
          source: p.source,
          outputs: p.tx.outputs.map((o) => {
            const pkh = p2pkhHash(o.scriptPubKey);
            return { address: pkh ? encodeAddress(pkh, version) : null, value: o.value.toString() };
          }),
        }))
        .sort((a, b) => b.feeRate - a.feeRate);
      if (ctx.json) {
        ctx.io.out(JSON.stringify({ count: txs.length, bytes: txs.reduce((a, t) => a + t.size, 0), txs }, null, 2));
        return 0;
      }
      if (!txs.length) {
        ctx.io.out(
          `no unconfirmed transactions recorded in ${ctx.datadir} (a miner keeps its mempool in memory: point --datadir at an explorer's or a wallet's)`,
        );
        return 0;
      }
      ctx.io.out(`${txs.length} unconfirmed transaction(s), highest fee rate first:`);
      for (const t of txs)
        ctx.io.out(`  ${t.txid}  ${String(t.size).padStart(5)} B  fee ${coins(BigInt(t.fee))}  ${t.feeRate.toFixed(2)}/B  ${t.source}`);
      return 0;
    } finally {
      d.close();
    }
  },
});
