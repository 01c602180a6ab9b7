// Esplora's JSON shapes (github.com/Blockstream/esplora/blob/master/API.md, as mempool.space serves
// them) built from our chain, indexes and mempool: same field names and types, so Esplora clients
// work unchanged. Amounts are base units (Esplora's "value" in satoshis; they fit a JS number far
// below 2^53). Lookups of confirmed transactions go through a small cache of decoded blocks.
import { Reader, fromHex, hashToHex, hexToHash, toHex } from '../shared/core/bytes.js';
import type { Block } from '../shared/core/block.js';
import type { ChainEntry } from '../shared/core/chain.js';
import { difficulty } from '../shared/core/pow.js';
import { getScriptOp, p2pkhHash } from '../shared/core/script.js';
import { type Tx, encodeTx, isCoinbase, readTx, txid } from '../shared/core/tx.js';
import { blockSize } from '../shared/core/block.js';
import { coinbaseMinerName } from '../shared/core/coinbase-tag.js';
import type { Explorer } from './explorer.js';
import type { TxLocation } from '../shared/node/store/schema.js';
import { coinbaseTag } from './pools.js';

/** Decoded blocks kept for lookups (each at most maxBlockBytes). */
const BLOCK_CACHE_SIZE = 32;
/** Block summaries (count and miner) kept for the tree view. */
const MAX_SUMMARIES = 20_000;

const OP_NAMES: Record<number, string> = {
  0x00: 'OP_0',
  0x6a: 'OP_RETURN',
  0x76: 'OP_DUP',
  0x87: 'OP_EQUAL',
  0x88: 'OP_EQUALVERIFY',
  0xa9: 'OP_HASH160',
  0xac: 'OP_CHECKSIG',
  0xab: 'OP_CODESEPARATOR',
};

/** Esplora's scriptpubkey_asm / scriptsig_asm notation. */
export function scriptAsm(script: Uint8Array): string {
  const parts: string[] = [];
  for (let pc = 0; pc < script.length && parts.length < 64;) {
    const op = getScriptOp(script, pc);
    if (!op.ok) {
      parts.push('<truncated>');
      break;
    }
    if (op.data !== undefined && op.opcode > 0) {
      const name = op.opcode < 0x4c ? `OP_PUSHBYTES_${op.opcode}` : ['OP_PUSHDATA1', 'OP_PUSHDATA2', 'OP_PUSHDATA4'][op.opcode - 0x4c];
      parts.push(`${name} ${toHex(op.data)}`);
    } else parts.push(OP_NAMES[op.opcode] ?? `OP_UNKNOWN_${op.opcode}`);
    pc = op.next;
  }
  return parts.join(' ');
}

export interface TxStatus {
  confirmed: boolean;
  block_height?: number;
  block_hash?: string;
  block_time?: number;
}

/** What the tree view and the leaderboard show of a block: its size in transactions and who mined it. */
export interface BlockSummary {
  readonly txCount: number;
  /** The address the coinbase pays. */
  readonly miner: string | null;
  /** The name in the coinbase tag ("/alice/"), checked by core's coinbaseMinerName. */
  readonly minerName: string | null;
  /** The coinbase's tag as mempool.space names pools: the name of a named miner, else its printable text. */
  readonly tag: string;
}

export class EsploraView {
  private readonly cache = new Map<string, Block>();
  private readonly summaries = new Map<string, BlockSummary>();

  constructor(private readonly ex: Explorer) {}

  block(hash: Uint8Array): Block | undefined {
    const k = toHex(hash);
    const hit = this.cache.get(k);
    if (hit) {
      this.cache.delete(k);
      this.cache.set(k, hit);
      return hit;
    }
    const b = this.ex.store.getBlock(hash);
    if (!b) return undefined;
    this.cache.set(k, b);
    if (this.cache.size > BLOCK_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return b;
  }

  /**
   * A block's transaction count and miner, read from its raw bytes without decoding more than the
   * coinbase (the tree view shows hundreds of blocks; each may be up to maxBlockBytes).
   */
  summary(hash: Uint8Array): BlockSummary | undefined {
    const k = toHex(hash);
    const hit = this.summaries.get(k);
    if (hit) return hit;
    const raw = this.ex.store.getRawBlock(hash);
    if (!raw) return undefined;
    const r = new Reader(raw);
    r.bytes(80, 'header');
    const txCount = r.compactSize('tx count');
    const coinbase = readTx(r);
    const out: BlockSummary = {
      txCount,
      miner: this.ex.minerOf([coinbase]),
      minerName: coinbaseMinerName(coinbase) ?? null,
      tag: coinbaseTag(coinbase),
    };
    if (this.summaries.size >= MAX_SUMMARIES) this.summaries.delete(this.summaries.keys().next().value!);
    this.summaries.set(k, out);
    return out;
  }

  /** A transaction by txid (display hex): from the pool or the active chain. */
  findTx(id: string): { tx: Tx; loc?: TxLocation } | undefined {
    const pooled = this.ex.mempool.get(hexToHash(id));
    if (pooled) return { tx: pooled.tx };
    const loc = this.ex.indexes.txs.get(id);
    if (!loc) return undefined;
    const tx = this.block(hexToHash(loc.block))?.txs[loc.pos];
    return tx ? { tx, loc } : undefined;
  }

  /** The output an input spends: a pool parent's, an unspent coin, or (spent on the best chain) the spend index's copy. */
  prevout(prevTxid: Uint8Array, vout: number): { value: bigint; scriptPubKey: Uint8Array } | undefined {
    const parent = this.ex.mempool.get(prevTxid)?.tx.outputs[vout];
    if (parent) return parent;
    const coin = this.ex.store.getCoin(prevTxid, vout);
    if (coin) return coin;
    const s = this.ex.indexes.spends.get(`${hashToHex(prevTxid)}:${vout}`);
    if (s && s.script) return { value: BigInt(s.value), scriptPubKey: fromHex(s.script) };
    return this.findTx(hashToHex(prevTxid))?.tx.outputs[vout];
  }

  status(loc: TxLocation | undefined): TxStatus {
    if (!loc) return { confirmed: false };
    const e = this.ex.chain.getEntry(hexToHash(loc.block));
    return { confirmed: true, block_height: loc.height, block_hash: loc.block, block_time: e?.header.time ?? 0 };
  }

  output(o: Tx['outputs'][number]): Record<string, unknown> {
    const pkh = p2pkhHash(o.scriptPubKey);
    const type = pkh ? 'p2pkh' : o.scriptPubKey[0] === 0x6a ? 'op_return' : 'unknown';
    return {
      scriptpubkey: toHex(o.scriptPubKey),
      scriptpubkey_asm: scriptAsm(o.scriptPubKey),
      scriptpubkey_type: type,
      ...(pkh ? { scriptpubkey_address: this.ex.addressOf(pkh) } : {}),
      value: Number(o.value),
    };
  }

  /** Esplora's transaction object, prevouts resolved; fee 0 for a coinbase. */
  tx(tx: Tx, loc?: TxLocation): Record<string, unknown> {
    const cb = isCoinbase(tx);
    let inSum = 0;
    const vin = tx.inputs.map((i) => {
      let prevout: Record<string, unknown> | null = null;
      if (!cb) {
        const prev = this.prevout(i.prevTxid, i.vout);
        if (prev) {
          prevout = this.output(prev);
          inSum += Number(prev.value);
        }
      }
      return {
        txid: hashToHex(i.prevTxid),
        vout: cb ? 4294967295 : i.vout,
        prevout,
        scriptsig: toHex(i.scriptSig),
        scriptsig_asm: scriptAsm(i.scriptSig),
        is_coinbase: cb,
        sequence: i.sequence,
      };
    });
    const vout = tx.outputs.map((o) => this.output(o));
    const outSum = tx.outputs.reduce((a, o) => a + Number(o.value), 0);
    const size = encodeTx(tx).length;
    return {
      txid: hashToHex(txid(tx)),
      version: tx.version,
      locktime: tx.locktime,
      vin,
      vout,
      size,
      weight: size * 4,
      fee: cb ? 0 : inSum - outSum,
      status: this.status(loc),
    };
  }

  /** Esplora's block object. */
  blockJson(e: ChainEntry, b: Block): Record<string, unknown> {
    const h = e.header;
    const size = blockSize(b);
    return {
      id: hashToHex(e.hash),
      height: e.height,
      version: h.version,
      timestamp: h.time,
      tx_count: b.txs.length,
      size,
      weight: size * 4,
      merkle_root: hashToHex(h.merkleRoot),
      previousblockhash: e.parent ? hashToHex(e.parent.hash) : null,
      mediantime: this.ex.chain.medianTimePast(e),
      nonce: h.nonce,
      bits: h.bits,
      difficulty: difficulty(h.bits, this.ex.settings.params.powLimit),
    };
  }

  blockStatus(e: ChainEntry): Record<string, unknown> {
    const active = this.ex.chain.isActive(e);
    const next = active ? this.ex.chain.atHeight(e.height + 1) : undefined;
    return { in_best_chain: active, height: e.height, next_best: next ? hashToHex(next.hash) : null };
  }
}
