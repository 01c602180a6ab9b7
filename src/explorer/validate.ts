// POST /api/mvb/validate-block: the node's own verdict on a block a student edited in the tamper
// lesson (or any block): Core's TestBlockValidity (core/chain.ts testBlockValidity) with Core's reason
// code, and nothing stored or connected. The inputs are checked against the coins the block would
// spend: for a child of our tip, our UTXO set; for a block beside an older one (an edit of a block in
// our chain), the coins that block's own undo data says its inputs spent, so an edited value or
// signature fails as it would have at that height.
import { decodeBlock } from '../shared/core/block.js';
import { DecodeError, fromHex, hashToHex, toHex } from '../shared/core/bytes.js';
import type { Block } from '../shared/core/block.js';
import { headerHash } from '../shared/core/header.js';
import { outpointKey } from '../shared/core/outpoint.js';
import { type Coin, type CoinView, ValidationError } from '../shared/core/validation.js';
import type { Explorer } from './explorer.js';
import { bad } from './params.js';

export interface BlockVerdict {
  readonly hash: string;
  readonly valid: boolean;
  /** Core's reject reason (bad-txnmrklroot, high-hash, ...) when invalid. */
  readonly reason?: string;
  readonly detail?: string;
  /** Which coins the inputs were checked against. */
  readonly inputsCheckedAgainst: 'utxo-set' | 'sibling-undo';
}

/** Coins the stored children of the block's parent spent (their undo data), by outpoint. */
function siblingCoins(ex: Explorer, block: Block): Map<string, Coin> {
  const out = new Map<string, Coin>();
  const parent = ex.chain.getEntry(block.header.prevHash);
  for (const child of parent?.children ?? []) {
    const original = ex.store.getBlock(child.hash);
    const undo = ex.store.getUndo(child.hash);
    if (!original || !undo) continue;
    let u = 0;
    for (const tx of original.txs.slice(1)) for (const i of tx.inputs) if (undo[u]) out.set(outpointKey(i.prevTxid, i.vout), undo[u++]!);
  }
  return out;
}

/** The verdict on a block posted as hex. */
export function validateBlockHex(ex: Explorer, hex: string, nowSeconds: number): BlockVerdict {
  const text = hex.trim();
  if (!/^([0-9a-fA-F]{2})+$/.test(text)) bad('expected the block as hex');
  let block: Block;
  try {
    block = decodeBlock(fromHex(text));
  } catch (e) {
    if (e instanceof DecodeError) return bad(`the block does not decode: ${e.message}`);
    throw e;
  }
  const hash = hashToHex(headerHash(block.header));
  const onTip = toHex(block.header.prevHash) === toHex(ex.chain.tip.hash);
  const undo = onTip ? undefined : siblingCoins(ex, block);
  const view: CoinView = undo ? { getCoin: (id, vout) => undo.get(outpointKey(id, vout)) } : ex.chain.coins;
  const against = onTip ? 'utxo-set' : 'sibling-undo';
  try {
    ex.chain.testBlockValidity(block, nowSeconds, view);
    return { hash, valid: true, inputsCheckedAgainst: against };
  } catch (e) {
    if (e instanceof ValidationError) return { hash, valid: false, reason: e.code, detail: e.detail, inputsCheckedAgainst: against };
    throw e;
  }
}
