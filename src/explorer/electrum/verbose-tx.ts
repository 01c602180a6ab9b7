// blockchain.transaction.get with verbose=true: ElectrumX passes on bitcoind's getrawtransaction
// (verbose), so clients expect that shape (Core's TxToUniv in core_write.cpp): txid, hash, sizes,
// vin with scriptSig {asm, hex} or a coinbase's hex, vout with value in coins, n and scriptPubKey
// {asm, hex, type, address}, the raw hex, and for a confirmed transaction its block, confirmations
// and times. The asm is Esplora's notation (esplora.ts), not Core's.
import { hashToHex, toHex } from '../../shared/core/bytes.js';
import { p2pkhHash } from '../../shared/core/script.js';
import { type Tx, encodeTx, isCoinbase, txid } from '../../shared/core/tx.js';
import type { TxLocation } from '../../shared/node/store/schema.js';
import { scriptAsm } from '../esplora.js';
import type { Lookups } from '../lookups.js';

/** Base units as coins, as Core's ValueFromAmount writes them (a JSON number, 8 decimals). */
const coins = (v: bigint): number => Number(v) / 1e8;

function scriptType(spk: Uint8Array): string {
  if (p2pkhHash(spk)) return 'pubkeyhash';
  return spk[0] === 0x6a ? 'nulldata' : 'nonstandard';
}

export function verboseTx(l: Lookups, tx: Tx, loc: TxLocation | undefined): Record<string, unknown> {
  const raw = encodeTx(tx);
  const id = hashToHex(txid(tx));
  const cb = isCoinbase(tx);
  const vin = tx.inputs.map((i) =>
    cb
      ? { coinbase: toHex(i.scriptSig), sequence: i.sequence }
      : {
          txid: hashToHex(i.prevTxid),
          vout: i.vout,
          scriptSig: { asm: scriptAsm(i.scriptSig), hex: toHex(i.scriptSig) },
          sequence: i.sequence,
        },
  );
  const vout = tx.outputs.map((o, n) => {
    const pkh = p2pkhHash(o.scriptPubKey);
    return {
      value: coins(o.value),
      n,
      scriptPubKey: {
        asm: scriptAsm(o.scriptPubKey),
        hex: toHex(o.scriptPubKey),
        type: scriptType(o.scriptPubKey),
        ...(pkh ? { address: l.ex.addressOf(pkh) } : {}),
      },
    };
  });
  const out: Record<string, unknown> = {
    txid: id,
    hash: id,
    version: tx.version,
    size: raw.length,
    vsize: raw.length,
    weight: raw.length * 4,
    locktime: tx.locktime,
    vin,
    vout,
    hex: toHex(raw),
  };
  if (loc) {
    const time = l.ex.chain.atHeight(loc.height)?.header.time ?? 0;
    Object.assign(out, { blockhash: loc.block, confirmations: l.ex.chain.height - loc.height + 1, time, blocktime: time });
  }
  return out;
}
