#!/usr/bin/env node
// Mines a genesis block for a network preset in config.json, the way lan's and devnet's were made:
// a coinbase at height 0 whose scriptSig carries the message, paying 50 coins to an all-zero key
// hash (unspendable, as in Bitcoin the genesis output is not in the UTXO set), time and bits
// given. Prints the block's hex for "genesis". Run after `npx tsc -p .`:
//   node scripts/make-genesis.mjs "mvb classroom genesis 2026-12-01" 1795391488 0x1e00ffff
import { assembleBlock, makeCoinbase, p2pkhOutput, solveHeader } from '../dist/src/shared/core/builder.js';
import { encodeBlock } from '../dist/src/shared/core/block.js';
import { hashToHex, toHex } from '../dist/src/shared/core/bytes.js';
import { headerHash } from '../dist/src/shared/core/header.js';

const [message, time, bits] = process.argv.slice(2);
if (!message || !time || !bits) {
  console.error('usage: make-genesis.mjs MESSAGE TIME BITS');
  process.exit(2);
}
const coinbase = makeCoinbase(0, [p2pkhOutput(50n * 100_000_000n, new Uint8Array(20))], new TextEncoder().encode(message));
const block = assembleBlock(new Uint8Array(32), [coinbase], Number(time), Number(bits));
const header = solveHeader(block.header);
if (!header) throw new Error('no nonce found');
console.log(toHex(encodeBlock({ header, txs: block.txs })));
console.error(`hash ${hashToHex(headerHash(header))} nonce ${header.nonce}`);
