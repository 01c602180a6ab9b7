// mvb tx <txid>: a transaction's inputs and outputs with addresses and values, fee, confirmations,
// its raw bytes field by field (scriptSig split into DER r, s, hash type and public key) and what
// each signature commits to (the legacy sighash preimage).
import { encodeAddress } from '../../../shared/core/address.js';
import { hashToHex, toHex } from '../../../shared/core/bytes.js';
import { p2pkhHash } from '../../../shared/core/script.js';
import { encodeTx, isCoinbase } from '../../../shared/core/tx.js';
import { sighashView, txFields } from '../../../shared/node/annotate.js';
import { CliError, command } from '../../../shared/node/cli/command.js';
import { formatCoins as coins } from '../../../shared/core/amount.js';
import { type FoundTx, findTx, openDatadir } from './datadir.js';
import { pooledTxs } from './pool.js';

export const txCommand = command({
  name: 'tx',
  describe: 'show a transaction: inputs, outputs, fee, its bytes field by field and the sighash preimage',
  args: ['<txid>'],
  async handler(args, _opts, ctx) {
    const id = args[0]!;
    if (!/^[0-9a-fA-F]{64}$/.test(id)) throw new CliError(`"${id}" is not a txid (64 hex digits)`, 2);
    const d = openDatadir(ctx);
    try {
      const version = ctx.settings.params.addressVersion;
      const addr = (spk: Uint8Array) => {
        const pkh = p2pkhHash(spk);
        return pkh ? encodeAddress(pkh, version) : null;
      };
      const found: FoundTx | undefined = findTx(d, id.toLowerCase()) ?? pooledTxs(d).find((p) => p.txid === id.toLowerCase());
      if (!found) throw new CliError(`transaction ${id} is not in this datadir's best chain or mempool view`);
      const tx = found.tx;
      const raw = encodeTx(tx);
      const cb = isCoinbase(tx);
      const prevs = tx.inputs.map((i) => (cb ? undefined : findTx(d, hashToHex(i.prevTxid))?.tx.outputs[i.vout]));
      const inSum = prevs.reduce((a, p) => a + (p?.value ?? 0n), 0n);
      const outSum = tx.outputs.reduce((a, o) => a + o.value, 0n);
      const out = {
        txid: id.toLowerCase(),
        confirmed: found.entry !== undefined,
        block: found.entry ? { height: found.entry.record.height, hash: hashToHex(found.entry.record.hash), position: found.pos } : null,
        confirmations: found.entry ? d.view.height - found.entry.record.height + 1 : 0,
        size: raw.length,
        fee: cb || prevs.some((p) => !p) ? null : (inSum - outSum).toString(),
        inputs: tx.inputs.map((i, k) => ({
          txid: hashToHex(i.prevTxid),
          vout: i.vout,
          coinbase: cb,
          address: prevs[k] ? addr(prevs[k]!.scriptPubKey) : null,
          value: prevs[k]?.value.toString() ?? null,
        })),
        outputs: tx.outputs.map((o) => ({ address: addr(o.scriptPubKey), value: o.value.toString() })),
        hex: toHex(raw),
        fields: txFields(tx, raw, (pkh) => encodeAddress(pkh, version)),
        sighash: prevs.map((p, k) => (p ? (sighashView(tx, k, p.scriptPubKey) ?? null) : null)),
      };
      if (ctx.json) {
        ctx.io.out(JSON.stringify(out, null, 2));
        return 0;
      }
      print(ctx.io.out, out);
      return 0;
    } finally {
      d.close();
    }
  },
});

function print(
  say: (l: string) => void,
  t: {
    txid: string;
    confirmed: boolean;
    block: { height: number; hash: string } | null;
    confirmations: number;
    size: number;
    fee: string | null;
    inputs: { txid: string; vout: number; coinbase: boolean; address: string | null; value: string | null }[];
    outputs: { address: string | null; value: string }[];
    hex: string;
    fields: { start: number; end: number; name: string; value: string }[];
    sighash: ({ input: number; preimage: string; sighash: string } | null)[];
  },
): void {
  say(`transaction ${t.txid}`);
  say(
    `${t.confirmed ? `confirmed in block ${t.block!.height} (${t.block!.hash}), ${t.confirmations} confirmation(s)` : 'unconfirmed'}; ${t.size} bytes; fee ${t.fee === null ? 'n/a' : coins(BigInt(t.fee))}`,
  );
  say('inputs:');
  t.inputs.forEach((i, k) =>
    say(
      `  #${k} ${i.coinbase ? 'coinbase' : `${i.txid}:${i.vout}  ${i.address ?? '?'}  ${i.value === null ? '?' : coins(BigInt(i.value))}`}`,
    ),
  );
  say('outputs:');
  t.outputs.forEach((o, k) => say(`  #${k} ${o.address ?? 'non-standard'}  ${coins(BigInt(o.value))}`));
  say('bytes:');
  for (const f of t.fields) {
    const hex = t.hex.slice(f.start * 2, f.end * 2);
    say(
      `  ${String(f.start).padStart(4)}-${String(f.end - 1).padEnd(4)} ${f.name.padEnd(30)} ${hex.length > 20 ? `${hex.slice(0, 20)}…` : hex.padEnd(21)} ${f.value.length > 70 ? `${f.value.slice(0, 70)}…` : f.value}`,
    );
  }
  for (const s of t.sighash) if (s) say(`input #${s.input} signs HASH256 of the preimage ${s.preimage}\n  = ${s.sighash}`);
}
