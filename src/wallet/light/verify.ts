// Simplified payment verification of one transaction a server claims (the white paper's section 8:
// "by linking it to a place in the chain, he can see that a network node has accepted it"): the raw transaction must hash to the txid
// claimed, the server's JSON must say what the raw bytes say (outputs' values and scripts), the
// Merkle branch must lead from the txid to the Merkle root of OUR header at that height on OUR
// best chain, and the block the server names must be that header. Each failure is a lie, named
// with the server and what it said; the amounts counted come from the raw bytes only.
import { equalBytes, fromHex, hashToHex, hexToHash, toHex } from '../../shared/core/bytes.js';
import { formatCoins } from '../../shared/core/amount.js';
import { merkleRootFromBranch } from '../../shared/core/merkle.js';
import { type Tx, decodeTx, isCoinbase, txid as txidOf } from '../../shared/core/tx.js';
import type { EsploraClient, MerkleProof, TxClaim } from './esplora-client.js';
import type { LightHeaders } from './headers.js';
import type { LightTxRecord } from '../../shared/node/store/schema.js';

export type LieKind = 'txid' | 'amount' | 'branch' | 'off-best-chain';

/** A server caught saying something its own bytes or our headers refute. */
export interface Lie {
  readonly server: string;
  readonly kind: LieKind;
  readonly txid: string;
  /** One line, naming the server and the lie. */
  readonly message: string;
}

/** A transaction proven to be in our best chain: what the store keeps (display-order hex). */
export type ProvenTx = LightTxRecord;

export type Outcome =
  | { readonly kind: 'proven'; readonly tx: ProvenTx }
  | { readonly kind: 'lie'; readonly lie: Lie }
  /** Not provable now, and not a lie: unconfirmed, or above the headers we have. */
  | { readonly kind: 'unproven'; readonly txid: string; readonly reason: string };

const lie = (server: string, kind: LieKind, txid: string, what: string): Outcome => ({
  kind: 'lie',
  lie: { server, kind, txid, message: `${server} lied (${kind}): ${what}` },
});

/** The server's JSON against the raw transaction: every output's value and script. */
function amountLie(server: string, claim: TxClaim, tx: Tx): Outcome | undefined {
  if (claim.vout.length !== tx.outputs.length)
    return lie(
      server,
      'amount',
      claim.txid,
      `its JSON lists ${claim.vout.length} outputs of ${claim.txid}, the raw transaction has ${tx.outputs.length}`,
    );
  for (const [i, o] of tx.outputs.entries()) {
    const c = claim.vout[i]!;
    if (c.value !== o.value)
      return lie(
        server,
        'amount',
        claim.txid,
        `its JSON says output ${i} of ${claim.txid} pays ${formatCoins(c.value)}, the raw transaction pays ${formatCoins(o.value)}`,
      );
    if (c.scriptpubkey !== toHex(o.scriptPubKey))
      return lie(server, 'amount', claim.txid, `its JSON gives output ${i} of ${claim.txid} another script than the raw transaction`);
  }
  return undefined;
}

/** The Merkle proof against our own header at its height (see the module comment). */
export function checkProof(
  server: string,
  headers: LightHeaders,
  id: string,
  tx: Tx,
  proof: MerkleProof,
  claimedBlock?: string,
): Outcome | undefined {
  const ours = headers.atHeight(proof.blockHeight);
  if (!ours)
    return {
      kind: 'unproven',
      txid: id,
      reason: `${server} places ${id} at height ${proof.blockHeight}, above our best header (height ${headers.height})`,
    };
  const ourHash = hashToHex(ours.hash);
  if (claimedBlock !== undefined && claimedBlock !== ourHash)
    return lie(
      server,
      'off-best-chain',
      id,
      `it places ${id} in block ${claimedBlock} at height ${proof.blockHeight}, which is not on our best header chain (ours there is ${ourHash})`,
    );
  const root = merkleRootFromBranch(hexToHash(id), proof.merkle.map(hexToHash), proof.pos);
  if (!root || !equalBytes(root, ours.header.merkleRoot))
    return lie(
      server,
      'branch',
      id,
      `the Merkle branch it served for ${id} does not lead to the Merkle root of our header at height ${proof.blockHeight} (${ourHash})`,
    );
  // Only the first transaction of a block is a coinbase (Core's CheckBlock: bad-cb-missing / bad-cb-multiple).
  if (isCoinbase(tx) !== (proof.pos === 0))
    return lie(
      server,
      'branch',
      id,
      `it places ${isCoinbase(tx) ? 'the coinbase' : 'a transaction'} ${id} at position ${proof.pos} of block ${ourHash}`,
    );
  return undefined;
}

/** Checks one claimed transaction (module comment); never throws for what the server says, only for failing to reach it. */
export async function verifyClaim(server: EsploraClient, headers: LightHeaders, claim: TxClaim): Promise<Outcome> {
  const raw = await server.rawTx(claim.txid);
  let tx: Tx;
  try {
    tx = decodeTx(fromHex(raw));
  } catch (e) {
    return lie(
      server.name,
      'txid',
      claim.txid,
      `the raw transaction it served for ${claim.txid} does not decode (${(e as Error).message})`,
    );
  }
  const actual = hashToHex(txidOf(tx));
  if (actual !== claim.txid)
    return lie(server.name, 'txid', claim.txid, `the raw transaction it served for ${claim.txid} hashes to ${actual}`);
  const forged = amountLie(server.name, claim, tx);
  if (forged) return forged;
  if (!claim.confirmed) return { kind: 'unproven', txid: claim.txid, reason: 'not yet mined (SPV proves only transactions in blocks)' };
  const proof = await server.merkleProof(claim.txid);
  if (claim.blockHeight !== undefined && claim.blockHeight !== proof.blockHeight)
    return lie(
      server.name,
      'off-best-chain',
      claim.txid,
      `it says ${claim.txid} is at height ${claim.blockHeight}, its Merkle proof says height ${proof.blockHeight}`,
    );
  const bad = checkProof(server.name, headers, claim.txid, tx, proof, claim.blockHash);
  if (bad) return bad;
  const ours = headers.atHeight(proof.blockHeight)!;
  return {
    kind: 'proven',
    tx: { txid: claim.txid, raw, height: proof.blockHeight, block: hashToHex(ours.hash), pos: proof.pos, merkle: proof.merkle },
  };
}
