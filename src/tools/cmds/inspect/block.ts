// mvb block <height|hash>: a block's header field by field (bytes, meaning, value), its place in
// the chain, who mined it and its transactions, from any mvb datadir.
import { hashToHex, toHex } from '../../../shared/core/bytes.js';
import { encodeHeader } from '../../../shared/core/header.js';
import { encodeTx, isCoinbase, txid } from '../../../shared/core/tx.js';
import { headerFields } from '../../../shared/node/annotate.js';
import { command } from '../../../shared/node/cli/command.js';
import { formatCoins as coins } from '../../../shared/core/amount.js';
import { findBlock, minerOf, openDatadir } from './datadir.js';

export const blockCommand = command({
  name: 'block',
  describe: 'show a block (by height on the best chain, or by hash): header bytes and meaning, transactions',
  args: ['<height|hash>'],
  async handler(args, _opts, ctx) {
    const d = openDatadir(ctx);
    try {
      const { entry, block } = findBlock(d, args[0]!);
      const r = entry.record;
      const headerHex = toHex(encodeHeader(r.header));
      const out = {
        hash: hashToHex(r.hash),
        height: r.height,
        inBestChain: entry.active,
        confirmations: entry.active ? d.view.height - r.height + 1 : 0,
        chainWork: r.chainWork.toString(),
        miner: minerOf(block, ctx.settings.params.addressVersion),
        header: headerHex,
        fields: headerFields(r.header).map((f) => ({ ...f, hex: headerHex.slice(f.start * 2, f.end * 2) })),
        txs: block.txs.map((t) => ({
          txid: hashToHex(txid(t)),
          size: encodeTx(t).length,
          coinbase: isCoinbase(t),
          value: t.outputs.reduce((a, o) => a + o.value, 0n).toString(),
        })),
      };
      if (ctx.json) {
        ctx.io.out(JSON.stringify(out, null, 2));
        return 0;
      }
      ctx.io.out(`block ${out.height} ${out.hash}`);
      ctx.io.out(
        `${out.inBestChain ? `best chain, ${out.confirmations} confirmation(s)` : 'stale: not on the best chain'}; mined by ${out.miner ?? 'a non-standard script'}; ${out.txs.length} transaction(s)`,
      );
      ctx.io.out(`header (80 bytes; HASH256 of them, reversed, is the hash):`);
      for (const f of out.fields)
        ctx.io.out(
          `  ${String(f.start).padStart(2)}-${String(f.end - 1).padEnd(2)} ${f.name.padEnd(10)} ${f.hex.length > 16 ? `${f.hex.slice(0, 16)}…` : f.hex.padEnd(17)} ${f.value}`,
        );
      ctx.io.out('transactions:');
      out.txs.forEach((t, i) =>
        ctx.io.out(
          `  ${String(i).padStart(3)} ${t.txid} ${String(t.size).padStart(5)} B  ${coins(BigInt(t.value))}${t.coinbase ? '  coinbase' : ''}`,
        ),
      );
      return 0;
    } finally {
      d.close();
    }
  },
});
